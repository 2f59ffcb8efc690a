"""Safe checkpoint loading for mmengine 0.10.7 on every torch >= 2.4.

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
remaining globals.

``weights_only`` stays on for every load, on every torch the project allows
(>= 2.4, which has ``add_safe_globals``): torch < 2.6 defaults to
``weights_only=False``, and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns the
default off on any torch. So ``torch.load`` itself is wrapped to pass
``weights_only=True`` explicitly (which overrides both); mmengine, torch.hub
and torchvision look ``torch.load`` up when they call it, so all of them load
through the wrapper.
"""
import functools
from typing import Any, Callable, Dict, List

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


def _weights_only(load: Callable) -> Callable:
    """``load`` (torch.load) with ``weights_only=True`` forced, whatever the caller passed."""

    @functools.wraps(load)
    def weights_only_load(*args, **kwargs):
        kwargs['weights_only'] = True
        return load(*args, **kwargs)

    weights_only_load.wsss_mm_weights_only = True
    return weights_only_load


def register_checkpoint_safe_globals() -> None:
    """Patch HistoryBuffer pickling, allow-list the checkpoint globals and make every
    ``torch.load`` of the process use ``weights_only=True`` (idempotent)."""
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    if not getattr(torch.load, 'wsss_mm_weights_only', False):
        torch.load = _weights_only(torch.load)
