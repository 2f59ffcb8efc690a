"""Plain CAM seeds as pseudo labels: background below a threshold, else the argmax class."""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from wsss_mm.registry import REFINERS
from .base_refiner import BaseRefiner

__all__ = ['ThresholdRefiner', 'seed_scores']


def seed_scores(cams: Tensor, bg_threshold: float) -> Tensor:
    """``[K + 1, H, W]``: a constant background score ``bg_threshold`` stacked on the CAMs."""
    return torch.cat([cams.new_full((1, *cams.shape[1:]), bg_threshold), cams])


@REFINERS.register_module()
class ThresholdRefiner(BaseRefiner):
    """Label = argmax over ``[bg_threshold, CAMs]`` (ties go to the background).

    Args:
        bg_threshold: Background score (IRN evaluates its seeds at 0.15).
    """

    def __init__(self, bg_threshold: float = 0.15) -> None:
        self.bg_threshold = float(bg_threshold)

    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[np.ndarray]) -> np.ndarray:
        values = np.concatenate([[0], np.asarray(class_ids)]).astype(np.uint8)
        return values[seed_scores(cams.float(), self.bg_threshold).argmax(0).numpy()]

    def __repr__(self) -> str:
        return f'{type(self).__name__}(bg_threshold={self.bg_threshold})'
