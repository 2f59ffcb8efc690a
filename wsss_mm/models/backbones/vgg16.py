"""VGG-16 convolutional trunk in torchvision's module layout."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torchvision.models import vgg16, vgg16_bn

from wsss_mm.registry import MODELS


@MODELS.register_module()
class VGG16Features(BaseModule):
    """torchvision's ``vgg16().features`` (conv1_1 .. pool5) as a backbone.

    The module keeps torchvision's names (``features.0`` .. ``features.30``), so
    ``init_cfg=dict(type='Pretrained', checkpoint='torchvision://vgg16')`` or a
    local ImageNet file loads unchanged (the checkpoint's ``classifier.*`` keys
    are left to :class:`VGGFCHead`). ``features.29`` is the ReLU after conv5_3,
    the paper's Grad-CAM layer.

    Args:
        batch_norm: Use ``vgg16_bn``'s layout instead.
        init_cfg: mmengine init config, e.g. the torchvision checkpoint.
    """

    def __init__(self, batch_norm: bool = False, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.features = (vgg16_bn if batch_norm else vgg16)(weights=None).features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the pool5 feature map [B, 512, H/32, W/32]."""
        return self.features(x)


__all__ = ['VGG16Features']
