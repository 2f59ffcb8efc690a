"""U²-Net salient object detector (Qin et al., Pattern Recognition 2020).

A U-shaped network of residual U-blocks (RSU-L: a small U-Net of height L
whose output is added to its input convolution). Six encoder stages
(RSU-7, 6, 5, 4, 4F, 4F), five decoder stages, a 3×3 side convolution on
each of the six deepest-to-shallowest decoder outputs and a 1×1 fusion of
the six upsampled side maps.

Parameter names and shapes follow the public ``u2net.pth`` (variant
``'u2net'``, 44M parameters) and ``u2netp.pth`` (``'u2netp'``, 1.1M), so
those files load strictly with ``init_cfg=dict(type='Pretrained',
checkpoint=path)``. The public models expect 320×320 inputs normalized with
ImageNet mean/std (after dividing by the image maximum instead of 255, a
negligible difference for natural images).
"""
from typing import Dict, List, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from wsss_mm.registry import MODELS
from .base import BaseSaliencyDetector

__all__ = ['ConvBNReLU', 'ResidualUBlock', 'U2Net']


class ConvBNReLU(nn.Module):
    """3×3 (dilated) convolution + BN + ReLU (the public ``REBNCONV``)."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv_s1 = nn.Conv2d(
            in_channels, out_channels, 3, padding=dilation, dilation=dilation)
        self.bn_s1 = nn.BatchNorm2d(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn_s1(self.conv_s1(x)), inplace=True)


def _upsample_like(x: Tensor, reference: Tensor) -> Tensor:
    """Bilinearly resize ``x`` to the spatial size of ``reference``."""
    if x.shape[-2:] == reference.shape[-2:]:
        return x
    return F.interpolate(x, size=reference.shape[-2:], mode='bilinear', align_corners=False)


class ResidualUBlock(nn.Module):
    """Residual U-block RSU-``height`` (``dilated=True``: RSU-4F).

    Encoder convolutions ``rebnconv1..rebnconv{height}``, decoder convolutions
    ``rebnconv{height-1}d..rebnconv1d``. The plain block halves the resolution
    (ceil-mode max pooling) between the first ``height-1`` encoder levels and
    uses dilation 2 at the bottom; the dilated block keeps the resolution and
    uses dilations 1, 2, 4, 8 instead.

    Args:
        height (int): number of encoder levels L (4..7).
        in_channels (int): input channels.
        mid_channels (int): channels inside the U.
        out_channels (int): output channels.
        dilated (bool): RSU-4F style (no pooling, growing dilation).
    """

    def __init__(self, height: int, in_channels: int, mid_channels: int, out_channels: int,
                 dilated: bool = False) -> None:
        super().__init__()
        self.height = height
        self.dilated = dilated
        self.rebnconvin = ConvBNReLU(in_channels, out_channels)
        for level in range(1, height + 1):
            dilation = 2**(level - 1) if dilated else (2 if level == height else 1)
            level_in = out_channels if level == 1 else mid_channels
            self.add_module(f'rebnconv{level}', ConvBNReLU(level_in, mid_channels, dilation))
        for level in range(height - 1, 0, -1):
            dilation = 2**(level - 1) if dilated else 1
            level_out = out_channels if level == 1 else mid_channels
            self.add_module(
                f'rebnconv{level}d', ConvBNReLU(2 * mid_channels, level_out, dilation))

    def forward(self, x: Tensor) -> Tensor:
        x_in = self.rebnconvin(x)
        encoded: List[Tensor] = []
        hx = x_in
        for level in range(1, self.height + 1):
            if 1 < level < self.height and not self.dilated:
                hx = F.max_pool2d(hx, 2, stride=2, ceil_mode=True)
            hx = getattr(self, f'rebnconv{level}')(hx)
            encoded.append(hx)
        decoded = encoded[-1]
        for level in range(self.height - 1, 0, -1):
            skip = encoded[level - 1]
            decoded = getattr(self, f'rebnconv{level}d')(
                torch.cat([_upsample_like(decoded, skip), skip], dim=1))
        return decoded + x_in


# (height, dilated, in, mid, out) of stage1..stage6 and of stage5d..stage1d; side in-channels.
_VARIANTS: Dict[str, Dict[str, Sequence]] = {
    'u2net': dict(
        encoder=((7, False, 3, 32, 64), (6, False, 64, 32, 128), (5, False, 128, 64, 256),
                 (4, False, 256, 128, 512), (4, True, 512, 256, 512), (4, True, 512, 256, 512)),
        decoder=((4, True, 1024, 256, 512), (4, False, 1024, 128, 256),
                 (5, False, 512, 64, 128), (6, False, 256, 32, 64), (7, False, 128, 16, 64)),
        side=(64, 64, 128, 256, 512, 512)),
    'u2netp': dict(
        encoder=((7, False, 3, 16, 64), (6, False, 64, 16, 64), (5, False, 64, 16, 64),
                 (4, False, 64, 16, 64), (4, True, 64, 16, 64), (4, True, 64, 16, 64)),
        decoder=((4, True, 128, 16, 64), (4, False, 128, 16, 64), (5, False, 128, 16, 64),
                 (6, False, 128, 16, 64), (7, False, 128, 16, 64)),
        side=(64, 64, 64, 64, 64, 64)),
}


@MODELS.register_module()
class U2Net(BaseSaliencyDetector):
    """U²-Net / U²-Net† (``variant='u2net'`` / ``'u2netp'``).

    Side outputs (logits, all at the network input size): side6, side5, ...,
    side1, then the fused map (the prediction).

    Args:
        variant (str): ``'u2net'`` or ``'u2netp'``. Defaults to ``'u2net'``.
        input_size (int, optional): square side the network runs at; the
            public models were trained at 320. ``None`` keeps the input size.
        init_cfg (dict | list[dict], optional): e.g.
            ``dict(type='Pretrained', checkpoint='u2net.pth')``.
    """

    def __init__(self, variant: str = 'u2net', input_size: Union[int, None] = 320,
                 init_cfg: Union[dict, List[dict], None] = None) -> None:
        if variant not in _VARIANTS:
            raise ValueError(f'unknown U2Net variant {variant!r}; choose from {sorted(_VARIANTS)}')
        super().__init__(input_size=input_size, init_cfg=init_cfg)
        cfg = _VARIANTS[variant]
        self.variant = variant
        for index, (height, dilated, cin, cmid, cout) in enumerate(cfg['encoder'], start=1):
            self.add_module(f'stage{index}', ResidualUBlock(height, cin, cmid, cout, dilated))
        for index, (height, dilated, cin, cmid, cout) in zip(range(5, 0, -1), cfg['decoder']):
            self.add_module(f'stage{index}d', ResidualUBlock(height, cin, cmid, cout, dilated))
        for index, channels in enumerate(cfg['side'], start=1):
            self.add_module(f'side{index}', nn.Conv2d(channels, 1, 3, padding=1))
        self.outconv = nn.Conv2d(6, 1, 1)

    def side_outputs(self, inputs: Tensor) -> List[Tensor]:
        """Logits of side6..side1 and of the fusion, all at the input size."""
        encoded: List[Tensor] = []
        hx = inputs
        for index in range(1, 7):
            if index > 1:
                hx = F.max_pool2d(hx, 2, stride=2, ceil_mode=True)
            hx = getattr(self, f'stage{index}')(hx)
            encoded.append(hx)
        # Stage outputs feeding the side convolutions: stage1d..stage5d, stage6.
        stage_outputs = [encoded[5]]
        decoded = encoded[5]
        for index in range(5, 0, -1):
            skip = encoded[index - 1]
            decoded = getattr(self, f'stage{index}d')(
                torch.cat([_upsample_like(decoded, skip), skip], dim=1))
            stage_outputs.insert(0, decoded)
        sides = [
            _upsample_like(getattr(self, f'side{index}')(feature), inputs)
            for index, feature in enumerate(stage_outputs, start=1)
        ]
        fused = self.outconv(torch.cat(sides, dim=1))
        return sides[::-1] + [fused]
