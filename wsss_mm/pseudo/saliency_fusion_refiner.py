"""Algorithm 1 of Xu et al. (ICASSP 2019) as a refiner: CAMs + the saliency cue."""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from wsss_mm.io import InputError
from wsss_mm.registry import REFINERS
from .base_refiner import BaseRefiner
from .pseudo_label_fuser import PseudoLabelFuser

__all__ = ['SaliencyFusionRefiner']


@REFINERS.register_module()
class SaliencyFusionRefiner(PseudoLabelFuser, BaseRefiner):
    """:class:`PseudoLabelFuser` (same arguments) on stored CAMs and 8-bit saliency.

    The attention channels are the image's K classes (absent classes never win
    Algorithm 1), so the fuser's ``1 + k`` maps to ``class_ids[k]``.
    """
    cue = 'saliency'

    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[np.ndarray]) -> np.ndarray:
        if cue is None or tuple(cams.shape[1:]) != cue.shape:
            raise InputError(f'CAM size {tuple(cams.shape[1:])} != saliency size '
                             f'{None if cue is None else cue.shape}')
        if cams.shape[0] == 0:  # no class: nothing can be foreground
            return np.zeros(cue.shape, np.uint8)
        saliency = torch.from_numpy(cue).float() / 255
        fused = self(cams.float(), saliency, torch.ones(cams.shape[0]))
        values = np.concatenate([[0], np.asarray(class_ids)]).astype(np.int64)
        fused = fused.numpy()
        in_range = fused < len(values)
        return np.where(in_range, values[np.minimum(fused, len(values) - 1)],
                        fused).astype(np.uint8)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(gamma1={self.gamma1}, gamma2={self.gamma2}, '
                f'ignore_band={self.ignore_band}, ignore_index={self.ignore_index}, '
                f'saliency_norm={self.saliency_norm!r})')
