"""CAM seeds refined by a dense CRF on the image (the "CRF-refined seeds" baseline)."""
from typing import Optional, Sequence, Union

import numpy as np
from torch import Tensor

from wsss_mm.postprocess.dense_crf import DenseCRF
from wsss_mm.registry import POSTPROCESSORS, REFINERS
from .base_refiner import BaseRefiner
from .threshold_refiner import seed_scores

__all__ = ['CRFRefiner']


@REFINERS.register_module()
class CRFRefiner(BaseRefiner):
    """Seed scores ``[bg_threshold, CAMs]`` normalized per pixel -> dense CRF -> argmax.

    The unary is the seeds' own decision (without the pairwise terms the argmax
    equals :class:`ThresholdRefiner`'s); the CRF moves labels to colour edges.

    Args:
        crf: The dense CRF (e.g. DeepLab's defaults, :class:`DenseCRF`), or its config.
        bg_threshold: Background score stacked on the CAMs (0.15 as the seeds).
    """

    def __init__(self, crf: Union[DenseCRF, dict], bg_threshold: float = 0.15) -> None:
        self.crf = POSTPROCESSORS.build(crf) if isinstance(crf, dict) else crf
        self.bg_threshold = float(bg_threshold)

    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[np.ndarray]) -> np.ndarray:
        values = np.concatenate([[0], np.asarray(class_ids)]).astype(np.uint8)
        scores = seed_scores(cams.double(), self.bg_threshold)
        probs = (scores / scores.sum(0, keepdim=True)).float().numpy()
        return values[self.crf(image, probs).argmax(0)]

    def __repr__(self) -> str:
        return f'{type(self).__name__}(crf={self.crf!r}, bg_threshold={self.bg_threshold})'
