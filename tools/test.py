"""Evaluate a checkpoint with mmengine's Runner (the config's test_dataloader/test_evaluator)."""
import argparse
import json

from mmengine.dist import is_main_process
from mmengine.runner import Runner

from wsss_mm.utils.checkpoint_fit import check_checkpoint_fits
from wsss_mm.utils.io import atomic_write_bytes
from wsss_mm.utils.setup_env import (add_runner_arguments, init_cpu_distributed,
                                     load_runner_config, release_distributed)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument('--crf', action='store_true',
                        help='also score after dense CRF (CRFIoUMetric: mIoU and mIoU_crf)')
    parser.add_argument('--crf-nproc', type=int, default=4, help='CRF worker processes')
    parser.add_argument('--format-only', action='store_true',
                        help='write VOC test-server PNGs instead of scoring, reading no masks '
                        '(<out-dir>/results/VOC2012/Segmentation/comp6_test_cls/ + '
                        '<out-dir>/results.tar.gz)')
    parser.add_argument('--out-dir', help='folder of --format-only results')
    add_runner_arguments(parser)
    return parser.parse_args()


def checked_evaluator(evaluator: dict) -> dict:
    """The config's evaluator, with mmseg's ``IoUMetric`` as ``CRFIoUMetric(crf=None)``:
    the same scores, but a GT mask value outside the classes and 255 is refused
    (naming the mask) instead of being dropped like an ignored pixel."""
    if evaluator.get('type') in ('IoUMetric', 'mmseg.IoUMetric'):
        return dict(evaluator, type='CRFIoUMetric', crf=None)
    return evaluator


def main() -> None:
    args = parse_args()
    cfg = load_runner_config(args)
    cfg.test_evaluator = checked_evaluator(cfg.test_evaluator)
    if args.crf or args.format_only:
        crf = cfg.test_evaluator.get('crf') or dict(type='DenseCRF')  # the config's preset
        evaluator = dict(type='CRFIoUMetric', iou_metrics=['mIoU'], nproc=args.crf_nproc,
                         crf=crf if args.crf else None)
        if args.format_only:
            if not args.out_dir:
                raise SystemExit('--format-only needs --out-dir')
            evaluator.update(format_only=True, output_dir=args.out_dir)
            # a test split has no masks: load none (PNGs + tar.gz, no metric)
            dataset = cfg.test_dataloader.dataset
            dataset.pipeline = [t for t in dataset.pipeline if t['type'] != 'LoadAnnotations']
        cfg.test_evaluator = evaluator
    cfg.load_from = args.checkpoint
    cfg.resume = False
    init_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    try:  # mmengine loads non-strictly: a checkpoint that does not fit would test a random model
        check_checkpoint_fits(runner.model, args.checkpoint)
    except ValueError as err:
        raise SystemExit(f'test.py: {err}') from err
    metrics = runner.test()
    if args.out and is_main_process() and metrics:
        payload = json.dumps({k: float(v) for k, v in metrics.items()}, indent=2)
        atomic_write_bytes(args.out, payload.encode('utf-8'))


if __name__ == '__main__':
    try:
        main()
    finally:  # a live gloo group can abort a rank at interpreter exit
        release_distributed()
