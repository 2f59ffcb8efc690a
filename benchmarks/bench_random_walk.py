"""Time and peak memory per image of IRN's random walk (RandomWalkRefiner) at VOC size.

The inputs are made from synthetic VOC images (375 x 500 by default): the class
boundary at stride 4 is the blurred edge map of the ground-truth mask, the CAMs
are blurred one-hot masks of the image's classes with smooth noise, as a
classifier would give them. One row per setting: radius 5, beta 10,
2^exp_times steps (IRN's defaults: exp_times 8). Peak memory is
``torch.cuda.max_memory_allocated`` on CUDA and the growth of the process'
peak resident set (``ru_maxrss``) over the inputs on CPU, each setting in a
fresh process. The last column is what one dense N x N float32 matrix would
take (IRN builds several).

    python benchmarks/bench_random_walk.py                      # CPU, 4 images
    python benchmarks/bench_random_walk.py --device cuda --num-images 16
"""
import argparse
import multiprocessing
import os.path as osp
import resource
import tempfile
from typing import List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from _common import (VOC_SIZE, add_common_args, measure, print_report, setup,
                     synthetic_voc_images)
from PIL import Image

from wsss_mm.pseudo import RandomWalkRefiner

STRIDE = 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--exp-times', type=int, nargs='+', default=[8])
    parser.add_argument('--radius', type=int, default=5)
    parser.add_argument('--height', type=int, default=VOC_SIZE[0])
    parser.add_argument('--width', type=int, default=VOC_SIZE[1])
    return add_common_args(parser).parse_args()


def blur(x: torch.Tensor, size: int = 5) -> torch.Tensor:
    """Box blur of ``[C, h, w]`` maps (same size)."""
    return F.avg_pool2d(x[None], size, stride=1, padding=size // 2, count_include_pad=False)[0]


def make_inputs(num_images: int, size: Tuple[int, int], seed: int,
                device: torch.device) -> List[Tuple[torch.Tensor, np.ndarray, torch.Tensor]]:
    """``(cams [K, h, w], class ids [K], boundary [h, w])`` per synthetic image."""
    with tempfile.TemporaryDirectory() as root:
        voc, img_ids = synthetic_voc_images(root, num_images, size, seed)
        masks = [np.asarray(Image.open(osp.join(voc, 'SegmentationClass', f'{i}.png')))
                 for i in img_ids]
    gen = torch.Generator().manual_seed(seed)
    items = []
    for mask in masks:
        height, width = -(-size[0] // STRIDE), -(-size[1] // STRIDE)  # IRNet's grid
        rows = np.minimum(np.arange(height) * STRIDE + STRIDE // 2, size[0] - 1)
        cols = np.minimum(np.arange(width) * STRIDE + STRIDE // 2, size[1] - 1)
        grid = torch.from_numpy(mask[rows][:, cols].astype(np.int64))
        class_ids = np.array([c for c in np.unique(grid.numpy()) if 0 < c < 255])
        one_hot = torch.stack([(grid == c).float() for c in class_ids])
        noise = torch.rand(len(class_ids), *grid.shape, generator=gen)
        cams = blur(one_hot, 9) * (0.5 + 0.5 * blur(noise, 9))
        cams = cams / cams.amax(dim=(1, 2), keepdim=True)
        boundary = torch.zeros(grid.shape)
        boundary[1:] += (grid[1:, :] != grid[:-1, :]).float()
        boundary[:, 1:] += (grid[:, 1:] != grid[:, :-1]).float()
        boundary = blur(boundary.clamp(max=1)[None], 3)[0].clamp(max=1)
        items.append((cams.to(device), class_ids, boundary.to(device)))
    return items


def peak_rss_bytes() -> int:
    """The process' peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_row(args: argparse.Namespace,
                exp_times: int) -> Tuple[float, int, Tuple[int, int], float]:
    """Seconds per image, peak bytes, grid and mean classes of one setting, in this process."""
    device = setup(args)
    items = make_inputs(args.num_images, (args.height, args.width), args.seed, device)
    refiner = RandomWalkRefiner(radius=args.radius, exp_times=exp_times, stride=STRIDE)

    def run_all() -> None:
        for cams, class_ids, boundary in items:
            refiner(cams, class_ids, boundary, out_size=(args.height, args.width))

    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    else:
        before = peak_rss_bytes()
    seconds, _ = measure(run_all, device, warmup=1)
    peak = (torch.cuda.max_memory_allocated(device) - before if device.type == 'cuda' else
            peak_rss_bytes() - before)
    classes = sum(len(item[1]) for item in items) / len(items)
    return seconds / len(items), peak, tuple(items[0][2].shape), classes


def main() -> None:
    args = parse_args()
    device = setup(args)
    rows = []
    # one fresh process per setting, so that each peak is its own (RSS peaks never go down)
    context = multiprocessing.get_context('spawn')
    for exp_times in args.exp_times:
        with context.Pool(1) as pool:
            seconds, peak, grid, classes = pool.apply(measure_row, (args, exp_times))
        rows.append((args.radius, exp_times, 2**exp_times, f'{grid[0]}x{grid[1]}',
                     f'{seconds:.3f}', f'{peak / 2**20:.1f}',
                     f'{(grid[0] * grid[1])**2 * 4 / 2**20:.0f}'))
    print_report(
        f'IRN random walk per image, {args.height}x{args.width} images ({classes:.1f} classes '
        f'per image on average), boundary grid at stride {STRIDE}, {args.num_images} images',
        device, ('radius', 'exp_times', 'steps', 'grid', 's / image', 'peak MiB',
                 'one dense NxN MiB'), rows,
        notes=['Peak memory: CUDA max_memory_allocated above the inputs, or on CPU the growth '
               'of the peak RSS over the inputs, each setting in a fresh process.'])


if __name__ == '__main__':
    main()
