"""DeepLab-v2 with multi-scale inputs and max fusion (MSC), as in Xu et al. 2019."""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmseg.models.losses import accuracy
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, OptSampleList, SampleList
from torch import Tensor

from wsss_mm.registry import MODELS

__all__ = ['MSCDeepLabV2']


@MODELS.register_module()
class MSCDeepLabV2(EncoderDecoder):
    """DeepLab-v2 segmentor whose shared network sees the image at several scales.

    The image is fed at every scale of ``scales`` (bilinear resizing,
    ``align_corners=False``, output size ``floor(scale × size)``); each pass
    gives logits at its own resolution. The logits of every scale are resized
    bilinearly to the size of the ×1.0 logits and fused by a pixel-wise max.
    Training supervises every per-scale output and the fused one with
    ``loss`` (:class:`MaxFusionLoss`: 4 cross-entropy terms for the paper's
    scales (1.0, 0.75, 0.5)); inference uses the fused logits. With
    ``scales=(1.0,)`` it is the plain single-scale DeepLab-v2: there is nothing
    to fuse, :meth:`forward_scales` returns ``[logits]`` and the loss is one
    cross-entropy term.

    Prediction reuses :class:`EncoderDecoder`'s inference ('whole' or 'slide'
    ``test_cfg.mode``) and ``postprocess_result`` (padding removal, flip,
    resize to ``ori_shape``), so mmseg's ``IoUMetric``, visualizer and test
    tools work unchanged. BatchNorm is frozen through the backbone config
    (``norm_cfg=dict(type='BN', requires_grad=False)``, ``norm_eval=True``),
    as DeepLab-v2 trains with batch 1-10.

    Args:
        backbone (dict): Backbone config, e.g. mmseg ``ResNet`` depth 101 with
            ``strides=(1, 2, 1, 1)``, ``dilations=(1, 1, 2, 4)`` (output stride 8).
        decode_head (dict): Head config (:class:`ASPPv2Head`); it must expose
            ``num_classes``, ``out_channels`` and ``align_corners``.
        loss (dict | nn.Module): Loss over the list of outputs and the
            B×H×W labels; must have ``ignore_index``. Defaults to
            ``dict(type='MaxFusionLoss')``.
        scales (Sequence[float]): Input scales; must contain 1.0, whose logits
            set the fusion size. Defaults to (1.0,).
        neck (dict, optional): Neck config between backbone and head.
        train_cfg (dict, optional): Unused by this model; kept for mmseg configs.
        test_cfg (dict, optional): mmseg test config; ``mode='whole'``
            (default) or ``'slide'`` with ``crop_size`` and ``stride``.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config.
        pretrained (str, optional): Backbone checkpoint (mmseg convention).
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 loss: Union[ConfigType, nn.Module] = dict(type='MaxFusionLoss'),
                 scales: Sequence[float] = (1.0, ),
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        scales = tuple(float(scale) for scale in scales)
        if 1.0 not in scales:
            raise ValueError(f'scales must contain 1.0 (the fusion size), got {scales}')
        if len(set(scales)) != len(scales) or min(scales) <= 0:
            raise ValueError(f'scales must be distinct and positive, got {scales}')
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=ConfigDict(test_cfg if test_cfg is not None else dict(mode='whole')),
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        self.scales = scales
        self.msc_loss = MODELS.build(loss) if isinstance(loss, dict) else loss

    def forward_scales(self, inputs: Tensor) -> List[Tensor]:
        """Per-scale logits (in the order of ``scales``), then the max-fused logits.

        Args:
            inputs (Tensor): Images, B×3×H×W.

        Returns:
            list[Tensor]: ``len(scales) + 1`` logit maps, each at its own
            resolution, the last one fused at the ×1.0 logit size; for a single
            scale just ``[logits]``.
        """
        height, width = inputs.shape[2:]
        outputs = []
        for scale in self.scales:
            if scale == 1.0:
                scaled = inputs
            else:
                size = (max(int(height * scale), 1), max(int(width * scale), 1))
                scaled = resize(inputs, size=size, mode='bilinear', align_corners=False)
            outputs.append(self.decode_head(self.extract_feat(scaled)))
        if len(outputs) == 1:
            return outputs
        fusion_size = outputs[self.scales.index(1.0)].shape[2:]
        aligned = [
            logits if logits.shape[2:] == fusion_size else resize(
                logits, size=fusion_size, mode='bilinear', align_corners=self.align_corners)
            for logits in outputs
        ]
        return outputs + [torch.stack(aligned).amax(dim=0)]

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Fused logits resized to the (padded) input size, for mmseg's inference."""
        fused = self.forward_scales(inputs)[-1]
        return resize(fused, size=inputs.shape[2:], mode='bilinear',
                      align_corners=self.align_corners)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of all outputs against ``gt_sem_seg``, plus the fused accuracy.

        Returns:
            dict[str, Tensor]: ``loss_seg`` (summed cross-entropies) and
            ``acc_seg`` (pixel accuracy of the fused logits at label size).
        """
        labels = torch.stack([sample.gt_sem_seg.data for sample in data_samples])[:, 0].long()
        outputs = self.forward_scales(inputs)
        with torch.no_grad():
            fused = resize(outputs[-1], size=labels.shape[1:], mode='bilinear',
                           align_corners=self.align_corners)
            acc = accuracy(fused, labels, ignore_index=self.msc_loss.ignore_index)
        return dict(loss_seg=self.msc_loss(outputs, labels), acc_seg=acc)

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None) -> List[Tensor]:
        """``mode='tensor'``: the raw outputs of :meth:`forward_scales`."""
        return self.forward_scales(inputs)
