"""IRNet's class-boundary branch: a boundary logit at stride 4 from all backbone levels."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from wsss_mm.registry import MODELS

__all__ = ['ClassBoundaryHead']


@MODELS.register_module()
class ClassBoundaryHead(BaseModule):
    """Boundary logits ``[B, 1, h, w]`` from a feature pyramid (IRN §3.3, Fig. 3).

    Every level goes through a 1x1 convolution to ``channels`` (no bias),
    GroupNorm and ReLU, is upsampled bilinearly by its ``scale_factors`` entry
    to the first level's grid (cropped to it), and a 1x1 convolution with bias
    maps the concatenation to one logit. IRN applies it to ResNet-50's stem
    and four stages at strides 4, 4, 8, 16, 16 (layer4 without stride).

    Args:
        in_channels: Channels of each level (IRN: 64, 256, 512, 1024, 2048).
        scale_factors: Upsampling factor of each level to the first level's
            grid (IRN: 1, 1, 2, 4, 4).
        channels: Channels of each reduced level (IRN: 32).
        num_groups: GroupNorm groups (IRN: 4).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 256, 512, 1024, 2048),
                 scale_factors: Sequence[int] = (1, 1, 2, 4, 4),
                 channels: int = 32,
                 num_groups: int = 4,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(scale_factors):
            raise ValueError(f'one scale factor per level: got {len(in_channels)} levels and '
                             f'{len(scale_factors)} factors')
        self.scale_factors = tuple(int(f) for f in scale_factors)
        self.reduce = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, channels, 1, bias=False), nn.GroupNorm(num_groups, channels))
            for c in in_channels)
        self.fuse = nn.Conv2d(channels * len(in_channels), 1, 1, bias=True)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        """Boundary logits on the grid of ``feats[0]``."""
        if len(feats) != len(self.reduce):
            raise ValueError(f'expected {len(self.reduce)} feature levels, got {len(feats)}')
        height, width = feats[0].shape[-2:]
        levels = []
        for feat, reduce, factor in zip(feats, self.reduce, self.scale_factors):
            x = reduce(feat)
            if factor != 1:
                x = F.interpolate(x, scale_factor=factor, mode='bilinear', align_corners=False)
            if x.shape[-2] < height or x.shape[-1] < width:
                raise ValueError(f'a level upsampled to {tuple(x.shape[-2:])} does not cover the '
                                 f'first level {height, width}; check scale_factors')
            levels.append(F.relu(x[..., :height, :width]))
        return self.fuse(torch.cat(levels, dim=1))
