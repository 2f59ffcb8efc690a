"""Training speed and peak memory of MSCDeepLabV2 vs mmseg's DeepLabV3 (both R-101).

One training iteration is ``model.train_step`` (data preprocessing, forward,
losses, backward, SGD step with momentum) on a random batch of ``crop x crop``
images and labels. Models, all randomly initialized (nothing downloads) with
21 classes and frozen BatchNorm (DeepLab-v2 trains that way; mmseg's ASPPHead
cannot train its image-pool BatchNorm at batch 1):

* MSCDeepLabV2, scales (1.0, 0.75, 0.5): the paper's segmentor
  (``configs/_base_/models/deeplabv2_r101_aspp.py``, 4 cross-entropy terms);
* MSCDeepLabV2, scale 1.0 only: plain DeepLab-v2;
* DeepLabV3 R-101-D8 from ``mmseg::_base_/models/deeplabv3_r50-d8.py`` with
  depth 101 (ResNetV1c, ASPPHead and its auxiliary FCNHead).

Each model runs in a fresh subprocess. Peak memory: on CUDA,
``torch.cuda.max_memory_allocated`` over the iterations (weights, gradients,
optimizer state and activations); on CPU, the growth of the process's peak
resident set size (``ru_maxrss``) during the iterations over its high-water
mark once the model, optimizer and batch were built, i.e. activations,
gradients, momentum buffers and allocator caches, not the weights.

    python benchmarks/bench_segmentor.py                    # short run (CPU: minutes)
    python benchmarks/bench_segmentor.py --device cuda --batch-size 10 --warmup 5 --iters 20
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
from typing import Dict

import torch
import torch.nn.functional as F
from _common import add_common_args, measure, print_report, quiet_mmengine, setup
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from wsss_mm.registry import MODELS
from wsss_mm.utils.setup_env import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NUM_CLASSES = 21
MODEL_NAMES = {
    'msc': 'MSCDeepLabV2 R-101, scales (1.0, 0.75, 0.5)',
    'single': 'MSCDeepLabV2 R-101, scale 1.0',
    'deeplabv3': 'mmseg DeepLabV3 R-101-D8',
}
RESULT_TAG = 'BENCH_RESULT '


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', choices=tuple(MODEL_NAMES),
                        default=list(MODEL_NAMES))
    parser.add_argument('--crop', type=int, default=321)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations')
    parser.add_argument('--iters', type=int, default=3, help='timed iterations')
    parser.add_argument('--worker', choices=tuple(MODEL_NAMES),
                        help='internal: measure this one model and print its result')
    return add_common_args(parser).parse_args()


def model_config(name: str, crop: int) -> Config:
    """The model config of ``name``: 21 classes, no checkpoints, frozen BatchNorm."""
    size = dict(size=(crop, crop))
    if name in ('msc', 'single'):
        cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/deeplabv2_r101_aspp.py'))
        scales = (1.0, 0.75, 0.5) if name == 'msc' else (1.0, )
        cfg.merge_from_dict(dict(model=dict(scales=scales, data_preprocessor=size,
                                            backbone=dict(init_cfg=None))))
        return cfg.model
    frozen_bn = dict(type='BN', requires_grad=False)
    cfg = get_config('mmseg::_base_/models/deeplabv3_r50-d8.py')
    cfg.merge_from_dict(
        dict(model=dict(
            pretrained=None, data_preprocessor=size,
            backbone=dict(depth=101, norm_cfg=frozen_bn, norm_eval=True),
            decode_head=dict(num_classes=NUM_CLASSES, norm_cfg=frozen_bn),
            auxiliary_head=dict(num_classes=NUM_CLASSES, norm_cfg=frozen_bn))))
    return cfg.model


def random_batch(batch_size: int, crop: int) -> dict:
    """uint8 images and blocky labels 0..20 as a dataloader would give them."""
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, crop, crop), dtype=torch.uint8))
        coarse = torch.randint(0, NUM_CLASSES, (1, 1, crop // 32 + 1, crop // 32 + 1))
        labels = F.interpolate(coarse.float(), size=(crop, crop), mode='nearest')[0].long()
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels))
        sample.set_metainfo(dict(img_shape=(crop, crop), ori_shape=(crop, crop)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def freeze_batchnorm(model: nn.Module) -> None:
    """Put every BatchNorm in eval mode (running statistics, as the backbones' norm_eval)."""
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.eval()


def run_worker(args: argparse.Namespace, device: torch.device) -> Dict[str, float]:
    """Build one model, train it ``warmup + iters`` iterations, return speed and memory."""
    register_all_modules()
    quiet_mmengine()
    model = MODELS.build(model_config(args.worker, args.crop))
    model.init_weights()
    model.to(device).train()
    freeze_batchnorm(model)
    optim_wrapper = build_optim_wrapper(
        model, dict(type='OptimWrapper',
                    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4)))
    batch = random_batch(args.batch_size, args.crop)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    rss_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, _ = measure(lambda: model.train_step(batch, optim_wrapper), device, args.iters,
                         args.warmup)
    if device.type == 'cuda':
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kib) / 1024
    return dict(seconds=seconds, peak_mib=peak_mib,
                params_m=sum(p.numel() for p in model.parameters()) / 1e6)


def measure_in_subprocess(name: str, args: argparse.Namespace) -> Dict[str, float]:
    """Run this script as ``--worker name`` in a fresh process and read its result."""
    command = [
        sys.executable, osp.abspath(__file__), '--worker', name, '--crop', str(args.crop),
        '--batch-size', str(args.batch_size), '--warmup', str(args.warmup), '--iters',
        str(args.iters), '--device', args.device, '--threads', str(args.threads), '--seed',
        str(args.seed)
    ]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    raise RuntimeError(f'no result from the {name} worker; its output:\n{done.stdout}')


def main() -> None:
    args = parse_args()
    device = setup(args)
    if args.worker:
        print(RESULT_TAG + json.dumps(run_worker(args, device)), flush=True)
        return
    results = {name: measure_in_subprocess(name, args) for name in args.models}
    reference = results.get('deeplabv3')
    rows = []
    for name, result in results.items():
        versus = ('-', '-') if reference is None else (
            f'{result["seconds"] / reference["seconds"]:.2f}x',
            f'{result["peak_mib"] / reference["peak_mib"]:.2f}x')
        rows.append((MODEL_NAMES[name], f'{result["params_m"]:.1f}',
                     f'{1 / result["seconds"]:.3f}', f'{result["seconds"]:.2f}',
                     f'{result["peak_mib"]:.0f}', *versus))
    memory = ('peak CUDA memory allocated' if device.type == 'cuda' else 'peak RSS growth')
    print_report(
        f'Segmentor training, crop {args.crop}x{args.crop}, batch {args.batch_size}, '
        f'{device.type}, {args.warmup} warm-up + {args.iters} timed iterations per model', device,
        ('model', 'params (M)', 'iter/s', 's/iter', f'{memory} (MiB)', 'time vs DeepLabV3',
         'memory vs DeepLabV3'), rows)


if __name__ == '__main__':
    main()
