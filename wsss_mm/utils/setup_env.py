"""Registration and distributed set-up shared by the tools."""
import os
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.registry import init_default_scope


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
