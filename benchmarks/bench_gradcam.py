"""Throughput of the wsss_mm CAM family vs pytorch-grad-cam (same VGG-16, same maps).

For every method, both libraries compute the maps of all present classes of
each image, one image per call, on the same randomly initialized torchvision
VGG-16 with a 20-way last layer and VOC-sized inputs. pytorch-grad-cam needs
one call per class: one forward and one full backward (parameter gradients
included) for the gradient methods, one forward per channel (Score-CAM,
Ablation-CAM) or per class. wsss_mm does one forward and one batched backward
for all classes; Score-CAM's masked inputs give all classes' scores at once
and Ablation-CAM runs only the layers after the target per ablated channel.
The table gives img/s of both, their ratio (same run) and the largest
difference of the maps after pytorch-grad-cam's per-map min-max scaling.
Eigen-CAM's principal component has an arbitrary sign (LAPACK-dependent);
pytorch-grad-cam's SVD is given wsss_mm's sign convention here so that the
difference measures everything else.

    python benchmarks/bench_gradcam.py                                  # all methods, short
    python benchmarks/bench_gradcam.py --methods GradCAM LayerCAM --repeats 3
    python benchmarks/bench_gradcam.py --device cuda --num-images 8 --repeats 3
"""
import argparse
from typing import Callable, Dict, List, Tuple

import numpy as np
import pytorch_grad_cam
import torch
import torchvision
from _common import add_common_args, measure, print_report, setup
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import Tensor, nn

from wsss_mm import cam
from wsss_mm.cam import min_max_maps

NUM_CLASSES = 20
TARGET_LAYER = 'features.29'
LAYERCAM_LAYERS = ('features.22', 'features.29')  # ReLUs after conv4_3 and conv5_3
GRADIENT_METHODS = ('GradCAM', 'GradCAMPlusPlus', 'XGradCAM', 'HiResCAM', 'GradCAMElementWise',
                    'LayerCAM', 'LayerCAM-fusion', 'EigenGradCAM')
PERTURBATION_METHODS = ('ScoreCAM', 'AblationCAM')
METHODS = GRADIENT_METHODS + PERTURBATION_METHODS + ('EigenCAM', )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS,
                        help='pytorch-grad-cam names; LayerCAM-fusion = LayerCAM on conv4_3 + '
                        'conv5_3 (mean fusion, the multi-layer rule both libraries share)')
    parser.add_argument('--num-images', type=int, default=1, help='images per setting')
    parser.add_argument('--classes', type=int, nargs='+', default=[1, 4],
                        help='numbers of present classes per image to measure')
    parser.add_argument('--repeats', type=int, default=1, help='timed repetitions per cell')
    parser.add_argument('--batch-size', type=int, default=32,
                        help='masked inputs / ablated copies per forward (both libraries)')
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    return add_common_args(parser).parse_args()


def layers_of(method: str) -> Tuple[str, ...]:
    """The target layer names of a table row."""
    return LAYERCAM_LAYERS if method == 'LayerCAM-fusion' else (TARGET_LAYER, )


def build_ours(method: str, model: nn.Module, batch_size: int) -> cam.BaseCAMGenerator:
    """The wsss_mm generator of one table row."""
    layers = layers_of(method)
    kwargs: Dict[str, object] = {}
    if method == 'LayerCAM-fusion':
        kwargs['fusion'] = 'mean'
    if method in PERTURBATION_METHODS:
        kwargs['batch_size'] = batch_size
    name = method.split('-')[0]
    return getattr(cam, f'{name}Generator')(model, list(layers) if len(layers) > 1 else layers[0],
                                            **kwargs)


def build_reference(method: str, model: nn.Module, batch_size: int):
    """The pytorch-grad-cam object of one table row (its hooks stay until release)."""
    targets = [model.get_submodule(layer) for layer in layers_of(method)]
    if method == 'AblationCAM':
        return pytorch_grad_cam.AblationCAM(model, targets, batch_size=batch_size)
    reference = getattr(pytorch_grad_cam, method.split('-')[0])(model=model, target_layers=targets)
    if method == 'ScoreCAM':
        reference.batch_size = batch_size
    return reference


def run_ours(generator: cam.BaseCAMGenerator, images: Tensor, labels: Tensor) -> None:
    """Compute the maps of all present classes, image by image (timed by the caller)."""
    for image, label in zip(images, labels):
        generator(image[None], label[None])


def run_reference(reference, images: Tensor, labels: Tensor) -> List[Tensor]:
    """pytorch-grad-cam, one call per class; its maps [K, H, W] per image."""
    maps = []
    for image, label in zip(images, labels):
        classes = label.nonzero().flatten().tolist()
        maps.append(
            torch.stack([
                torch.from_numpy(reference(image[None], [ClassifierOutputTarget(c)])[0])
                for c in classes
            ]))
    return maps


def svd_with_positive_sum(svd: Callable) -> Callable:
    """numpy's SVD with the first right singular vector's sign chosen as wsss_mm does."""

    def signed(a, *args, **kwargs):
        u, s, vt = svd(a, *args, **kwargs)
        if vt[0].sum() < 0:
            u, vt = u.copy(), vt.copy()
            u[:, 0] *= -1
            vt[0] *= -1
        return u, s, vt

    return signed


def main() -> None:
    args = parse_args()
    device = setup(args)
    np.linalg.svd = svd_with_positive_sum(np.linalg.svd)
    model = torchvision.models.vgg16(weights=None)
    model.classifier[6] = nn.Linear(4096, NUM_CLASSES)
    model.to(device).eval()
    images = torch.randn(args.num_images, 3, args.height, args.width).to(device)
    label_sets = {}
    for num_classes in args.classes:
        labels = torch.zeros(args.num_images, NUM_CLASSES, device=device)
        for row in labels:
            row[torch.randperm(NUM_CLASSES)[:num_classes]] = 1
        label_sets[num_classes] = labels

    rows = []
    for method in args.methods:
        # ours first, then the reference: its hooks would otherwise also run in our passes
        ours = build_ours(method, model, args.batch_size)
        warm = label_sets[args.classes[0]][:1]
        ours(images[:1], warm)  # warm-up (allocator, kernels) outside the timings
        ours_s, ours_maps = {}, {}
        for num_classes, labels in label_sets.items():
            ours_s[num_classes], _ = measure(lambda: run_ours(ours, images, labels), device,
                                             args.repeats)
            ours_maps[num_classes] = [
                ours.raw_maps(image[None], label[None])[0, label > 0].cpu()
                for image, label in zip(images, labels)
            ]
        reference = build_reference(method, model, args.batch_size)
        run_reference(reference, images[:1], warm)
        for num_classes, labels in label_sets.items():
            ref_s, ref_maps = measure(lambda: run_reference(reference, images, labels), device,
                                      args.repeats)
            diff = max((min_max_maps(raw) - expected).abs().max().item()
                       for raw, expected in zip(ours_maps[num_classes], ref_maps))
            rows.append((method, num_classes, f'{args.num_images / ours_s[num_classes]:.3f}',
                         f'{args.num_images / ref_s:.3f}', f'{ref_s / ours_s[num_classes]:.1f}x',
                         f'{diff:.1e}'))
        reference.activations_and_grads.release()
        model.zero_grad(set_to_none=True)

    print_report(
        f'CAM methods on VGG-16 ({NUM_CLASSES}-way, target {TARGET_LAYER}), '
        f'{args.height}x{args.width} inputs, {device.type}, {args.num_images} image(s) per row, '
        f'{args.repeats} repeat(s), batch size {args.batch_size} for Score-/Ablation-CAM', device,
        ('method', 'classes / image', 'wsss_mm (img/s)', 'pytorch-grad-cam (img/s)', 'speed-up',
         'max abs diff'), rows,
        notes=[f'LayerCAM-fusion: target layers {", ".join(LAYERCAM_LAYERS)}, mean fusion.'])


if __name__ == '__main__':
    main()
