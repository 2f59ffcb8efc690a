"""mmseg's ResNet with the stem of the MSRA/caffe ResNet that DeepLab-v2 was trained with."""
import torch.nn as nn
from mmseg.models.backbones import ResNet

from wsss_mm.registry import MODELS

__all__ = ['CaffeResNet']


@MODELS.register_module()
class CaffeResNet(ResNet):
    """ResNet whose stem max-pool rounds up (``ceil_mode=True``), as caffe's does.

    The COCO-pretrained DeepLab-v2 weights (converted by
    ``tools/convert_deeplabv2_coco_init.py``) come from the MSRA caffe
    ResNet-101: 3×3/2 max-pool with padding 1 and ceil rounding (deeplab-pytorch
    ``_Stem``), stride in the first 1×1 conv of a block (``style='caffe'``).
    mmseg's stem floors, which shrinks odd-sized stem outputs by one: a 321 crop
    at ×0.75 / ×0.5 gives 30 / 20 logits instead of DeepLab's 31 / 21. Every
    other argument is :class:`mmseg.models.backbones.ResNet`'s.

    Args:
        style (str): Where a block strides; defaults to ``'caffe'`` (1×1 conv).
        **kwargs: :class:`mmseg.models.backbones.ResNet` arguments.
    """

    def __init__(self, style: str = 'caffe', **kwargs) -> None:
        super().__init__(style=style, **kwargs)

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        """mmseg's stem with a ceil-mode pool (a 161×161 conv1 output pools to 81, 120 to 61)."""
        super()._make_stem_layer(in_channels, stem_channels)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True)
