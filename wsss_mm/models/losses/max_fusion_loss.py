"""Multi-scale (MSC) loss of DeepLab-v2: one cross-entropy per output."""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from wsss_mm.registry import MODELS

__all__ = ['MaxFusionLoss', 'resize_labels_nearest']


def _centre_indices(in_size: int, out_size: int, device: torch.device) -> Tensor:
    """Source index under the centre of each output pixel: ``floor((2i+1)·in / (2·out))``.

    Integer arithmetic, so no float rounding can move an index at a cell border.
    """
    out_index = torch.arange(out_size, device=device)
    return torch.div((2 * out_index + 1) * in_size, 2 * out_size, rounding_mode='floor')


def resize_labels_nearest(labels: Tensor, size: Sequence[int]) -> Tensor:
    """Resize label maps ``[B, H, W]`` to ``size`` (h, w) as PIL ``NEAREST`` does."""
    rows = _centre_indices(labels.shape[1], int(size[0]), labels.device)
    cols = _centre_indices(labels.shape[2], int(size[1]), labels.device)
    return labels[:, rows][:, :, cols]


@MODELS.register_module()
class MaxFusionLoss(nn.Module):
    """Sum of pixel-wise cross-entropies over the outputs of a multi-scale model.

    Xu et al. (ICASSP 2019) train DeepLab-v2 on inputs ×1, ×0.75, ×0.5 and
    supervise the three per-scale logits and their pixel-wise max: four terms.
    Each output is compared with the labels resized to *its* size by nearest
    neighbour (labels are never interpolated bilinearly), so small outputs
    are supervised at their own resolution as in DeepLab-v2. The nearest
    neighbour is the one of PIL's ``NEAREST`` (DeepLab-v2, deeplab-pytorch's
    ``resize_labels``): output pixel ``i`` reads the input pixel under its
    *centre*, ``floor((i + 1/2) · in / out)``, not the top-left one of
    ``F.interpolate(mode='nearest')`` (half a stride, ~4 px, apart at 321→41).

    Every term is the mean over the non-ignored pixels of that output; a term
    whose labels are all ``ignore_index`` contributes 0 (not NaN), which keeps
    fully padded crops harmless.

    Args:
        ignore_index (int): Label value excluded from the loss. Defaults to 255.
        loss_weight (float): Factor applied to the summed loss. Defaults to 1.0.
    """

    def __init__(self, ignore_index: int = 255, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight

    def forward(self, outputs: Sequence[Tensor], labels: Tensor) -> Tensor:
        """Sum of the cross-entropies of ``outputs`` (each B×C×h×w) against ``labels`` (B×H×W)."""
        if labels.dim() != 3:
            raise ValueError(f'labels must be B×H×W, got shape {tuple(labels.shape)}')
        if len(outputs) == 0:
            raise ValueError('outputs must hold at least one logit map')
        total = outputs[0].new_zeros(())
        for logits in outputs:
            if logits.dim() != 4 or logits.shape[0] != labels.shape[0]:
                raise ValueError(f'logits of shape {tuple(logits.shape)} do not match '
                                 f'labels of shape {tuple(labels.shape)}')
            target = resize_labels_nearest(labels, logits.shape[2:])
            summed = F.cross_entropy(
                logits, target, ignore_index=self.ignore_index, reduction='sum')
            num_valid = (target != self.ignore_index).sum().clamp(min=1)
            total = total + summed / num_valid
        return self.loss_weight * total

    # The name the segmentors and the stage-4 API call; identical to ``forward``.
    loss = forward

    def extra_repr(self) -> str:
        """Show the settings in ``print(model)``."""
        return f'ignore_index={self.ignore_index}, loss_weight={self.loss_weight}'
