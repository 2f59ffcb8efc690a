"""Pseudo labels end to end: images/s of gen_pseudo's serial loop vs its pipeline.

Each job labels the same generated VOC-size images twice with
:class:`~wsss_mm.apis.pseudo_label_runner.PseudoLabelRunner` (what ``tools/gen_pseudo.py``
runs, all stages, files written): the serial loop (``--serial``) and the pipeline
(decoding workers, networks in the main process, ``--refine-workers`` refine processes).
Each run is a fresh process (timed: the run itself, after one untimed network pass to
warm up); the files of the two runs are compared byte for byte; peak memory is the
largest resident memory of the run's process tree (worker processes included, shared
pages counted per process), sampled every 0.1 s. Networks are randomly initialized
(checkpoint references removed: the cost does not depend on the weights).

Jobs: ``xu2019`` (VGG-16 Grad-CAM + DHSNet erasing saliency + Algorithm 1, the paper's
config), ``crf`` (CAM + DeepLab's dense CRF) and ``irn`` (CAM + IRNet boundaries + IRN's
random walk). ``crf`` and ``irn`` use the tiny ResNet-18 demo networks by default, so
on a CPU the refiners dominate as they do next to a GPU; ``--real-networks`` uses
IRN's ResNet-50 configs (for GPU runs).

    python benchmarks/bench_pseudo.py                                   # CPU, short
    python benchmarks/bench_pseudo.py --device cuda --real-networks --num-images 1000 \\
        --saliency-batch 4 --extrapolate
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import sys
import tempfile
from typing import Dict

# as tools/gen_pseudo.py, for the serial loop and the pipeline alike: OpenMP threads that wait
# sleep instead of spinning on the cores the refine workers need (before torch loads OpenMP)
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402
from _common import (RESULT_TAG, VOC_SIZE, PeakTreeMemory, add_common_args,  # noqa: E402
                     print_report, quiet_mmengine, result_from_subprocess, setup,
                     synchronize, synthetic_voc_images)
from mmengine.config import Config, ConfigDict  # noqa: E402

from wsss_mm.apis import PseudoLabelPipeline  # noqa: E402
from wsss_mm.apis.pseudo_label_runner import (STEPS, PseudoLabelRunner,  # noqa: E402
                                              default_loader_workers, default_refine_workers)
from wsss_mm.io import WorkDirLayout  # noqa: E402
from wsss_mm.registry import DATASETS  # noqa: E402
from wsss_mm.utils.setup_env import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: job -> (config on CPU, config with --real-networks)
JOBS = {
    'xu2019': ('configs/xu2019/pseudo_vgg16-gradcam_dhsnet-erasing_voc12aug.py', ) * 2,
    'crf': ('configs/demo/pseudo_tiny-r18-gradcam_crf_demo.py',
            'configs/irn/pseudo_r50-cam-crf_voc12aug.py'),
    'irn': ('configs/demo/pseudo_tiny-r18-gradcam_irn_demo.py',
            'configs/irn/pseudo_r50-cam-irnet_voc12aug.py'),
}
#: image counts the pipeline's time is extrapolated to (--extrapolate)
DATASET_SIZES = {'VOC train_aug': 10582, 'COCO-2014 train': 82081}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--jobs', nargs='+', choices=tuple(JOBS), default=list(JOBS))
    parser.add_argument('--num-images', type=int, default=8, help='images per run')
    parser.add_argument('--refine-workers', type=int, default=default_refine_workers())
    parser.add_argument('--loader-workers', type=int, default=default_loader_workers())
    parser.add_argument('--saliency-batch', type=int, default=1)
    parser.add_argument('--network-threads', type=int,
                        help="the pipeline's network threads (default: --threads, as serial)")
    parser.add_argument('--real-networks', action='store_true',
                        help="IRN's ResNet-50 configs for the crf and irn jobs")
    parser.add_argument('--no-serial', action='store_true',
                        help='time the pipeline only (no serial run, no file comparison)')
    parser.add_argument('--extrapolate', action='store_true',
                        help='add the hours the pipeline needs for VOC train_aug and COCO train')
    parser.add_argument('--height', type=int, default=VOC_SIZE[0])
    parser.add_argument('--width', type=int, default=VOC_SIZE[1])
    parser.add_argument('--worker', nargs=4, metavar=('JOB', 'MODE', 'VOC', 'OUT'),
                        help='internal: one run (MODE serial|pipeline) and print its result')
    return add_common_args(parser).parse_args()


def _drop_checkpoints(node) -> None:
    """Set every ``init_cfg`` that loads a checkpoint to None, in place."""
    if isinstance(node, (dict, ConfigDict)):
        for key, value in node.items():
            if key == 'init_cfg' and 'checkpoint' in str(value):
                node[key] = None
            else:
                _drop_checkpoints(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _drop_checkpoints(value)


def random_init_config(path: str) -> Config:
    """The config with every checkpoint reference removed (random weights, no downloads)."""
    cfg = Config.fromfile(path)
    _drop_checkpoints(cfg._cfg_dict)
    return cfg


def run_worker(args: argparse.Namespace, device: torch.device) -> Dict:
    """One timed run of a job (serial or pipeline) into OUT; its speed and memory."""
    job, mode, voc, out = args.worker
    register_all_modules()
    quiet_mmengine()
    cfg = random_init_config(osp.join(REPO, JOBS[job][args.real_networks]))
    dataset = DATASETS.build(dict(cfg.pseudo_dataset, data_root=voc,
                                  ann_file='ImageSets/Segmentation/train.txt'))
    torch.manual_seed(args.seed)  # the same random networks in both runs
    pipeline = PseudoLabelPipeline.from_config(cfg, None, dataset.metainfo['label_ids'],
                                               device=args.device)
    warm = dataset[0]  # untimed: allocator, kernel selection
    pipeline.attention(warm)
    if pipeline.refiner.cue:
        pipeline.cues([warm] * args.saliency_batch)
    synchronize(device)
    runner = PseudoLabelRunner(pipeline, dataset, WorkDirLayout(out), ('cam', 'cue', 'refine'),
                               refine_workers=0 if mode == 'serial' else args.refine_workers,
                               loader_workers=args.loader_workers,
                               saliency_batch=args.saliency_batch,
                               network_threads=args.network_threads)
    with PeakTreeMemory() as memory:
        summary = runner.run(list(range(len(dataset))))
    return dict(images_per_second=summary.images_per_second, busy=summary.busy,
                seconds_per_image={step: summary.seconds[step] / summary.counts[step]
                                   for step in summary.counts},
                peak_mib=memory.peak / 2**20, failures=len(summary.failures))


def digest(folder: str) -> Dict[str, str]:
    """sha256 of every file under ``folder``."""
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = osp.join(root, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def measure_in_subprocess(args: argparse.Namespace, job: str, mode: str, voc: str,
                          out: str) -> Dict:
    command = [sys.executable, osp.abspath(__file__), '--worker', job, mode, voc, out,
               '--refine-workers', str(args.refine_workers), '--loader-workers',
               str(args.loader_workers), '--saliency-batch', str(args.saliency_batch),
               '--device', args.device, '--threads', str(args.threads), '--seed',
               str(args.seed)] + (['--real-networks'] if args.real_networks else []) + (
                   ['--network-threads', str(args.network_threads)] if args.network_threads
                   else [])
    return result_from_subprocess(command)


def _steps(values: Dict[str, float], fmt: str) -> str:
    return ' / '.join(fmt.format(values[step]) if step in values else '-' for step in STEPS)


def main() -> None:
    args = parse_args()
    device = setup(args)
    if args.worker:
        print(RESULT_TAG + json.dumps(run_worker(args, device)), flush=True)
        return
    rows = []
    with tempfile.TemporaryDirectory() as root:
        voc, _ = synthetic_voc_images(root, args.num_images, (args.height, args.width),
                                      args.seed)
        for job in args.jobs:
            modes = ('pipeline', ) if args.no_serial else ('serial', 'pipeline')
            results = {mode: measure_in_subprocess(args, job, mode, voc,
                                                   osp.join(root, f'{job}-{mode}'))
                       for mode in modes}
            pipe = results['pipeline']
            row = [job, osp.basename(JOBS[job][args.real_networks])]
            if args.no_serial:
                row += ['-', f'{pipe["images_per_second"]:.2f}', '-', '-', '-']
            else:
                serial = results['serial']
                same = digest(osp.join(root, f'{job}-serial')) == digest(
                    osp.join(root, f'{job}-pipeline'))
                row += [f'{serial["images_per_second"]:.2f}', f'{pipe["images_per_second"]:.2f}',
                        f'{pipe["images_per_second"] / serial["images_per_second"]:.2f}x',
                        'yes' if same else 'NO',
                        _steps(serial['seconds_per_image'], '{:.3f}')]
            row += [_steps(pipe['busy'], '{:.2f}'),
                    ('-' if args.no_serial else f'{results["serial"]["peak_mib"]:.0f}'),
                    f'{pipe["peak_mib"]:.0f}']
            if args.extrapolate:
                row += [f'{count / pipe["images_per_second"] / 3600:.2f}'
                        for count in DATASET_SIZES.values()]
            rows.append(row)
    headers = ['job', 'config', 'serial img/s', 'pipeline img/s', 'speed-up', 'identical files',
               'serial s/img ' + ' / '.join(STEPS), 'pipeline busy ' + ' / '.join(STEPS),
               'serial peak MiB', 'pipeline peak MiB']
    if args.extrapolate:
        headers += [f'pipeline h for {name} ({count})' for name, count in DATASET_SIZES.items()]
    print_report(
        f'gen_pseudo end to end, serial loop vs pipeline ({args.refine_workers} refine workers, '
        f'{args.loader_workers} loader workers, saliency batch {args.saliency_batch}), '
        f'{args.num_images} synthetic {args.height}x{args.width} images, networks on '
        f'{device.type}', device, headers, rows,
        notes=['Busy: share of the wall time each step kept its processes busy (refine over '
               'all refine workers). Peak: resident memory of the process tree, sampled.'])


if __name__ == '__main__':
    main()
