"""Grad-CAM++ (Chattopadhay et al., WACV 2018)."""
from typing import Optional

import torch
from torch import Tensor

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['GradCAMPlusPlusGenerator']


@CAM_GENERATORS.register_module()
class GradCAMPlusPlusGenerator(BaseCAMGenerator):
    """Grad-CAM++: positive gradients weighted per pixel by alpha_ij^kc.

    alpha = g^2 / (2 g^2 + sum_ab A^k_ab g^3) (Eq. 19 of the paper, with the
    exponential-score closed form that pytorch-grad-cam also uses), zero where
    g = 0; w_k^c = sum_ij alpha_ij^kc ReLU(g_ij). See :class:`BaseCAMGenerator`
    for the arguments and the call.
    """

    #: Keeps the denominator away from zero (same value as pytorch-grad-cam).
    eps: float = 1e-6

    def get_cam_weights(self, activations: Tensor, grads: Optional[Tensor],
                        classes: Tensor) -> Tensor:
        """Eq. (19) weights from the gradients and the activation sums."""
        grads_2 = grads.square()
        activation_sums = activations.sum(dim=(-2, -1), keepdim=True)
        alpha = grads_2 / (2 * grads_2 + activation_sums * grads_2 * grads + self.eps)
        alpha = torch.where(grads != 0, alpha, torch.zeros_like(alpha))
        return (alpha * grads.relu()).sum(dim=(-2, -1))
