"""Safe checkpoint loading for mmengine 0.10.7 on torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7
calls ``torch.load`` without the argument, so ``Runner(resume=True)`` fails on
its own files (``Unsupported global: ...HistoryBuffer``). Two measured causes:

* the message hub stores :class:`~mmengine.logging.HistoryBuffer` objects
  (their numpy history arrays need numpy's array reconstruction globals);
* ``HistoryBuffer.__getstate__`` pickles its class-level table of statistics
  methods (``HistoryBuffer.min`` ...), which would need ``builtins.getattr``,
  and allow-listing ``getattr`` would hollow out ``weights_only`` entirely.

The fix changes what gets saved (a buffer's state without the method table,
which is a class attribute rebuilt on load anyway) and allow-lists exactly the
remaining globals. ``weights_only`` stays on for every load.
"""
from typing import Any, Dict, List

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def _history_buffer_getstate(self: HistoryBuffer) -> Dict[str, Any]:
    """State of a buffer without the (class-level) statistics method table."""
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    return state


def checkpoint_safe_globals() -> List[Any]:
    """The globals an mmengine/mmseg training checkpoint needs beyond tensors."""
    # numpy >= 2 moved the pickled helpers to numpy._core (numpy.core warns on access)
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    float_dtypes = [type(np.dtype(name)) for name in ('float16', 'float32', 'float64')]
    int_dtypes = [type(np.dtype(name)) for name in ('int32', 'int64', 'uint8', 'bool')]
    return [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        *float_dtypes,
        *int_dtypes,
    ]


def register_checkpoint_safe_globals() -> None:
    """Patch HistoryBuffer pickling and allow-list the checkpoint globals (idempotent)."""
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(checkpoint_safe_globals())
