"""Stages 1–3 of Xu et al. for one image: Grad-CAM → erasing saliency → Algorithm 1.

The pipeline holds the built components; :mod:`tools.gen_pseudo` drives it over
a split, handles files, resumption and distribution. Fusion always reads the
*stored* precision of the intermediate results (float16 CAMs, 8-bit saliency),
so labels fused in the same run and labels fused later from the files agree.
"""
import io
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from PIL import Image, UnidentifiedImageError
from torch import nn

from wsss_mm.registry import (CAM_GENERATORS, MODELS, PSEUDO_LABEL_FUSERS,
                              SALIENCY_GENERATORS)


class InputError(ValueError):
    """Bad input of one image (unreadable file, missing labels, size mismatch ...)."""


def read_rgb(path: str) -> np.ndarray:
    """Decode an image file fully into RGB uint8 [H, W, 3].

    Every failure of one file raises :class:`InputError` naming it: a missing or
    empty file, an unknown format, truncated data, any decoder error, and images
    over ``Image.MAX_IMAGE_PIXELS`` (checked from the header, before decoding).
    """
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        raise InputError(f'cannot read image {path}: {err}') from err
    if not data:
        raise InputError(f'image {path} is empty (0 bytes)')
    try:
        with warnings.catch_warnings():
            # PIL only warns between MAX_IMAGE_PIXELS and twice that: refuse those too
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()  # raises on truncated data (LOAD_TRUNCATED_IMAGES is False)
        return np.array(image.convert('RGB'))
    except UnidentifiedImageError as err:
        raise InputError(f'cannot read image {path}: not an image format PIL can decode '
                         f'({len(data)} bytes)') from err
    except Exception as err:  # any decoder error (OSError, SyntaxError, bombs, ...)
        raise InputError(f'cannot read image {path}: {type(err).__name__}: {err}') from err


def quantize_cams(cams: torch.Tensor) -> torch.Tensor:
    """The precision CAM files store (float16)."""
    return cams.to(torch.float16).to(torch.float32)


def quantize_saliency(saliency: torch.Tensor) -> np.ndarray:
    """Saliency in [0, 1] -> the 8-bit PNG values that are stored."""
    return torch.round(saliency.clamp(0, 1) * 255).to(torch.uint8).cpu().numpy()


class PseudoLabelPipeline:
    """Attention (stage 1), saliency (stage 2) and fusion (stage 3) of one image.

    Args:
        classifier: Multi-label classifier; ``classifier(x)`` gives class scores.
            Its ``data_preprocessor`` (mean/std/channel order) normalizes inputs.
        cam_generator: A :class:`~wsss_mm.cam.BaseCAMGenerator` over ``classifier``.
        saliency_generator: E.g. :class:`~wsss_mm.saliency.ErasingSaliencyGenerator`.
        fuser: E.g. :class:`~wsss_mm.pseudo.PseudoLabelFuser`.
        saliency_mean / saliency_std: RGB normalization of the saliency detector.
        device: Where the networks run.
    """

    def __init__(self,
                 classifier: nn.Module,
                 cam_generator,
                 saliency_generator: nn.Module,
                 fuser,
                 saliency_mean: Sequence[float] = (123.675, 116.28, 103.53),
                 saliency_std: Sequence[float] = (58.395, 57.12, 57.375),
                 device: str = 'cpu') -> None:
        self.device = torch.device(device)
        self.classifier = classifier.to(self.device).eval()
        self.cam_generator = cam_generator
        self.saliency_generator = saliency_generator.to(self.device).eval()
        self.fuser = fuser
        self.saliency_mean = torch.tensor(saliency_mean, device=self.device).view(1, 3, 1, 1)
        self.saliency_std = torch.tensor(saliency_std, device=self.device).view(1, 3, 1, 1)

    @classmethod
    def from_config(cls, cfg: Config, classifier_checkpoint: Optional[str],
                    device: str = 'cpu') -> 'PseudoLabelPipeline':
        """Build from a config with ``model`` (the classifier), ``cam_generator``,
        ``saliency_generator``, ``saliency_preprocessor`` and ``fuser``."""
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
        norm = cfg.get('saliency_preprocessor', {})
        return cls(classifier, cam_generator, saliency_generator, fuser,
                   saliency_mean=norm.get('mean', (123.675, 116.28, 103.53)),
                   saliency_std=norm.get('std', (58.395, 57.12, 57.375)), device=device)

    def _classifier_input(self, rgb: np.ndarray) -> torch.Tensor:
        """Normalize like the classifier's data preprocessor (which expects BGR files)."""
        prep = self.classifier.data_preprocessor
        image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()
        if not getattr(prep, '_channel_conversion', True):
            image = image.flip(1)  # trained on BGR
        if getattr(prep, '_enable_normalize', False):
            image = (image - prep.mean.cpu()) / prep.std.cpu()
        return image.to(self.device)

    def attention(self, rgb: np.ndarray, labels: np.ndarray) -> Tuple[torch.Tensor, np.ndarray]:
        """Grad-CAM maps of the image's classes.

        Returns:
            ``([K, H, W] float32 maps at stored precision, [K] VOC ids 1..20)``.
        """
        class_index = np.flatnonzero(labels)
        if class_index.size == 0:
            raise InputError('image has no image-level labels')
        multi_hot = torch.as_tensor(labels, dtype=torch.float32, device=self.device)[None]
        maps = self.cam_generator(self._classifier_input(rgb), multi_hot)[0]
        present = torch.as_tensor(class_index, device=maps.device)
        return quantize_cams(maps[present].cpu()), (class_index + 1).astype(np.uint8)

    @torch.no_grad()
    def saliency(self, rgb: np.ndarray) -> np.ndarray:
        """Erasing saliency S = max(S0..SK) as stored 8-bit values [H, W]."""
        image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()
        image = (image.to(self.device) - self.saliency_mean) / self.saliency_std
        return quantize_saliency(self.saliency_generator(image)[0])

    def fuse(self, cams: torch.Tensor, class_ids: np.ndarray, saliency_u8: np.ndarray,
             num_classes: int = 20) -> np.ndarray:
        """Algorithm 1 on stored CAMs and saliency; returns uint8 labels 0..20 (255)."""
        if cams.shape[1:] != saliency_u8.shape:
            raise InputError(f'CAM size {tuple(cams.shape[1:])} != saliency size '
                             f'{saliency_u8.shape}')
        h, w = saliency_u8.shape
        attention = torch.zeros(num_classes, h, w)
        ids = torch.as_tensor(class_ids.astype(np.int64)) - 1
        attention[ids] = cams.float()
        labels = torch.zeros(num_classes)
        labels[ids] = 1
        saliency = torch.from_numpy(saliency_u8).float() / 255
        return self.fuser(attention, saliency, labels).to(torch.uint8).numpy()
