"""Throughput of GradCAMGenerator vs pytorch-grad-cam's GradCAM (same VGG-16, same maps).

pytorch-grad-cam needs one forward and one full backward (parameter gradients
included) per class; GradCAMGenerator does one forward and one batched backward
from the scores to conv5_3 for all classes of an image. Both run on the same
randomly initialized torchvision VGG-16 with a 20-way last layer, VOC-sized
inputs, one image per call. The table also gives the largest difference of the
maps after the same per-map min-max scaling pytorch-grad-cam applies.

    python benchmarks/bench_gradcam.py                      # short run
    python benchmarks/bench_gradcam.py --num-images 20 --classes 1 2 3 4
    python benchmarks/bench_gradcam.py --device cuda --num-images 20
"""
import argparse
from typing import List

import torch
import torchvision
from _common import add_common_args, measure, print_report, setup
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import Tensor, nn

from wsss_mm.cam import GradCAMGenerator

NUM_CLASSES = 20
TARGET_LAYER = 'features.29'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=2, help='images per setting')
    parser.add_argument('--classes', type=int, nargs='+', default=[1, 4],
                        help='numbers of present classes per image to measure')
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    return add_common_args(parser).parse_args()


def min_max(maps: Tensor) -> Tensor:
    """Per-map (x - min) / (max - min), constant maps -> 0 (pytorch-grad-cam's scaling)."""
    low = maps.amin(dim=(-2, -1), keepdim=True)
    span = maps.amax(dim=(-2, -1), keepdim=True) - low
    return torch.where(span > 0, (maps - low) / torch.where(span > 0, span, 1), 0)


def run_ours(generator: GradCAMGenerator, images: Tensor, labels: Tensor) -> None:
    """Compute the maps of all present classes, image by image (timed by the caller)."""
    for image, label in zip(images, labels):
        generator(image[None], label[None])


def run_reference(cam: GradCAM, images: Tensor, labels: Tensor) -> List[Tensor]:
    """pytorch-grad-cam, one call per class; its maps [K, H, W] per image."""
    maps = []
    for image, label in zip(images, labels):
        classes = label.nonzero().flatten().tolist()
        maps.append(
            torch.stack([
                torch.from_numpy(cam(image[None], [ClassifierOutputTarget(c)])[0]) for c in classes
            ]))
    return maps


def main() -> None:
    args = parse_args()
    device = setup(args)
    model = torchvision.models.vgg16(weights=None)
    model.classifier[6] = nn.Linear(4096, NUM_CLASSES)
    model.to(device).eval()
    generator = GradCAMGenerator(model, TARGET_LAYER)
    images = torch.randn(args.num_images, 3, args.height, args.width).to(device)

    rows = []
    with GradCAM(model=model, target_layers=[model.get_submodule(TARGET_LAYER)]) as reference:
        # warm-up (allocator, kernels) outside the timings
        warm = torch.zeros(1, NUM_CLASSES, device=device)
        warm[0, 0] = 1
        generator(images[:1], warm)
        reference(images[:1], [ClassifierOutputTarget(0)])
        for num_classes in args.classes:
            labels = torch.zeros(args.num_images, NUM_CLASSES, device=device)
            for row in labels:
                row[torch.randperm(NUM_CLASSES)[:num_classes]] = 1
            ours_s, _ = measure(lambda: run_ours(generator, images, labels), device)
            ref_s, ref_maps = measure(lambda: run_reference(reference, images, labels), device)
            diff = 0.0
            for image, label, expected in zip(images, labels, ref_maps):
                raw = generator.raw_maps(image[None], label[None])[0, label > 0].cpu()
                diff = max(diff, (min_max(raw) - expected).abs().max().item())
            rows.append((num_classes, f'{args.num_images / ours_s:.3f}',
                         f'{args.num_images / ref_s:.3f}', f'{ref_s / ours_s:.1f}x',
                         f'{diff:.1e}'))

    print_report(
        f'Grad-CAM on VGG-16 ({NUM_CLASSES}-way), {args.height}x{args.width} inputs, '
        f'{device.type}, {args.num_images} images per row', device,
        ('classes / image', 'GradCAMGenerator (img/s)', 'pytorch-grad-cam (img/s)', 'speed-up',
         'max abs diff'), rows)


if __name__ == '__main__':
    main()
