"""Multi-label image classifier of stage 1 (paper §2.1.1, §3)."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmseg.structures import SegDataSample
from torch import nn

from wsss_mm.registry import MODELS


@MODELS.register_module()
class MultiLabelClassifier(BaseModel):
    """Backbone + classification head trained with a multi-label soft-margin loss.

    ``model(images)`` (``mode='tensor'``) returns the pre-sigmoid class scores
    y^c, which is what the CAM generators differentiate; Grad-CAM's target layer
    is named from this module, e.g. ``'backbone.features.29'`` for VGG-16.

    Args:
        backbone: Config of the feature extractor (``VGG16Features``, mmseg's
            ``ResNet``, ``EfficientNetLite0`` ...).
        head: Config of the head (``VGGFCHead``, ``GAPLinearHead``).
        data_preprocessor: Normalization and batching config.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.loss_fn = nn.MultiLabelSoftMarginLoss()

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[SegDataSample]] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, Dict[str, torch.Tensor], list]:
        """``'tensor'``: scores [B, C]; ``'loss'``: loss dict; ``'predict'``: samples
        with ``pred_score`` (sigmoid probabilities)."""
        scores = self.head(self.backbone(inputs))
        if mode == 'tensor':
            return scores
        if mode == 'loss':
            targets = torch.stack([s.gt_label for s in data_samples]).to(scores)
            return dict(loss_cls=self.loss_fn(scores, targets))
        if mode == 'predict':
            probs = scores.sigmoid()
            for sample, prob in zip(data_samples, probs):
                sample.set_field(prob.detach(), 'pred_score')
            return data_samples
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")


__all__ = ['MultiLabelClassifier']
