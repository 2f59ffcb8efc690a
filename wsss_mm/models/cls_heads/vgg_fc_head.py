"""VGG-16's fully connected classifier with a new last layer."""
from typing import Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from wsss_mm.registry import MODELS


@MODELS.register_module()
class VGGFCHead(BaseModule):
    """torchvision's VGG ``avgpool`` + ``classifier`` (fc6, fc7, fc8→num_classes).

    Names match torchvision (``classifier.0/3/6``) so the ImageNet fc6/fc7
    weights load from ``torchvision://vgg16``; ``classifier.6`` is the new
    ``num_classes``-way layer (its 1000-way weights are skipped on load).

    Args:
        num_classes: Outputs of the last layer (20 for VOC).
        dropout: Dropout probability of fc6/fc7.
        init_cfg: mmengine init config, e.g. the torchvision checkpoint.
    """

    def __init__(self, num_classes: int = 20, dropout: float = 0.5,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes))
        nn.init.normal_(self.classifier[6].weight, 0, 0.01)
        nn.init.zeros_(self.classifier[6].bias)

    def forward(self, feats: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        """Class scores (pre-sigmoid) from the last feature map."""
        x = feats[-1] if isinstance(feats, (list, tuple)) else feats
        return self.classifier(torch.flatten(self.avgpool(x), 1))


__all__ = ['VGGFCHead']
