"""Registration and distributed set-up shared by the tools."""
import argparse
import gc
import os
import os.path as osp
import sys
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.registry import init_default_scope

from wsss_mm.utils.config_check import RUNNER_KEYS, CfgOptionsAction, apply_cfg_options


def register_all_modules(init_scope: bool = True) -> None:
    """Import mmseg's and every wsss_mm sub-package so all components are registered.

    Args:
        init_scope: Also set ``'wsss_mm'`` as mmengine's default scope, so plain
            type names resolve in wsss_mm first, then in mmseg and mmengine.
    """
    from mmengine.registry import Registry

    import wsss_mm.registry as registries
    # a child registry only imports its own locations: import mmseg's too, so that
    # e.g. SegLocalVisualizer (mmseg.visualization) resolves from the wsss_mm scope
    for registry in vars(registries).values():
        if isinstance(registry, Registry) and registry.parent is not None:
            registry.parent.import_from_location()
    import wsss_mm.cam  # noqa: F401
    import wsss_mm.datasets  # noqa: F401
    import wsss_mm.evaluation  # noqa: F401
    import wsss_mm.models  # noqa: F401
    import wsss_mm.postprocess  # noqa: F401
    import wsss_mm.pseudo  # noqa: F401
    import wsss_mm.saliency  # noqa: F401
    if init_scope:
        init_default_scope('wsss_mm')


def init_cpu_distributed(cfg: Optional[Config], launcher: str) -> bool:
    """Start a gloo process group when launched distributed on a machine without CUDA.

    mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` for every
    launcher, which fails without CUDA. Creating the group here first makes the
    Runner skip its own initialisation; DDP then runs on CPU with
    ``device_ids=None``. With CUDA available this does nothing.

    Args:
        cfg: Config to update with a CPU DDP wrapper (``model_wrapper_cfg``);
            ``None`` for tools that only need the process group.
        launcher: ``'none'``, ``'pytorch'`` (torchrun) or ``'slurm'``.

    Returns:
        Whether a process group was created.
    """
    if launcher == 'none' or torch.cuda.is_available() or torch_dist.is_initialized():
        return False
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            raise RuntimeError('set MASTER_ADDR to the first node of the slurm job')
    elif launcher != 'pytorch':
        raise ValueError(f"launcher must be 'none', 'pytorch' or 'slurm', got {launcher!r}")
    torch_dist.init_process_group(backend='gloo')
    if cfg is not None:
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)
    return True


def release_distributed() -> None:
    """Destroy the process group, if any, before the interpreter exits.

    A gloo group left alive is torn down during interpreter shutdown, where its
    worker threads can abort a rank ("terminate called without an active
    exception") after the job itself has finished. The runner and its DDP
    wrapper sit in reference cycles that keep the group alive, so they are
    collected first (torch 2.14: about 1 in 5 two-rank runs aborted without this).
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()
        torch_dist.destroy_process_group()


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments tools/train.py and tools/test.py share."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and results go')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys, e.g. train_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_runner_config(args: argparse.Namespace) -> Config:
    """Register everything, read ``args.config``, check and apply --cfg-options, work dir,
    launcher.

    The work dir defaults to ``work_dirs/<config name>`` as in mmseg.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    apply_cfg_options(cfg, args.cfg_options, RUNNER_KEYS, osp.basename(sys.argv[0]))
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg
