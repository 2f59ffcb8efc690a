"""A light saliency detector on an ImageNet EfficientNet-Lite encoder (Lite0 or Lite2).

The generated salient-object set of the demo is too small and too unlike
photos to train a detector from scratch that transfers to real images
(U²-Net-p). Here the encoder is an ImageNet EfficientNet-Lite and only a
small top-down decoder (FPN style) has to be learned: a 1×1 lateral
convolution per encoder level, coarse-to-fine ``upsample + add`` and a 3×3
convolution (BN, ReLU) at each level, with a deeply supervised saliency logit
per level. Inputs are normalized as the ImageNet weights expect: RGB,
``(x - 127) / 128`` (:data:`EFFICIENTNET_LITE_MEAN` / ``_STD``).
"""
from typing import List, Sequence, Union

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from wsss_mm.models.backbones.efficientnet_lite import EfficientNetLite
from wsss_mm.registry import MODELS
from .base import BaseSaliencyDetector

__all__ = ['EfficientNetLiteFPN']


@MODELS.register_module()
class EfficientNetLiteFPN(BaseSaliencyDetector):
    """Saliency from EfficientNet-Lite features through an FPN-style decoder.

    At network input ``[B, 3, s, s]`` (``s`` = ``input_size``) and the default
    ``encoder_levels`` (strides 4, 8, 16, 32), the side-output logits are,
    coarse to fine, ``[B, 1, s/32, s/32]``, ``[B, 1, s/16, s/16]``,
    ``[B, 1, s/8, s/8]`` and the final ``[B, 1, s/4, s/4]`` (sizes rounded
    up, TF 'SAME' padding); in eval mode the final one is upsampled to the
    input size as a probability map (:class:`BaseSaliencyDetector`).

    Args:
        input_size: Square side the network runs at (inputs are resized to it);
            None runs at the input's own size.
        encoder_levels: EfficientNet-Lite levels (``out_indices``: 0 stem,
            1-7 stages, 8 head) feeding the decoder, fine to coarse, strictly
            increasing.
        decoder_channels: Channels of the decoder (laterals and 3×3 convs).
        encoder_variant: ``'lite0'`` or ``'lite2'`` (:class:`EfficientNetLite`).
        pretrained: Initialize the encoder with the bundled ImageNet weights
            (a trained detector checkpoint in ``init_cfg`` overrides them).
        freeze_encoder: Keep the encoder fixed (no gradients, eval mode); else
            it is fine-tuned with its BatchNorm statistics kept (``norm_eval``).
        frozen_levels: Fine-tuning only: the first ``frozen_levels`` encoder
            levels (0 the stem, k stage k) keep their ImageNet weights, so no
            gradient is computed through the high-resolution early stages, which
            dominate the cost of a CPU training step.
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained',
            checkpoint=path, prefix='detector.')`` for a trained detector.
    """

    def __init__(self,
                 input_size: Union[int, None] = 192,
                 encoder_levels: Sequence[int] = (2, 3, 5, 7),
                 decoder_channels: int = 64,
                 encoder_variant: str = 'lite0',
                 pretrained: bool = True,
                 freeze_encoder: bool = False,
                 frozen_levels: int = 0,
                 init_cfg: Union[dict, List[dict], None] = None) -> None:
        super().__init__(input_size=input_size, init_cfg=init_cfg)
        levels = tuple(int(i) for i in encoder_levels)
        if len(levels) < 2 or any(b <= a for a, b in zip(levels, levels[1:])):
            raise ValueError(f'encoder_levels must be at least two strictly increasing '
                             f'levels, got {tuple(encoder_levels)}')
        self.encoder_levels = levels
        self.freeze_encoder = freeze_encoder
        # no stochastic depth: a frozen encoder must be deterministic, and the decoder is small
        self.encoder = EfficientNetLite(num_classes=None, variant=encoder_variant,
                                        drop_path_rate=0.0, pretrained=pretrained,
                                        norm_eval=True, out_indices=levels)
        if freeze_encoder:
            self.encoder.requires_grad_(False)
        for level in range(frozen_levels):
            for module in self.encoder.level_modules(level):
                module.requires_grad_(False)
        self.laterals = nn.ModuleList(
            nn.Conv2d(self.encoder.level_channels[i], decoder_channels, 1) for i in levels)
        self.smooths = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(decoder_channels, decoder_channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(decoder_channels), nn.ReLU(inplace=True)) for _ in levels)
        self.predicts = nn.ModuleList(nn.Conv2d(decoder_channels, 1, 1) for _ in levels)

    def train(self, mode: bool = True) -> 'EfficientNetLiteFPN':
        """Set the training mode; a frozen encoder stays in eval mode."""
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()
        return self

    def side_outputs(self, inputs: Tensor) -> List[Tensor]:
        """Logits ``[B, 1, h_k, w_k]`` of every decoder level, coarsest first."""
        features = self.encoder(inputs)  # fine to coarse
        logits: List[Tensor] = []
        top_down = None
        for k in reversed(range(len(features))):
            x = self.laterals[k](features[k])
            if top_down is not None:
                x = x + F.interpolate(top_down, size=x.shape[-2:], mode='bilinear',
                                      align_corners=False)
            top_down = self.smooths[k](x)
            logits.append(self.predicts[k](top_down))
        return logits
