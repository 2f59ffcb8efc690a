"""CAM seeds refined by a dense CRF on the image (the "CRF-refined seeds" baseline)."""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from wsss_mm.postprocess.dense_crf import DenseCRF
from wsss_mm.registry import POSTPROCESSORS, REFINERS
from .base_refiner import BaseRefiner
from .threshold_refiner import seed_scores

__all__ = ['CRFRefiner']


@REFINERS.register_module()
class CRFRefiner(BaseRefiner):
    """Seed scores -> dense CRF -> argmax, with one of two background conventions.

    ``background='threshold'`` (this toolbox's DeepLab-CRF baseline): the scores
    ``[bg_threshold, CAMs]`` normalized per pixel are the unary; without the
    pairwise terms the argmax equals :class:`ThresholdRefiner`'s.
    ``background='psa'`` (PSA, Ahn & Kwak 2018, ``infer_cls.py``
    ``_crf_with_alpha``): the background score is ``(1 - max_c CAM_c)^alpha``
    and ``[bg, CAMs]`` go to the unary ``-log`` as they are, not normalized;
    PSA runs it with alpha 4 (its confident foreground) and 32 (its confident
    background) and the CRF of ``configs/irn/pseudo_r50-cam-crf-psa_voc12aug.py`` (10
    iterations, Gaussian 3 / 3, bilateral 80 / 13 / 10). The CRF moves the
    labels to colour edges.

    Args:
        crf: The dense CRF (e.g. DeepLab's defaults, :class:`DenseCRF`), or its config.
        bg_threshold: Background score stacked on the CAMs (``'threshold'``; 0.15
            as the seeds).
        background: ``'threshold'`` or ``'psa'``.
        alpha: Exponent of PSA's background score (``'psa'``).
    """

    def __init__(self, crf: Union[DenseCRF, dict], bg_threshold: float = 0.15,
                 background: str = 'threshold', alpha: float = 4.0) -> None:
        if background not in ('threshold', 'psa'):
            raise ValueError(f"background must be 'threshold' or 'psa', got {background!r}")
        if alpha <= 0:
            raise ValueError(f'alpha must be positive, got {alpha}')
        self.crf = POSTPROCESSORS.build(crf) if isinstance(crf, dict) else crf
        self.bg_threshold = float(bg_threshold)
        self.background = background
        self.alpha = float(alpha)

    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[np.ndarray]) -> np.ndarray:
        values = np.concatenate([[0], np.asarray(class_ids)]).astype(np.uint8)
        cams = cams.double()
        if self.background == 'psa':
            peak = cams.amax(0, keepdim=True) if len(cams) else cams.new_zeros(1, *cams.shape[1:])
            scores = torch.cat([(1 - peak).pow(self.alpha), cams])
            probs = scores.float().numpy()
        else:
            scores = seed_scores(cams, self.bg_threshold)
            probs = (scores / scores.sum(0, keepdim=True)).float().numpy()
        return values[self.crf(image, probs).argmax(0)]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crf={self.crf!r}, bg_threshold={self.bg_threshold}, '
                f'background={self.background!r}, alpha={self.alpha})')
