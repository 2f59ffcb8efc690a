"""Ablation-CAM (Desai & Ramaswamy, WACV 2020): channel weights from the score drop."""
from typing import Optional

import torch
from torch import Tensor, nn

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import weighted_sum
from .perturbation_cam import PerturbationCAMGenerator

__all__ = ['AblationCAMGenerator']


@CAM_GENERATORS.register_module()
class AblationCAMGenerator(PerturbationCAMGenerator):
    """Ablation-CAM: w_k^c = (y^c - y^c_k) / y^c, y^c_k = score with A^k set to 0.

    No gradient is needed. The ablated copies of A replace the target layer's
    output through a forward hook while the network runs on the single
    original image, so the layers before the target run once per
    ``batch_size`` channels (not once per channel) and one pass gives the
    scores of all classes. This needs the layers after the target to accept a
    batch of ``batch_size`` activations for one input image (true for
    sequential heads and for residual additions, which broadcast).

    Channels are set to 0, as in the paper; pytorch-grad-cam does the same for
    layers whose minimum is 0 (e.g. after a ReLU) and substitutes a very
    negative value otherwise.

    ``batch_size`` (default 64) and the other arguments: see
    :class:`~wsss_mm.cam.PerturbationCAMGenerator`.
    """

    DEFAULT_BATCH_SIZE = 64

    def layer_maps(self, inputs: Tensor, layer_index: int, activations: Tensor,
                   grads: Optional[Tensor], scores: Tensor, classes: Tensor) -> Tensor:
        """``sum_k w_k A^k`` with the relative score drops, ``[T, N, h, w]``."""
        num_images, num_channels = activations.shape[:2]
        ablated_scores = scores.new_empty(num_images, num_channels, scores.shape[1])
        for n in range(num_images):
            for chunk in torch.arange(num_channels, device=scores.device).split(self.batch_size):
                copies = activations[n].repeat(len(chunk), 1, 1, 1)
                copies[torch.arange(len(chunk), device=chunk.device), chunk] = 0
                ablated_scores[n, chunk] = self._scores_with(layer_index, inputs[n:n + 1], copies)
        # [N, K, C] -> the requested class of every slot: [T, N, K]
        index = classes.t()[:, None, :].expand(-1, num_channels, -1)
        ablated = ablated_scores.gather(2, index).permute(2, 0, 1)
        original = scores.t().gather(0, classes)[..., None]  # y^c of every slot: [T, N, 1]
        weights = (original - ablated) / original
        return weighted_sum(weights[..., None, None], activations)

    def _scores_with(self, layer_index: int, image: Tensor, outputs: Tensor) -> Tensor:
        """Class scores ``[M, C]`` of ``image`` [1, 3, H, W] when the target layer gives ``outputs``
        ``[M, K, h, w]`` instead of its own output."""

        def replace(module: nn.Module, args: tuple, output: Tensor) -> Tensor:
            return outputs

        handle = self.layers[layer_index].register_forward_hook(replace)
        try:
            with torch.no_grad():
                scores = self.model(image)
        finally:
            handle.remove()
        if scores.shape[0] != outputs.shape[0]:
            raise RuntimeError(
                f'Ablation-CAM: the layers after {self.target_layers[layer_index]!r} returned '
                f'{scores.shape[0]} score rows for {outputs.shape[0]} ablated copies; they must '
                'take a batch of activations for a single input image')
        return scores
