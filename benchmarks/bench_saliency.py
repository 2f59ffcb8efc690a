"""Throughput of ErasingSaliencyGenerator (2 erasing steps) vs its detector alone.

The generator runs the detector on the image, erases the pixels above 0.7,
runs it again, erases the pixels above 0.8, runs it a third time and takes
the pixel-wise maximum (Xu et al., Eq. 3). Each row times both on the same
batch of VOC-sized synthetic images, so the ratio column is the cost of the
two erasing passes (3x the detector's time, plus the erasing and the max, is
the expectation). Detectors: the weight-free RobustBackgroundDetector (RBD),
DHSNet (224x224 network input) and U2Net u2netp (320x320), the networks
randomly initialized: their cost does not depend on the weights.

    python benchmarks/bench_saliency.py                     # short run
    python benchmarks/bench_saliency.py --device cuda --batch-sizes 1 4 16 --repeats 5
"""
import argparse
import tempfile
from typing import Dict

import torch
from _common import (VOC_SIZE, add_common_args, load_rgb, measure, print_report, setup,
                     synthetic_voc_images)
from torch import Tensor, nn

from wsss_mm.saliency import DHSNet, ErasingSaliencyGenerator, RobustBackgroundDetector, U2Net

MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)
DETECTORS = {
    'rbd': ('RobustBackgroundDetector', lambda: RobustBackgroundDetector(MEAN, STD)),
    'dhsnet': ('DHSNet (random init)', DHSNet),
    'u2netp': ('U2Net u2netp (random init)', lambda: U2Net('u2netp')),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--detectors', nargs='+', choices=tuple(DETECTORS),
                        default=list(DETECTORS))
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 4])
    parser.add_argument('--repeats', type=int, default=1, help='timed calls per row')
    parser.add_argument('--thresholds', type=float, nargs='+', default=[0.7, 0.8])
    parser.add_argument('--height', type=int, default=VOC_SIZE[0])
    parser.add_argument('--width', type=int, default=VOC_SIZE[1])
    return add_common_args(parser).parse_args()


def normalized_images(num_images: int, height: int, width: int, seed: int) -> Tensor:
    """Synthetic VOC-style images, mean/std normalized, ``[N, 3, H, W]``."""
    with tempfile.TemporaryDirectory() as root:
        voc, img_ids = synthetic_voc_images(root, num_images, (height, width), seed)
        images = load_rgb(voc, img_ids)
    batch = torch.stack([torch.from_numpy(image).permute(2, 0, 1) for image in images]).float()
    return (batch - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def main() -> None:
    args = parse_args()
    device = setup(args)
    images = normalized_images(max(args.batch_sizes), args.height, args.width,
                               args.seed).to(device)
    rows = []
    for key in args.detectors:
        name, build = DETECTORS[key]
        detector: nn.Module = build().to(device).eval()
        generator = ErasingSaliencyGenerator(detector, thresholds=args.thresholds).to(device)
        seconds: Dict[str, float] = {}
        for batch_size in args.batch_sizes:
            batch = images[:batch_size]
            # the untimed detector call also warms up the generator (same detector and shapes)
            with torch.no_grad():
                seconds['alone'], _ = measure(lambda: detector(batch), device, args.repeats,
                                              warmup=1)
            seconds['erasing'], _ = measure(lambda: generator(batch), device, args.repeats)
            rows.append((name, batch_size, f'{batch_size / seconds["alone"]:.2f}',
                         f'{batch_size / seconds["erasing"]:.2f}',
                         f'{seconds["erasing"] / seconds["alone"]:.2f}x'))

    print_report(
        f'Erasing saliency ({len(args.thresholds)} erasing steps, thresholds '
        f'{tuple(args.thresholds)}) vs the detector alone, {args.height}x{args.width} '
        f'synthetic images, {device.type}, {args.repeats} timed call(s) per cell', device,
        ('detector', 'batch', 'detector alone (img/s)', 'with erasing (img/s)',
         'time ratio'), rows,
        notes=[f'time ratio = erasing time / detector time; {len(args.thresholds) + 1} '
               'detector passes would give '
               f'{len(args.thresholds) + 1:.2f}x.'])


if __name__ == '__main__':
    main()
