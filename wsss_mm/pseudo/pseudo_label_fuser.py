"""Pseudo-label fusion of attention and saliency (Xu et al., ICASSP 2019, Algorithm 1).

For every class ``c`` of the image, ``M_c = (A_c + S) / 2``. A pixel is
background (0) where ``max_c M_c < gamma1`` (no class is confident enough) or
``S < gamma2`` (not salient); otherwise it takes the class ``1 + argmax_c M_c``
(the refiner maps 1 + c to the dataset's label value of channel c). Classes absent from the image
labels never win. An image without any labelled class is all background: with
no object class present, nothing can be foreground.

The paper fuses "the normalized attention maps and saliency maps"; attention
maps are divided by their maximum upstream. The saliency is used as the
detector gives it in ``[0, 1]`` (``saliency_norm='none'``, the default) or
divided by its per-image maximum (``'max'``, so the most salient pixel is 1);
the normalized ``S`` enters both ``M_c`` and the ``gamma2`` test.

Optionally, pixels whose ``max_c M_c`` lies within ``ignore_band`` of
``gamma1`` (and that are salient, ``S >= gamma2``) are marked
``ignore_index`` instead of deciding them by a hard threshold; off by default
(the paper has no ignore region).
"""
from typing import Optional

import torch
from torch import Tensor

from wsss_mm.registry import PSEUDO_LABEL_FUSERS

__all__ = ['PseudoLabelFuser']


@PSEUDO_LABEL_FUSERS.register_module()
class PseudoLabelFuser:
    """Algorithm 1: attention maps + saliency → pseudo segmentation labels.

    Args:
        gamma1 (float): background threshold on ``max_c M_c``.
            Defaults to 0.2 (the paper's).
        gamma2 (float): background threshold on the saliency.
            Defaults to 0.06 (the paper's).
        ignore_band (float, optional): half-width of the uncertain band
            around ``gamma1`` labelled ``ignore_index``; ``None`` disables it.
        ignore_index (int): label of uncertain pixels. Defaults to 255.
        saliency_norm (str): ``'none'`` (S as given) or ``'max'`` (S divided by
            its per-image maximum; an all-zero map stays zero). Defaults to
            ``'none'``.
    """

    SALIENCY_NORMS = ('none', 'max')

    def __init__(self, gamma1: float = 0.2, gamma2: float = 0.06,
                 ignore_band: Optional[float] = None, ignore_index: int = 255,
                 saliency_norm: str = 'none') -> None:
        if ignore_band is not None and ignore_band < 0:
            raise ValueError(f'ignore_band must be >= 0, got {ignore_band}')
        if saliency_norm not in self.SALIENCY_NORMS:
            raise ValueError(f'saliency_norm must be one of {self.SALIENCY_NORMS}, '
                             f'got {saliency_norm!r}')
        self.saliency_norm = saliency_norm
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.ignore_band = ignore_band
        self.ignore_index = ignore_index

    def __call__(self, attention: Tensor, saliency: Tensor, labels: Tensor) -> Tensor:
        """Pseudo label ``[H, W]`` int64 of one image.

        Args:
            attention (Tensor): ``[C, H, W]`` normalized attention maps in
                ``[0, 1]``, one per class (absent classes may hold anything).
            saliency (Tensor): ``[H, W]`` saliency in ``[0, 1]``.
            labels (Tensor): ``[C]`` multi-hot image labels.
        """
        if (attention.dim() != 3 or saliency.shape != attention.shape[1:]
                or labels.shape != attention.shape[:1]):
            raise _shape_error('[C, H, W], [H, W], [C]', attention, saliency, labels)
        return self.fuse_batch(attention[None], saliency[None], labels[None])[0]

    def fuse_batch(self, attention: Tensor, saliency: Tensor, labels: Tensor) -> Tensor:
        """Pseudo labels ``[B, H, W]`` int64 of a batch.

        Args:
            attention (Tensor): ``[B, C, H, W]`` normalized attention maps.
            saliency (Tensor): ``[B, H, W]`` saliency maps.
            labels (Tensor): ``[B, C]`` multi-hot image labels.
        """
        if (attention.dim() != 4 or saliency.shape != attention.shape[:1] + attention.shape[2:]
                or labels.shape != attention.shape[:2]):
            raise _shape_error('[B, C, H, W], [B, H, W], [B, C]', attention, saliency, labels)
        saliency = saliency.to(attention.dtype)
        if self.saliency_norm == 'max':  # an all-zero map stays zero
            peak = saliency.amax(dim=(1, 2), keepdim=True)
            saliency = saliency / peak.clamp(min=torch.finfo(saliency.dtype).tiny)
        fused = (attention + saliency[:, None]) / 2
        present = labels.to(torch.bool)[:, :, None, None]
        fused = fused.masked_fill(~present, float('-inf'))
        best, best_class = fused.max(dim=1)
        not_salient = saliency < self.gamma2
        pseudo = torch.where((best < self.gamma1) | not_salient,
                             torch.zeros_like(best_class), best_class + 1)
        if self.ignore_band is not None:
            uncertain = ((best - self.gamma1).abs() <= self.ignore_band) & ~not_salient
            pseudo = pseudo.masked_fill(uncertain, self.ignore_index)
        return pseudo


def _shape_error(expected: str, attention: Tensor, saliency: Tensor, labels: Tensor) -> ValueError:
    """Error naming the expected and the given shapes of attention, saliency, labels."""
    return ValueError(
        f'expected attention, saliency, labels of shapes {expected}, got '
        f'{tuple(attention.shape)}, {tuple(saliency.shape)}, {tuple(labels.shape)}')
