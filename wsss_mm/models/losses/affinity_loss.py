"""IRN's inter-pixel affinity loss on a class-boundary map (IRN §3.3, eq. 3-5)."""
from typing import Dict

import torch
from torch import Tensor, nn

from wsss_mm.pseudo.pixel_pairs import PixelPairs
from wsss_mm.registry import MODELS

__all__ = ['AffinityLoss']


@MODELS.register_module()
class AffinityLoss(nn.Module):
    """Cross-entropy of the boundary-derived affinities against pair relation labels.

    With ``a = 1 - max B`` on the path of each pair (:class:`PixelPairs`), the
    positive pairs (same label) pull ``a`` to 1 with ``-log(a + eps)``, averaged
    over background pairs and foreground pairs separately and then halved
    each; the negative pairs (different labels) push it to 0 with
    ``-log(1 + eps - a)``. Both terms are halved, as IRN sums
    ``(L_pos + L_neg) / 2`` (``step/train_irn.py``).

    Args:
        radius: Pairs within this distance on the label grid (IRN: 10).
        ignore_index: Unconfident pixels of the label map.
        eps: Added inside the logs (IRN: 1e-5).
        pair_band: Which sources have pairs: ``'irn'`` only those of IRN's band
            (:meth:`PixelPairs.irn_band`: not the last ``radius - 1`` rows nor
            the ``radius - 1`` columns at either side), as ``step/train_irn.py``;
            ``'grid'`` every pixel of the grid (a pair whose other end leaves
            the grid stays unlabelled).
    """

    def __init__(self, radius: int = 10, ignore_index: int = 255, eps: float = 1e-5,
                 pair_band: str = 'grid') -> None:
        super().__init__()
        if pair_band not in ('grid', 'irn'):
            raise ValueError(f"pair_band must be 'grid' or 'irn', got {pair_band!r}")
        self.pairs = PixelPairs(radius)
        self.ignore_index = ignore_index
        self.eps = eps
        self.pair_band = pair_band

    def forward(self, boundary: Tensor, labels: Tensor) -> Dict[str, Tensor]:
        """Loss terms of boundary probabilities ``[B, h, w]`` and a label map ``[B, h, w]``."""
        if boundary.shape != labels.shape:
            raise ValueError(f'boundary {tuple(boundary.shape)} and labels '
                             f'{tuple(labels.shape)} must have the same shape')
        affinity = self.pairs.boundary_to_affinity(boundary)
        bg_pos, fg_pos, neg = self.pairs.pair_labels(labels, self.ignore_index)
        if self.pair_band == 'irn':
            band = self.pairs.irn_band(*labels.shape[-2:], device=labels.device)
            bg_pos, fg_pos, neg = (m & band for m in (bg_pos, fg_pos, neg))

        def mean_over(loss: Tensor, mask: Tensor) -> Tensor:
            mask = mask.to(loss.dtype)
            return (loss * mask).sum() / (mask.sum() + self.eps)

        pos_loss = -torch.log(affinity + self.eps)
        neg_loss = -torch.log(1 + self.eps - affinity)
        loss_pos = mean_over(pos_loss, bg_pos) / 2 + mean_over(pos_loss, fg_pos) / 2
        return dict(loss_aff_pos=loss_pos / 2, loss_aff_neg=mean_over(neg_loss, neg) / 2)
