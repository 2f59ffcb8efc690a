"""DHSNet: deep hierarchical saliency network (Liu & Han, CVPR 2016).

A global view CNN (the 13 convolutional layers of VGG-16 and a fully
connected layer) predicts a coarse saliency map of an eighth of the input
side (28×28 at the paper's 224×224 input). A hierarchy of recurrent
convolutional layers (RCL) then refines it step by step with the conv4_3,
conv3_3, conv2_2 and conv1_2 features, doubling the resolution after each
step, up to the input size. Every step is supervised (deep supervision).

The convolutional part keeps the layout of torchvision's ``vgg16().features``
(without the last max pooling), so ImageNet weights load with
``init_cfg=dict(type='Pretrained', checkpoint='torchvision://vgg16')``; a
trained DHSNet checkpoint loads the same way from a local path.
"""
from typing import List, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from wsss_mm.registry import MODELS
from .base import BaseSaliencyDetector

__all__ = ['RecurrentConvLayer', 'DHSNet']

# VGG-16 convolutional configuration: channels, 'M' = 2×2 max pooling.
_VGG16_CFG = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512)
# Indices in ``features`` of the ReLUs after conv1_2, conv2_2, conv3_3, conv4_3.
_SIDE_FEATURE_INDICES = (3, 8, 15, 22)
_SIDE_FEATURE_CHANNELS = (64, 128, 256, 512)


class RecurrentConvLayer(nn.Module):
    """An RCL refinement step of DHSNet.

    The side feature is compressed by a 1×1 convolution with sigmoid (so it
    has the scale of a saliency map), concatenated with the upsampled
    previous saliency map and convolved (feed-forward input ``u``). The state
    then evolves for ``num_steps`` recurrent steps,
    ``x_t = ReLU(BN_t(u + W_r * x_{t-1}))``, with shared recurrent weights
    ``W_r``; a 1×1 convolution turns the last state into saliency logits.

    Args:
        in_channels (int): channels of the VGG side feature.
        channels (int): channels of the recurrent state. Defaults to 64.
        num_steps (int): recurrent steps after the feed-forward one.
            Defaults to 3.
    """

    def __init__(self, in_channels: int, channels: int = 64, num_steps: int = 3) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(in_channels, channels, 1)
        self.feedforward = nn.Conv2d(channels + 1, channels, 3, padding=1)
        self.recurrent = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norms = nn.ModuleList(nn.BatchNorm2d(channels) for _ in range(num_steps + 1))
        self.predict = nn.Conv2d(channels, 1, 1)

    def forward(self, feature: Tensor, prev_saliency: Tensor) -> Tensor:
        """Refine ``prev_saliency`` ([B,1,h,w], in [0,1]) into logits [B,1,h,w]."""
        reduced = torch.sigmoid(self.reduce(feature))
        drive = self.feedforward(torch.cat([reduced, prev_saliency], dim=1))
        state = F.relu(self.norms[0](drive))
        for norm in self.norms[1:]:
            state = F.relu(norm(drive + self.recurrent(state)))
        return self.predict(state)


@MODELS.register_module()
class DHSNet(BaseSaliencyDetector):
    """DHSNet salient object detector.

    Side outputs (logits, coarse to fine) at input size ``s``: global view
    ``s/8``, RCL-4 ``s/8``, RCL-3 ``s/4``, RCL-2 ``s/2``, RCL-1 ``s`` — at the
    paper's 224: 28, 28, 56, 112, 224.

    Args:
        input_size (int): square input side the network runs at; inputs are
            resized to it (the fully connected layer fixes it). Must be a
            multiple of 16. Defaults to 224 (the paper's).
        rcl_channels (int): channels of the RCL states. Defaults to 64.
        rcl_steps (int): recurrent steps of each RCL. Defaults to 3.
        init_cfg (dict | list[dict], optional): e.g.
            ``dict(type='Pretrained', checkpoint='torchvision://vgg16')`` for
            the ImageNet VGG-16 or a trained DHSNet file.
    """

    def __init__(self, input_size: int = 224, rcl_channels: int = 64, rcl_steps: int = 3,
                 init_cfg: Union[dict, List[dict], None] = None) -> None:
        if input_size % 16:
            raise ValueError(f'DHSNet input_size must be a multiple of 16, got {input_size}')
        super().__init__(input_size=input_size, init_cfg=init_cfg)
        self.features = self._make_vgg16_features()
        self.coarse_size = input_size // 8
        self.global_fc = nn.Linear(512 * (input_size // 16)**2, self.coarse_size**2)
        # Refinement order: conv4_3 (s/8), conv3_3 (s/4), conv2_2 (s/2), conv1_2 (s).
        self.rcls = nn.ModuleList(
            RecurrentConvLayer(c, rcl_channels, rcl_steps)
            for c in reversed(_SIDE_FEATURE_CHANNELS))

    @staticmethod
    def _make_vgg16_features() -> nn.Sequential:
        """VGG-16 conv1_1..conv5_3 (+ReLU) with torchvision's module indices."""
        layers: List[nn.Module] = []
        in_channels = 3
        for item in _VGG16_CFG:
            if item == 'M':
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(in_channels, item, 3, padding=1), nn.ReLU(inplace=True)]
                in_channels = item
        return nn.Sequential(*layers)

    def side_outputs(self, inputs: Tensor) -> List[Tensor]:
        """Logits of the global view map and of the four RCL steps."""
        side_features: List[Tensor] = []
        x = inputs
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in _SIDE_FEATURE_INDICES:
                side_features.append(x)
        coarse = self.global_fc(x.flatten(1))
        logits = [coarse.view(-1, 1, self.coarse_size, self.coarse_size)]
        for rcl, feature in zip(self.rcls, reversed(side_features)):
            prev = torch.sigmoid(logits[-1])
            if prev.shape[-2:] != feature.shape[-2:]:
                prev = F.interpolate(
                    prev, size=feature.shape[-2:], mode='bilinear', align_corners=False)
            logits.append(rcl(feature, prev))
        return logits
