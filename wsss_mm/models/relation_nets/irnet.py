"""IRNet (Ahn et al., CVPR 2019): class boundaries learned from CAM relation labels."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmseg.models.backbones import ResNet
from mmseg.structures import SegDataSample
from torch import Tensor

from wsss_mm.registry import MODELS

__all__ = ['IRNet']


@MODELS.register_module()
class IRNet(BaseModel):
    """Frozen backbone feature pyramid + class-boundary branch, trained by the affinity loss.

    The backbone (IRN: mmseg ``ResNet`` of depth 50, ``strides=(1, 2, 2, 1)``,
    ImageNet weights) stays frozen in eval mode, as in IRN, whose features are
    detached; only ``boundary_head`` learns (``freeze_backbone=False`` trains
    both, for backbones without pretrained weights). With a ``ResNet`` the
    pyramid is IRN's: the stem (after max-pooling, stride 4) and the four
    residual stages (``ResNet.forward`` leaves out the stem); any other backbone
    gives its levels as the tuple its ``forward`` returns (e.g.
    :class:`EfficientNetLite0` with ``out_indices``), the first one at ``stride``.
    This is the semantic path of IRN; the displacement-field branch (instances)
    is not built.

    The relation labels are the ``gt_sem_seg`` of the samples at input
    resolution (0 background, class ids, ``ignore_index``); they are sampled
    at the centre of each stride-4 cell, as IRN's nearest 1/4 rescale.

    Args:
        backbone: mmseg ``ResNet`` config (``deep_stem`` or not), or a backbone whose
            ``forward`` returns the tuple of pyramid levels ``[B, C_i, h_i, w_i]``.
        boundary_head: :class:`ClassBoundaryHead` config.
        loss: :class:`AffinityLoss` config (IRN trains at radius 10).
        stride: Stride of the boundary grid (IRN: 4).
        freeze_backbone: Keep the backbone fixed in eval mode (IRN: True).
        test_pad_size: At inference, pad each normalized image (and, separately,
            its flip) with 0 (the mean colour) at the bottom / right to at least
            ``test_pad_size`` square and crop the boundary map back to
            ``ceil(H / stride) x ceil(W / stride)``, as IRN's ``EdgeDisplacement``
            (512, the training crop: GroupNorm then sees padded maps as in
            training). ``None`` predicts at the image's own size.
        data_preprocessor: ``SegDataPreProcessor`` config.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 backbone: dict,
                 boundary_head: dict,
                 loss: dict = dict(type='AffinityLoss', radius=10),
                 stride: int = 4,
                 freeze_backbone: bool = True,
                 test_pad_size: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.boundary_head = MODELS.build(boundary_head)
        self.loss_fn = MODELS.build(loss)
        self.stride = stride
        self.freeze_backbone = freeze_backbone
        if test_pad_size is not None and test_pad_size < 1:
            raise ValueError(f'test_pad_size must be positive or None, got {test_pad_size}')
        self.test_pad_size = test_pad_size
        if freeze_backbone:
            for param in self.backbone.parameters():
                param.requires_grad_(False)

    def train(self, mode: bool = True) -> 'IRNet':
        """Switch the modes; a frozen backbone always stays in eval mode."""
        super().train(mode)
        if self.freeze_backbone:
            self.backbone.eval()
        return self

    def extract_feats(self, inputs: Tensor) -> List[Tensor]:
        """The pyramid levels: a ``ResNet``'s stem (after max-pooling) and four stage
        outputs, another backbone's ``forward`` tuple."""
        backbone = self.backbone
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_backbone):
            if not isinstance(backbone, ResNet):
                return list(backbone(inputs))
            if backbone.deep_stem:
                x = backbone.stem(inputs)
            else:
                x = backbone.relu(backbone.norm1(backbone.conv1(inputs)))
            x = backbone.maxpool(x)
            feats = [x]
            for name in backbone.res_layers:
                x = getattr(backbone, name)(x)
                feats.append(x)
        return feats

    def boundary_logits(self, inputs: Tensor) -> Tensor:
        """Boundary logits ``[B, 1, ceil(H/4), ceil(W/4)]`` of images ``[B, 3, H, W]``."""
        return self.boundary_head(self.extract_feats(inputs))

    @torch.no_grad()
    def predict_boundary(self, inputs: Tensor) -> Tensor:
        """Boundary probabilities ``[B, h, w]``: sigmoid of the logits averaged with the
        h-flipped image's (IRN's ``EdgeDisplacement``); ``h, w = ceil(H/stride), ceil(W/stride)``."""
        height, width = inputs.shape[-2:]
        both = torch.cat([inputs, inputs.flip(-1)])
        if self.test_pad_size is not None:
            size = self.test_pad_size
            both = F.pad(both, (0, max(size - width, 0), 0, max(size - height, 0)), value=0.0)
        logits = self.boundary_logits(both)[:, 0]
        logits = logits[:, :-(-height // self.stride), :-(-width // self.stride)]
        half = inputs.shape[0]
        return torch.sigmoid((logits[:half] + logits[half:].flip(-1)) / 2)

    def grid_labels(self, labels: Tensor, size: torch.Size) -> Tensor:
        """Labels ``[B, H, W]`` sampled at the centre of each stride cell -> ``[B, h, w]``."""
        height, width = labels.shape[-2:]
        rows = (torch.arange(size[0], device=labels.device) * self.stride + self.stride // 2)
        cols = (torch.arange(size[1], device=labels.device) * self.stride + self.stride // 2)
        return labels[:, rows.clamp(max=height - 1)][:, :, cols.clamp(max=width - 1)]

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[SegDataSample]] = None,
                mode: str = 'tensor') -> Union[Tensor, Dict[str, Tensor], list]:
        """``'tensor'``: boundary logits; ``'loss'``: affinity loss terms;
        ``'predict'``: samples with ``pred_boundary`` ([h, w] probabilities)."""
        if mode == 'tensor':
            return self.boundary_logits(inputs)
        if mode == 'loss':
            logits = self.boundary_logits(inputs)[:, 0]
            labels = torch.stack([s.gt_sem_seg.data[0] for s in data_samples]).long()
            return self.loss_fn(torch.sigmoid(logits), self.grid_labels(labels, logits.shape[-2:]))
        if mode == 'predict':
            for sample, boundary in zip(data_samples, self.predict_boundary(inputs)):
                sample.set_field(boundary, 'pred_boundary')
            return data_samples
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")
