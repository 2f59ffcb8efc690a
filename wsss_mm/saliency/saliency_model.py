"""mmengine model that trains and evaluates a salient object detector."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import Tensor

from wsss_mm.registry import MODELS

__all__ = ['SaliencyDetector']


@MODELS.register_module()
class SaliencyDetector(BaseModel):
    """Runner-facing wrapper of a deeply supervised saliency detector.

    ``mode='loss'``: binary cross-entropy of every side output (logits
    upsampled to the mask size) against the 0/1 mask in ``gt_sem_seg``,
    pixels equal to ``ignore_index`` (padding) excluded; one loss term per
    side output. ``mode='predict'``: the saliency map, padding removed and
    resized to the original image size, stored as ``pred_saliency``
    (``[1, H, W]`` in ``[0, 1]``) and thresholded at 0.5 as ``pred_sem_seg``
    in each data sample. ``mode='tensor'``: the detector's raw output.

    Args:
        detector (dict | nn.Module): a detector whose training-mode forward
            returns a list of side-output logits (final last) and whose
            eval-mode forward returns saliency ``[B, 1, H, W]``, e.g. DHSNet.
        data_preprocessor (dict | nn.Module, optional): e.g.
            ``dict(type='SegDataPreProcessor', ...)``.
        loss_weights (Sequence[float], optional): weight of each side-output
            loss, same order as the side outputs; ``None`` weights all 1.
        ignore_index (int): mask value excluded from the loss.
            Defaults to 255.
        init_cfg (dict, optional): mmengine initialization config.
    """

    def __init__(self,
                 detector: Union[dict, nn.Module],
                 data_preprocessor: Union[dict, nn.Module, None] = None,
                 loss_weights: Optional[Sequence[float]] = None,
                 ignore_index: int = 255,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.detector = MODELS.build(detector) if isinstance(detector, dict) else detector
        self.loss_weights = None if loss_weights is None else tuple(loss_weights)
        self.ignore_index = ignore_index

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[SegDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], List[SegDataSample], Tensor,
                                               List[Tensor]]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.detector(inputs)
        raise ValueError(f'invalid mode {mode!r}; use "loss", "predict" or "tensor"')

    def loss(self, inputs: Tensor, data_samples: List[SegDataSample]) -> Dict[str, Tensor]:
        """Deep-supervision BCE losses, ``loss_side{k}`` for side output k."""
        side_logits = self.detector(inputs)
        if not isinstance(side_logits, (list, tuple)):
            raise TypeError('the detector must return a list of side-output logits in '
                            f'training mode, got {type(side_logits).__name__}')
        weights = self.loss_weights or (1.0, ) * len(side_logits)
        if len(weights) != len(side_logits):
            raise ValueError(f'{len(weights)} loss weights for {len(side_logits)} side outputs')
        masks = torch.stack([sample.gt_sem_seg.data for sample in data_samples]).float()
        valid = (masks != self.ignore_index).float()
        targets = masks * valid
        num_valid = valid.sum().clamp(min=1)
        losses = {}
        for index, (logits, weight) in enumerate(zip(side_logits, weights)):
            logits = F.interpolate(
                logits, size=masks.shape[-2:], mode='bilinear', align_corners=False)
            bce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
            losses[f'loss_side{index}'] = weight * (bce * valid).sum() / num_valid
        return losses

    def predict(self, inputs: Tensor,
                data_samples: Optional[List[SegDataSample]] = None) -> List[SegDataSample]:
        """Saliency maps at the original image size inside data samples."""
        saliency = self.detector(inputs)
        if saliency.dim() == 3:
            saliency = saliency[:, None]
        if data_samples is None:
            data_samples = [SegDataSample(metainfo=dict(ori_shape=inputs.shape[-2:]))
                            for _ in range(inputs.shape[0])]
        height, width = inputs.shape[-2:]
        for sample, sal in zip(data_samples, saliency):
            left, right, top, bottom = sample.metainfo.get('padding_size', (0, 0, 0, 0))
            sal = sal[None, :, top:height - bottom, left:width - right]
            sal = F.interpolate(
                sal, size=sample.metainfo['ori_shape'], mode='bilinear',
                align_corners=False)[0].clamp(0, 1)
            sample.set_data(dict(pred_saliency=PixelData(data=sal),
                                 pred_sem_seg=PixelData(data=(sal >= 0.5).long())))
        return data_samples
