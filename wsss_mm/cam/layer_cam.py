"""LayerCAM (Jiang et al., TIP 2021), including its fusion of several layers."""
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['LayerCAMGenerator']


@CAM_GENERATORS.register_module()
class LayerCAMGenerator(BaseCAMGenerator):
    """LayerCAM: A^c = ReLU(sum_k ReLU(dy^c/dA^k) ⊙ A^k), per-pixel weights.

    Positive gradients weigh each activation where it is, so shallow layers
    give usable, fine-grained maps. With several target layers (e.g. the last
    conv of VGG-16 stages 3-5) all their gradients come from the same batched
    backward, and the maps are fused:

    * ``fusion='max'`` (the paper, Eq. 9): each layer's map is min-max scaled,
      mapped through ``tanh(gamma * map)`` (which lifts the weak maps of
      shallow layers), upsampled, and the element-wise maximum is taken;
    * ``fusion='mean'``: pytorch-grad-cam's multi-layer rule, the mean of the
      min-max scaled maps.

    Args:
        model: Classifier returning class scores ``[B, C]``.
        target_layer: A dotted layer name, or several to fuse.
        fusion: ``'max'`` or ``'mean'`` (only used with several layers).
        gamma: The tanh scale of ``fusion='max'`` (2 in the paper).
        scales: Input scales whose maps are summed.
        flip: Also sum the maps of the horizontally flipped images.
    """

    def __init__(self,
                 model: nn.Module,
                 target_layer: Union[str, Sequence[str]],
                 fusion: str = 'max',
                 gamma: float = 2.0,
                 scales: Sequence[float] = (1.0, ),
                 flip: bool = False) -> None:
        super().__init__(model, target_layer, scales=scales, flip=flip)
        if fusion not in ('max', 'mean'):
            raise ValueError(f"fusion must be 'max' or 'mean', got {fusion!r}")
        if gamma <= 0:
            raise ValueError(f'gamma must be positive, got {gamma}')
        self.fusion = fusion
        self.gamma = float(gamma)

    def get_pixel_weights(self, activations: Tensor, grads: Optional[Tensor],
                          classes: Tensor) -> Tensor:
        """The positive part of the gradients, ``[T, N, K, h, w]``."""
        return grads.relu()

    def scale_layer_maps(self, maps: Tensor) -> Tensor:
        """Min-max, then ``tanh(gamma * .)`` for the paper's fusion."""
        maps = super().scale_layer_maps(maps)
        return torch.tanh(self.gamma * maps) if self.fusion == 'max' else maps

    def fuse_layer_maps(self, maps: Tensor) -> Tensor:
        """Element-wise maximum (``'max'``) or mean (``'mean'``) over the layers."""
        return maps.amax(dim=0) if self.fusion == 'max' else maps.mean(dim=0)
