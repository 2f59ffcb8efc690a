"""Throughput of DenseCRF through apply_crf_parallel with 1 vs N worker processes.

The CRF (DeepLab's defaults, 10 mean-field iterations) refines 21-class
probabilities of VOC-sized synthetic images; the probabilities are a softmax
of the ground-truth mask's one-hot logits plus smooth noise, like a
segmentor's output. ``apply_crf_parallel`` returns label maps
(``to_labels=True``, as the test-time metric uses it); the N-worker time
includes starting the worker pool and pickling the inputs, as in real use.
pydensecrf runs on the CPU only: ``--device cuda`` only makes the inputs on
the GPU and changes nothing in the timings.

    python benchmarks/bench_crf.py                          # short run
    python benchmarks/bench_crf.py --num-images 32 --workers 2 4 8
"""
import argparse
import os
import os.path as osp
import tempfile
from typing import List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from _common import (VOC_SIZE, add_common_args, load_rgb, measure, print_report, setup,
                     synthetic_voc_images)
from PIL import Image

from wsss_mm.postprocess import DenseCRF, apply_crf_parallel

NUM_CLASSES = 21


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=8)
    parser.add_argument('--workers', type=int, nargs='+', default=[os.cpu_count() or 1],
                        help='worker counts compared with 1 worker')
    parser.add_argument('--iterations', type=int, default=10, help='mean-field iterations')
    parser.add_argument('--height', type=int, default=VOC_SIZE[0])
    parser.add_argument('--width', type=int, default=VOC_SIZE[1])
    return add_common_args(parser).parse_args()


def segmentor_like_probs(mask: np.ndarray, device: torch.device) -> np.ndarray:
    """Softmax of ``4 * one-hot(mask)`` plus noise smooth at 1/8 resolution, C×H×W float32."""
    labels = torch.from_numpy(mask.astype(np.int64)).to(device)
    labels[labels >= NUM_CLASSES] = 0
    height, width = labels.shape
    noise = torch.randn(1, NUM_CLASSES, height // 8 + 1, width // 8 + 1, device=device)
    noise = F.interpolate(noise, size=(height, width), mode='bilinear', align_corners=False)[0]
    logits = 4 * F.one_hot(labels, NUM_CLASSES).permute(2, 0, 1).float() + 2 * noise
    return logits.softmax(dim=0).cpu().numpy()


def make_items(num_images: int, size: Tuple[int, int], seed: int,
               device: torch.device) -> List[Tuple[np.ndarray, np.ndarray]]:
    """``(image, probs)`` pairs of synthetic VOC images."""
    with tempfile.TemporaryDirectory() as root:
        voc, img_ids = synthetic_voc_images(root, num_images, size, seed)
        images = load_rgb(voc, img_ids)
        masks = [np.asarray(Image.open(osp.join(voc, 'SegmentationClass', f'{img_id}.png')))
                 for img_id in img_ids]
    return [(image, segmentor_like_probs(mask, device)) for image, mask in zip(images, masks)]


def main() -> None:
    args = parse_args()
    device = setup(args)
    items = make_items(args.num_images, (args.height, args.width), args.seed, device)
    crf = DenseCRF(iterations=args.iterations)
    crf(*items[0])  # warm-up (page-in of the library) outside the timings

    def run(nproc: int) -> List[np.ndarray]:
        return apply_crf_parallel(crf, items, nproc=nproc, to_labels=True)

    single_s, single = measure(lambda: run(1), device)
    rows = [(1, f'{args.num_images / single_s:.3f}', '1.00x', 'reference')]
    for nproc in args.workers:
        seconds, labels = measure(lambda: run(nproc), device)
        same = all(np.array_equal(a, b) for a, b in zip(single, labels))
        rows.append((nproc, f'{args.num_images / seconds:.3f}', f'{single_s / seconds:.2f}x',
                     'yes' if same else 'NO'))

    print_report(
        f'DenseCRF ({NUM_CLASSES} classes, {args.iterations} iterations) via '
        f'apply_crf_parallel, {args.height}x{args.width} synthetic images, '
        f'{args.num_images} images per row', torch.device('cpu'),
        ('worker processes', 'img/s', 'speed-up', 'labels equal to 1 worker'), rows,
        notes=['pydensecrf runs on the CPU; the machine line is the one that matters.'])


if __name__ == '__main__':
    main()
