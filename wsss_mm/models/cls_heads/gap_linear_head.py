"""Global average pooling + linear classifier (the CAM architecture)."""
from typing import Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from wsss_mm.registry import MODELS


@MODELS.register_module()
class GAPLinearHead(BaseModule):
    """GAP over the last feature map, dropout, then one linear layer ``fc``.

    With this head, classic CAM is ``fc.weight[c] · features`` (see
    :class:`wsss_mm.cam.CAMGenerator`, ``fc_layer='head.fc'``).

    Args:
        in_channels: Channels of the feature map.
        num_classes: Number of classes (20 for VOC).
        dropout: Dropout before ``fc``.
        bias: Whether ``fc`` has a bias (IRN's 1x1-conv classifier has none).
    """

    def __init__(self, in_channels: int, num_classes: int = 20, dropout: float = 0.0,
                 bias: bool = True, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, num_classes, bias=bias)
        nn.init.normal_(self.fc.weight, 0, 0.01)
        if bias:
            nn.init.zeros_(self.fc.bias)

    def forward(self, feats: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        """Class scores (pre-sigmoid) from the last feature map."""
        x = feats[-1] if isinstance(feats, (list, tuple)) else feats
        return self.fc(self.dropout(x.mean(dim=(2, 3))))


__all__ = ['GAPLinearHead']
