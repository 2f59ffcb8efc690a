"""Grad-CAM element-wise (pytorch-grad-cam's ``GradCAMElementWise``)."""
from typing import Optional

from torch import Tensor

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['GradCAMElementWiseGenerator']


@CAM_GENERATORS.register_module()
class GradCAMElementWiseGenerator(BaseCAMGenerator):
    """Grad-CAM element-wise: A^c = sum_k ReLU(dy^c/dA^k ⊙ A^k).

    Like HiRes-CAM, but each product is rectified before the channel sum, so
    channels that argue against the class cannot cancel those in favour of
    it. Expressed as per-pixel weights: the gradient where the product is
    positive, else 0. See :class:`BaseCAMGenerator` for the arguments and the call.
    """

    def get_pixel_weights(self, activations: Tensor, grads: Optional[Tensor],
                          classes: Tensor) -> Tensor:
        """dy/dA where dy/dA ⊙ A > 0, else 0: ``[T, N, K, h, w]``."""
        return grads * (grads * activations > 0)
