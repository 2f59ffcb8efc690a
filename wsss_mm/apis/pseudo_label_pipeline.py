"""Stages 1–3 of Xu et al. for one image: Grad-CAM → erasing saliency → Algorithm 1.

The pipeline holds the built components and works on the data samples of a
registered dataset (``dict(inputs=[3, H, W] uint8 BGR, data_samples=SegDataSample
with gt_label)``, as :class:`~wsss_mm.datasets.PackMultiLabelInputs` packs them);
:mod:`tools.gen_pseudo` drives it over a split and :mod:`wsss_mm.io` stores the
results. Both networks see their inputs through their own data preprocessors,
as at training time. Class ids are the dataset's label values
(``metainfo['label_ids']``).
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from torch import nn

from wsss_mm.cam import normalize_maps
from wsss_mm.io import InputError, quantize_cams, quantize_saliency
from wsss_mm.registry import CAM_GENERATORS, MODELS, PSEUDO_LABEL_FUSERS, SALIENCY_GENERATORS

__all__ = ['PseudoLabelPipeline', 'fuse_stored', 'DEFAULT_SALIENCY_PREPROCESSOR']

#: Input normalization of the saliency detectors (ImageNet RGB statistics on 0..255).
DEFAULT_SALIENCY_PREPROCESSOR = dict(type='ImgDataPreprocessor',
                                     mean=[123.675, 116.28, 103.53],
                                     std=[58.395, 57.12, 57.375],
                                     bgr_to_rgb=True)


def fuse_stored(fuser, cams: torch.Tensor, class_ids: np.ndarray, saliency_u8: np.ndarray,
                label_ids: Sequence[int]) -> np.ndarray:
    """Algorithm 1 on stored CAMs and saliency.

    Args:
        fuser: E.g. :class:`~wsss_mm.pseudo.PseudoLabelFuser`; its labels are 0 for
            background and ``1 + c`` for attention channel ``c``.
        cams: [K, H, W] maps of the image's classes.
        class_ids: [K] their label values.
        saliency_u8: [H, W] stored 8-bit saliency.
        label_ids: The dataset's label value of each class (``metainfo['label_ids']``).

    Returns:
        [H, W] uint8 label values (0 background, ``label_ids``, the fuser's ignore value).
    """
    if cams.shape[1:] != saliency_u8.shape:
        raise InputError(f'CAM size {tuple(cams.shape[1:])} != saliency size '
                         f'{saliency_u8.shape}')
    channel = {int(v): c for c, v in enumerate(label_ids)}
    unknown = [int(v) for v in class_ids if int(v) not in channel]
    if unknown:
        raise InputError(f'class ids {unknown} are not label values of the dataset')
    h, w = saliency_u8.shape
    index = torch.as_tensor([channel[int(v)] for v in class_ids], dtype=torch.int64)
    attention = torch.zeros(len(label_ids), h, w)
    attention[index] = cams.float()
    labels = torch.zeros(len(label_ids))
    labels[index] = 1
    saliency = torch.from_numpy(saliency_u8).float() / 255
    fused = fuser(attention, saliency, labels)
    # fuser value 0 / 1 + c -> background / the dataset's value of class c
    values = torch.as_tensor([0, *label_ids], dtype=torch.int64)
    in_range = fused <= len(label_ids)
    mapped = torch.where(in_range, values[fused.clamp(max=len(label_ids))], fused)
    return mapped.to(torch.uint8).numpy()


class PseudoLabelPipeline:
    """Attention (stage 1), saliency (stage 2) and fusion (stage 3) of one image.

    Args:
        classifier: Multi-label classifier; ``classifier(x)`` gives class scores
            and its ``data_preprocessor`` prepares its inputs.
        cam_generator: A :class:`~wsss_mm.cam.BaseCAMGenerator` over ``classifier``.
        saliency_generator: E.g. :class:`~wsss_mm.saliency.ErasingSaliencyGenerator`.
        fuser: E.g. :class:`~wsss_mm.pseudo.PseudoLabelFuser`.
        label_ids: The dataset's label value of each classifier output.
        saliency_preprocessor: Data preprocessor of the saliency detector
            (default: built from :data:`DEFAULT_SALIENCY_PREPROCESSOR`).
        cam_input_size: Long side (pixels) the classifier's input is resized to for
            the CAMs, which are then resized back bilinearly and renormalized; None
            (default) computes them on the original image.
        device: Where the networks run.
    """

    def __init__(self,
                 classifier: nn.Module,
                 cam_generator,
                 saliency_generator: nn.Module,
                 fuser,
                 label_ids: Sequence[int],
                 saliency_preprocessor: Optional[nn.Module] = None,
                 cam_input_size: Optional[int] = None,
                 device: str = 'cpu') -> None:
        self.device = torch.device(device)
        self.classifier = classifier.to(self.device).eval()
        self.cam_generator = cam_generator
        self.saliency_generator = saliency_generator.to(self.device).eval()
        self.fuser = fuser
        self.label_ids = tuple(int(v) for v in label_ids)
        if saliency_preprocessor is None:
            saliency_preprocessor = MODELS.build(DEFAULT_SALIENCY_PREPROCESSOR)
        self.saliency_preprocessor = saliency_preprocessor.to(self.device)
        if cam_input_size is not None and cam_input_size < 1:
            raise ValueError(f'cam_input_size must be a positive size or None, got '
                             f'{cam_input_size}')
        self.cam_input_size = cam_input_size

    @classmethod
    def from_config(cls, cfg: Config, classifier_checkpoint: Optional[str],
                    label_ids: Sequence[int], device: str = 'cpu') -> 'PseudoLabelPipeline':
        """Build from a config with ``model`` (the classifier), ``cam_generator``,
        ``saliency_generator``, ``fuser`` and optionally ``saliency_preprocessor`` and
        ``cam_input_size``."""
        classifier = MODELS.build(cfg.model)
        if classifier_checkpoint:
            load_checkpoint(classifier, classifier_checkpoint, map_location='cpu', strict=True)
        else:
            classifier.init_weights()
        classifier.to(device)
        cam_generator = CAM_GENERATORS.build(cfg.cam_generator,
                                             default_args=dict(model=classifier))
        saliency_generator = SALIENCY_GENERATORS.build(cfg.saliency_generator)
        fuser = PSEUDO_LABEL_FUSERS.build(cfg.fuser)
        preprocessor = MODELS.build(cfg.get('saliency_preprocessor',
                                            DEFAULT_SALIENCY_PREPROCESSOR))
        return cls(classifier, cam_generator, saliency_generator, fuser, label_ids,
                   saliency_preprocessor=preprocessor,
                   cam_input_size=cfg.get('cam_input_size'), device=device)

    @staticmethod
    def _prepare(preprocessor: nn.Module, data: dict) -> torch.Tensor:
        """[1, 3, H, W] network input of one sample, through a data preprocessor."""
        batch = dict(inputs=[data['inputs']], data_samples=[data['data_samples']])
        return preprocessor(batch, training=False)['inputs']

    def attention(self, data: dict) -> Tuple[torch.Tensor, np.ndarray]:
        """Grad-CAM maps of the image's classes.

        Returns:
            ``([K, H, W] float32 maps at stored precision, [K] uint8 label values)``.
        """
        labels = data['data_samples'].gt_label
        class_index = torch.nonzero(labels).flatten()
        if class_index.numel() == 0:
            raise InputError(f'image {data["data_samples"].img_path} has no image-level labels')
        image = self._prepare(self.classifier.data_preprocessor, data)
        multi_hot = labels.to(device=self.device, dtype=torch.float32)[None]
        maps = self._cams(image, multi_hot)[0]
        ids = np.asarray(self.label_ids, dtype=np.uint8)[class_index.numpy()]
        return quantize_cams(maps[class_index.to(maps.device)].cpu()), ids

    def _cams(self, image: torch.Tensor, multi_hot: torch.Tensor) -> torch.Tensor:
        """[1, C, H, W] maps at the input size, computed at ``cam_input_size`` if set."""
        if self.cam_input_size is None:
            return self.cam_generator(image, multi_hot)
        h, w = image.shape[-2:]
        scale = self.cam_input_size / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        small = F.interpolate(image, size=size, mode='bilinear', align_corners=False)
        maps = self.cam_generator(small, multi_hot)
        return normalize_maps(F.interpolate(maps, size=(h, w), mode='bilinear',
                                            align_corners=False))

    @torch.no_grad()
    def saliency(self, data: dict) -> np.ndarray:
        """Erasing saliency S = max(S0..SK) as stored 8-bit values [H, W]."""
        image = self._prepare(self.saliency_preprocessor, data)
        return quantize_saliency(self.saliency_generator(image)[0])

    def fuse(self, cams: torch.Tensor, class_ids: np.ndarray,
             saliency_u8: np.ndarray) -> np.ndarray:
        """Algorithm 1 on stored CAMs and saliency: [H, W] uint8 label values."""
        return fuse_stored(self.fuser, cams, class_ids, saliency_u8, self.label_ids)
