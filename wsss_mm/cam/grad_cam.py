"""Grad-CAM (Selvaraju et al., ICCV 2017), the attention maps of the paper (Eq. 1-2)."""
from typing import Optional

from torch import Tensor

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['GradCAMGenerator']


@CAM_GENERATORS.register_module()
class GradCAMGenerator(BaseCAMGenerator):
    """Grad-CAM: alpha_k^c = mean_ij dy^c/dA^k_ij, A^c = ReLU(sum_k alpha_k^c A^k).

    y^c is the pre-sigmoid class score. All classes of all images come from one
    forward pass and one batched backward per scale. See
    :class:`BaseCAMGenerator` for the arguments and the call.
    """

    def get_cam_weights(self, activations: Tensor, grads: Optional[Tensor],
                        classes: Tensor) -> Tensor:
        """Eq. (1): the spatial mean of the gradients."""
        return grads.mean(dim=(-2, -1))
