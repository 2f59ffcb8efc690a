"""Does a checkpoint fit a model? Checked before a model is tested.

mmengine loads checkpoints non-strictly: a checkpoint of another architecture
prints "size mismatch" lines and leaves the model randomly initialised, and the
test then reports a meaningless score. :func:`check_checkpoint_fits` compares
keys and shapes first and raises one message naming the checkpoint.
"""
import re
from typing import List, Mapping

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn


def state_dict_mismatches(model: nn.Module, state_dict: Mapping[str, object]) -> List[str]:
    """Missing, unexpected and differently shaped keys of ``state_dict`` for ``model``.

    BatchNorm's ``num_batches_tracked`` may be missing (as mmengine allows).
    """
    expected = model.state_dict()
    problems = []
    for key, value in expected.items():
        if key not in state_dict:
            if not key.endswith('num_batches_tracked'):
                problems.append(f'missing {key}')
        elif isinstance(value, torch.Tensor) and isinstance(state_dict[key], torch.Tensor) \
                and value.shape != state_dict[key].shape:
            problems.append(f'{key}: checkpoint {tuple(state_dict[key].shape)}, '
                            f'model {tuple(value.shape)}')
    problems += [f'unexpected {key}' for key in state_dict if key not in expected]
    return problems


def check_checkpoint_fits(model: nn.Module, filename: str, max_listed: int = 5) -> None:
    """Raise ``ValueError`` naming ``filename`` and its first mismatched keys if the
    checkpoint's ``state_dict`` does not match ``model`` exactly (keys and shapes)."""
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    # as mmengine's loader: strip a DDP prefix; load into the wrapped model
    state_dict = {re.sub(r'^module\.', '', key): value for key, value in state_dict.items()}
    if is_model_wrapper(model):
        model = model.module
    problems = state_dict_mismatches(model, state_dict)
    if problems:
        listed = '; '.join(problems[:max_listed])
        more = f' (and {len(problems) - max_listed} more)' if len(problems) > max_listed else ''
        raise ValueError(f'checkpoint {filename} does not fit the model '
                         f'{type(model).__name__}: {len(problems)} mismatched keys, first: '
                         f'{listed}{more}')
