"""Saliency with iterative erasing (Xu et al., ICASSP 2019, Sec. 2.1.2, Eq. 3).

Saliency detectors tend to find one dominant object. Erasing the highly
salient regions and running the detector again uncovers further objects:

    S_0 = det(I_0)
    I_k = I_{k-1} with the pixels where S_{k-1} > t_k set to the fill value
    S_k = det(I_k)                                       k = 1..K
    S   = max(S_0, ..., S_K)   (pixel-wise)

The erasing is cumulative (``I_k`` starts from ``I_{k-1}``). The paper erases
twice with ``t = 0.7, 0.8`` and fills with "the average pixel value", which
may be read as the dataset mean (``fill_mode='value'`` with the default 0,
the mean after mean/std normalization; the default) or as the image's own
mean colour (``fill_mode='image_mean'``: the per-channel mean of ``I_0``).
"""
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from wsss_mm.registry import MODELS, SALIENCY_GENERATORS

__all__ = ['ErasingSaliencyGenerator']


@SALIENCY_GENERATORS.register_module()
class ErasingSaliencyGenerator(nn.Module):
    """Pixel-wise maximum of saliency maps of successively erased images.

    An inference-only stage: the detector is kept in eval mode (``train()``
    does not switch it) and runs without gradients.

    Args:
        detector (nn.Module | dict): maps normalized images ``[B, 3, H, W]``
            to saliency in ``[0, 1]`` of shape ``[B, 1, H, W]`` or
            ``[B, H, W]``. A dict is built with ``MODELS`` and its
            ``init_weights()`` is called (so an ``init_cfg`` checkpoint loads);
            a module is used as given.
        thresholds (Sequence[float]): erasing thresholds ``t_1..t_K``, one
            erasing step each. Defaults to ``(0.7, 0.8)``.
        fill_value (float | Sequence[float]): value written into erased
            pixels with ``fill_mode='value'``, one for all channels or one per
            channel, in the normalized input space (0 = dataset mean).
            Defaults to 0.
        fill_mode (str): ``'value'`` (``fill_value``) or ``'image_mean'`` (each
            image's per-channel mean over all its pixels of ``I_0``).
            Defaults to ``'value'``.
    """

    FILL_MODES = ('value', 'image_mean')

    def __init__(self,
                 detector: Union[nn.Module, dict],
                 thresholds: Sequence[float] = (0.7, 0.8),
                 fill_value: Union[float, Sequence[float]] = 0.0,
                 fill_mode: str = 'value') -> None:
        super().__init__()
        if fill_mode not in self.FILL_MODES:
            raise ValueError(f'fill_mode must be one of {self.FILL_MODES}, got {fill_mode!r}')
        self.fill_mode = fill_mode
        if isinstance(detector, dict):
            detector = MODELS.build(detector)
            if hasattr(detector, 'init_weights'):
                detector.init_weights()
        self.detector = detector.eval()
        self.thresholds: Tuple[float, ...] = tuple(float(t) for t in thresholds)
        fill = torch.as_tensor(fill_value, dtype=torch.float32).flatten()
        if fill.numel() not in (1, 3):
            raise ValueError(f'fill_value needs 1 or 3 values, got {fill.numel()}')
        self.register_buffer('fill_value', fill.view(1, -1, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> 'ErasingSaliencyGenerator':
        """Set the module mode; the detector always stays in eval mode."""
        super().train(mode)
        self.detector.eval()
        return self

    def detect(self, images: Tensor) -> Tensor:
        """Run the detector and return saliency ``[B, H, W]``."""
        saliency = self.detector(images)
        if saliency.dim() == 4:
            saliency = saliency.squeeze(1)
        if saliency.shape != images.shape[:1] + images.shape[2:]:
            raise ValueError(f'detector returned shape {tuple(saliency.shape)} for images '
                             f'of shape {tuple(images.shape)}')
        return saliency

    @torch.no_grad()
    def erase_steps(self, images: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """The erased images ``[I_0..I_K]`` and their saliency maps ``[S_0..S_K]``."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f'expected images of shape [B, 3, H, W], got {tuple(images.shape)}')
        inputs = [images]
        maps = [self.detect(images)]
        if self.fill_mode == 'image_mean':
            fill = images.mean(dim=(2, 3), keepdim=True)  # [B, 3, 1, 1]
        else:
            fill = self.fill_value.to(images)
        for threshold in self.thresholds:
            erase = (maps[-1] > threshold).unsqueeze(1)
            inputs.append(torch.where(erase, fill, inputs[-1]))
            maps.append(self.detect(inputs[-1]))
        return inputs, maps

    @property
    def batches_across_sizes(self) -> bool:
        """Whether :meth:`forward_many` batches images of different sizes (the detector
        runs at a fixed input size, e.g. DHSNet 224², U²-Net 320²)."""
        return (getattr(self.detector, 'input_size', None) is not None
                and hasattr(self.detector, 'forward_many'))

    @torch.no_grad()
    def forward_many(self, images: List[Tensor]) -> List[Tensor]:
        """:meth:`forward` of each ``[1, 3, H_i, W_i]`` image -> ``[H_i, W_i]`` each.

        With a fixed-size detector (:attr:`batches_across_sizes`) every detector pass
        runs on all images in one batch (each resized to the input size and its map
        back to its own size); the erasing stays per image at its own size. Else one
        image at a time.
        """
        if not self.batches_across_sizes:
            return [self(image)[0] for image in images]
        if self.fill_mode == 'image_mean':
            fills = [image.mean(dim=(2, 3), keepdim=True) for image in images]
        else:
            fills = [self.fill_value.to(image) for image in images]
        inputs = list(images)
        maps = [m[:, 0] for m in self.detector.forward_many(inputs)]
        fused = list(maps)
        for threshold in self.thresholds:
            inputs = [torch.where((m > threshold).unsqueeze(1), fill, x)
                      for m, fill, x in zip(maps, fills, inputs)]
            maps = [m[:, 0] for m in self.detector.forward_many(inputs)]
            fused = [torch.maximum(f, m) for f, m in zip(fused, maps)]
        return [f[0] for f in fused]

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        """Fused saliency ``S = max_k S_k``, shape ``[B, H, W]``."""
        _, maps = self.erase_steps(images)
        return torch.stack(maps).amax(dim=0)
