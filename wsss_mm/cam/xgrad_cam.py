"""XGrad-CAM (Fu et al., "Axiom-based Grad-CAM", BMVC 2020)."""
from typing import Optional

import torch
from torch import Tensor

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['XGradCAMGenerator']


@CAM_GENERATORS.register_module()
class XGradCAMGenerator(BaseCAMGenerator):
    """XGrad-CAM: w_k^c = sum_ij (A^k_ij / sum_ab A^k_ab) dy^c/dA^k_ij.

    The gradients are averaged with the channel's own activations as weights
    instead of uniformly (Grad-CAM), which makes the map satisfy the
    sensitivity and conservation axioms of the paper. Meant for a target layer
    after a ReLU (non-negative A); a channel whose activations sum to zero gets
    weight 0 (pytorch-grad-cam adds 1e-7 to the sum instead). See
    :class:`BaseCAMGenerator` for the arguments and the call.
    """

    def get_cam_weights(self, activations: Tensor, grads: Optional[Tensor],
                        classes: Tensor) -> Tensor:
        """Activation-weighted sums of the gradients, ``[T, N, K]``."""
        sums = activations.sum(dim=(-2, -1))
        weighted = (grads * activations).sum(dim=(-2, -1))
        nonzero = sums != 0
        return torch.where(nonzero, weighted / torch.where(nonzero, sums, 1), 0)
