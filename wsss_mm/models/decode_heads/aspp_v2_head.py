"""DeepLab-v2 atrous spatial pyramid pooling (ASPP) head."""
from typing import Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from wsss_mm.registry import MODELS

__all__ = ['ASPPv2Head']


@MODELS.register_module()
class ASPPv2Head(BaseModule):
    """ASPP of DeepLab-v2: parallel dilated 3×3 convolutions to class logits, summed.

    Each branch is a classifier of its own (``in_channels`` → ``num_classes``)
    with a different field of view; the logits of all branches are added. This
    is not MMSegmentation's ``ASPPHead``, which is DeepLab-v3's (1×1 + image
    pooling branches, concatenation and a bottleneck). The head returns logits
    at the feature stride; the segmentor resizes and supervises them, so it
    carries no loss of its own.

    Args:
        in_channels (int): Channels of the selected backbone feature map
            (2048 for ResNet-50/101).
        num_classes (int): Number of classes (logit channels), at least 2.
        dilations (Sequence[int]): One branch per dilation rate; padding equals
            the rate so the spatial size is kept. Defaults to (6, 12, 18, 24)
            (DeepLab-ASPP-L, as in the paper).
        in_index (int): Which backbone output to use. Defaults to -1.
        align_corners (bool): ``align_corners`` the segmentor uses when it
            resizes these logits. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization; defaults to
            DeepLab-v2's N(0, 0.01) weights and zero biases.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 dilations: Sequence[int] = (6, 12, 18, 24),
                 in_index: int = -1,
                 align_corners: bool = False,
                 init_cfg: dict = dict(type='Normal', layer='Conv2d', std=0.01, bias=0.0)
                 ) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(f'num_classes must be at least 2, got {num_classes}')
        if len(dilations) == 0:
            raise ValueError('dilations must name at least one branch')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.out_channels = num_classes
        self.dilations = tuple(dilations)
        self.in_index = in_index
        self.align_corners = align_corners
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels, num_classes, 3, padding=rate, dilation=rate)
            for rate in self.dilations)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Logits (B×num_classes×h×w) from the backbone outputs ``inputs``."""
        feature = inputs[self.in_index]
        logits = self.convs[0](feature)
        for conv in self.convs[1:]:
            logits = logits + conv(feature)
        return logits
