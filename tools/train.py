"""Train a wsss_mm model (classifier, saliency detector or segmentor) with mmengine's Runner."""
import argparse

from mmengine.runner import Runner

from wsss_mm.utils.setup_env import (add_runner_arguments, init_cpu_distributed,
                                     load_runner_config, release_distributed)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from the latest checkpoint in work_dir, or from a path')
    parser.add_argument('--amp', action='store_true', help='mixed precision training')
    add_runner_arguments(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_runner_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    init_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    try:
        main()
    finally:  # a live gloo group can abort a rank at interpreter exit
        release_distributed()
