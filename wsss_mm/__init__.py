"""wsss_mm: weakly supervised semantic segmentation from image-level labels on OpenMMLab."""
from .utils.checkpoint_compat import register_checkpoint_safe_globals
from .version import __version__

# mmengine 0.10.7 calls torch.load without weights_only; on torch>=2.6 that means
# weights_only=True and resuming fails. Allow-list exactly what its files need.
register_checkpoint_safe_globals()

__all__ = ['__version__', 'register_checkpoint_safe_globals']
