"""Score-CAM (Wang et al., CVPRW 2020): channel weights from the scores of masked inputs."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import weighted_sum
from .perturbation_cam import PerturbationCAMGenerator

__all__ = ['ScoreCAMGenerator']


@CAM_GENERATORS.register_module()
class ScoreCAMGenerator(PerturbationCAMGenerator):
    """Score-CAM: w^c = softmax_k y^c(X ⊙ M^k), M^k = min-max of A^k upsampled.

    Each channel A^k is upsampled to the input size (bilinear,
    ``align_corners=True``), scaled to [0, 1] by ``(x - min) / (max - min +
    1e-8)`` and used as a mask on the input; the class scores of the masked
    inputs, soft-maxed over the channels, are the channel weights
    (pytorch-grad-cam's formulation). No gradient is needed.

    One forward pass per channel gives the scores of *all* classes, so the
    cost does not grow with the number of classes; the masked inputs of all
    images of a call are batched ``batch_size`` at a time (this bounds memory:
    ``batch_size`` images of the input size and the network's activations for
    them). Constant channels give an all-zero input: its scores are computed
    once.

    ``batch_size`` (default 16) and the other arguments: see
    :class:`~wsss_mm.cam.PerturbationCAMGenerator`.
    """

    DEFAULT_BATCH_SIZE = 16

    def layer_maps(self, inputs: Tensor, layer_index: int, activations: Tensor,
                   grads: Optional[Tensor], scores: Tensor, classes: Tensor) -> Tensor:
        """``sum_k w_k A^k`` with the softmax of the masked-input scores, ``[T, N, h, w]``."""
        num_images, num_channels = activations.shape[:2]
        flat = activations.flatten(2)
        constant = flat.amax(dim=-1) == flat.amin(dim=-1)  # [N, K]
        masked_scores = scores.new_empty(num_images, num_channels, scores.shape[1])
        with torch.no_grad():
            pairs = (~constant).nonzero()
            for chunk in pairs.split(self.batch_size):
                masks = F.interpolate(activations[chunk[:, 0], chunk[:, 1]][:, None],
                                      size=inputs.shape[-2:], mode='bilinear',
                                      align_corners=True)
                low = masks.amin(dim=(-2, -1), keepdim=True)
                high = masks.amax(dim=(-2, -1), keepdim=True)
                masks = (masks - low) / (high - low + 1e-8)
                masked_scores[chunk[:, 0], chunk[:, 1]] = self.model(inputs[chunk[:, 0]] * masks)
            if constant.any():
                masked_scores[constant] = self.model(torch.zeros_like(inputs[:1]))[0]
        # [N, K, C] -> the requested class of every slot: [T, N, K]
        index = classes.t()[:, None, :].expand(-1, num_channels, -1)
        weights = masked_scores.gather(2, index).permute(2, 0, 1).softmax(dim=-1)
        return weighted_sum(weights[..., None, None], activations)
