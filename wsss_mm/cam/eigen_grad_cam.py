"""EigenGrad-CAM (pytorch-grad-cam): Eigen-CAM of gradient times activation."""
from typing import Optional

from torch import Tensor

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator
from .eigen_cam import principal_projection

__all__ = ['EigenGradCAMGenerator']


@CAM_GENERATORS.register_module()
class EigenGradCAMGenerator(BaseCAMGenerator):
    """EigenGrad-CAM: ReLU(projection of dy^c/dA ⊙ A on its first principal component).

    Class-specific, unlike Eigen-CAM: the decomposed features are the
    HiRes-CAM products of the class, and the component's sign is chosen to
    correlate with their channel sum (the HiRes-CAM map), i.e. with evidence
    for the class. See :class:`BaseCAMGenerator` for the arguments and the call.
    """

    def layer_maps(self, inputs: Tensor, layer_index: int, activations: Tensor,
                   grads: Optional[Tensor], scores: Tensor, classes: Tensor) -> Tensor:
        """One SVD per (slot, image): ``[T, N, h, w]``."""
        return principal_projection(grads * activations)
