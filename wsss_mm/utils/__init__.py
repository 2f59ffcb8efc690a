"""Shared utilities: atomic I/O, checkpoint safety, registration and distributed set-up."""
from .checkpoint_compat import checkpoint_safe_globals, register_checkpoint_safe_globals
from .io import (atomic_write_bytes, encode_png, remove_stale_temp_files, save_json_atomic,
                 save_npz_atomic, save_png_atomic)

__all__ = [
    'checkpoint_safe_globals', 'register_checkpoint_safe_globals', 'atomic_write_bytes',
    'encode_png', 'remove_stale_temp_files', 'save_json_atomic', 'save_npz_atomic',
    'save_png_atomic'
]
