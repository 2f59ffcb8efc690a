"""Frequency-tuned saliency (Achanta et al., CVPR 2009) as a detector added from outside wsss_mm.

The worked example of docs/extending.md: a saliency detector is any module
registered in ``MODELS`` that maps normalized images ``[B, 3, H, W]`` to
saliency ``[B, 1, H, W]`` in ``[0, 1]``; ``ErasingSaliencyGenerator`` builds it
from ``saliency_generator.detector=dict(type='FrequencyTunedSaliency')`` once a
config loads this file with
``custom_imports=dict(imports=['examples.extending.frequency_tuned'])``.

The method: convert the image to CIE Lab, blur it with a small binomial kernel
(removing fine texture and noise), and score every pixel by its Lab distance
to the image's mean colour::

    S(x) = || mean_y Lab(I)(y) - (binomial * Lab(I))(x) ||_2,   then S / max S

Weight-free, full resolution and pure torch, so it runs anywhere. It finds
regions whose colour differs from the image as a whole, so it works for
objects on a fairly uniform background and fails on cluttered scenes or
objects coloured like their surroundings; expect coarser pseudo labels than
with a trained DHSNet.
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from wsss_mm.registry import MODELS

__all__ = ['FrequencyTunedSaliency', 'rgb_to_lab']

#: Linear sRGB -> CIE XYZ (D65), rows X, Y, Z.
_RGB_TO_XYZ = ((0.412453, 0.357580, 0.180423),
               (0.212671, 0.715160, 0.072169),
               (0.019334, 0.119193, 0.950227))
#: XYZ of the D65 white point (2 degree observer).
_WHITE_D65 = (0.95047, 1.0, 1.08883)


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """CIE Lab (D65) of sRGB images ``[B, 3, H, W]`` with values in ``[0, 1]``."""
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055)**2.4, rgb / 12.92)
    xyz = torch.einsum('ck,bkhw->bchw', rgb.new_tensor(_RGB_TO_XYZ), linear)
    xyz = xyz / rgb.new_tensor(_WHITE_D65).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz**(1 / 3), 7.787 * xyz + 16 / 116)
    fx, fy, fz = f.unbind(dim=1)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)


@MODELS.register_module()
class FrequencyTunedSaliency(nn.Module):
    """Frequency-tuned saliency of normalized RGB batches.

    Args:
        mean (Sequence[float]): per-channel mean that normalized the RGB
            inputs, 0-255 scale. Defaults to ImageNet's.
        std (Sequence[float]): per-channel std, 0-255 scale. Defaults to
            ImageNet's.
        kernel (Sequence[float]): 1-D blur kernel applied along rows and
            columns with mirrored borders (normalized to sum 1). Defaults to
            the 5-tap binomial ``(1, 4, 6, 4, 1)`` of the paper.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 kernel: Sequence[float] = (1.0, 4.0, 6.0, 4.0, 1.0)) -> None:
        super().__init__()
        if len(kernel) % 2 != 1 or sum(kernel) <= 0:
            raise ValueError(f'kernel needs an odd length and a positive sum, got {kernel}')
        taps = torch.tensor(kernel, dtype=torch.float32)
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('kernel', taps / taps.sum(), persistent=False)

    def forward(self, inputs: Tensor) -> Tensor:
        """Saliency ``[B, 1, H, W]`` in ``[0, 1]`` of normalized images ``[B, 3, H, W]``."""
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError(f'expected images of shape [B, 3, H, W], got {tuple(inputs.shape)}')
        rgb = ((inputs * self.std + self.mean) / 255).clamp(0, 1)
        lab = rgb_to_lab(rgb)
        offset = self._blur(lab) - lab.mean(dim=(-2, -1), keepdim=True)
        distance = offset.norm(dim=1, keepdim=True)
        peak = distance.amax(dim=(-2, -1), keepdim=True)
        return distance / torch.where(peak > 0, peak, torch.ones_like(peak))

    def _blur(self, images: Tensor) -> Tensor:
        """Separable blur of every channel of ``[B, C, H, W]`` with mirrored borders."""
        channels, radius = images.shape[1], self.kernel.numel() // 2
        rows = self.kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
        images = F.pad(images, (radius, radius, radius, radius), mode='reflect')
        images = F.conv2d(images, rows, groups=channels)
        return F.conv2d(images, rows.transpose(-1, -2), groups=channels)
