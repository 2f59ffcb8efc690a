"""HiRes-CAM (Draelos & Carin, 2020): gradient times activation, summed over channels."""
from typing import Optional

from torch import Tensor

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['HiResCAMGenerator']


@CAM_GENERATORS.register_module()
class HiResCAMGenerator(BaseCAMGenerator):
    """HiRes-CAM: A^c = ReLU(sum_k dy^c/dA^k ⊙ A^k), per-pixel weights dy^c/dA.

    Grad-CAM with the gradient kept at every position instead of averaged, so
    the map shows the locations whose activations raise the score. See
    :class:`BaseCAMGenerator` for the arguments and the call.
    """

    def get_pixel_weights(self, activations: Tensor, grads: Optional[Tensor],
                          classes: Tensor) -> Tensor:
        """The gradients themselves, ``[T, N, K, h, w]``."""
        return grads
