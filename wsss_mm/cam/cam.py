"""Class activation mapping (Zhou et al., CVPR 2016) for GAP + linear classifiers."""
from typing import Optional, Sequence

from torch import Tensor, nn

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['CAMGenerator']


@CAM_GENERATORS.register_module()
class CAMGenerator(BaseCAMGenerator):
    """CAM: the channel weights of class c are row c of the final linear layer.

    Valid when the class scores are ``fc(GAP(A))``, so no gradient is needed
    (forward pass only).

    Args:
        model: Classifier returning class scores ``[B, C]``.
        target_layer: Dotted name of the layer before global average pooling.
        fc_layer: Dotted name of the ``nn.Linear`` that maps pooled features
            to class scores (e.g. ``'fc'`` for torchvision's ResNet).
        scales: Input scales whose maps are summed.
        flip: Also sum the maps of the horizontally flipped images.
        scale_resize, upsample_divisor: IRN's input resizing and map geometry
            (:class:`BaseCAMGenerator`).
    """

    uses_gradients = False

    def __init__(self,
                 model: nn.Module,
                 target_layer: str,
                 fc_layer: str,
                 scales: Sequence[float] = (1.0, ),
                 flip: bool = False,
                 scale_resize: str = 'bilinear',
                 upsample_divisor: Optional[int] = None) -> None:
        super().__init__(model, target_layer, scales=scales, flip=flip,
                         scale_resize=scale_resize, upsample_divisor=upsample_divisor)
        self.fc = model.get_submodule(fc_layer)
        if not isinstance(self.fc, nn.Linear):
            raise TypeError(f'{fc_layer!r} must be an nn.Linear, got {type(self.fc).__name__}')

    def get_cam_weights(self, activations: Tensor, grads: Optional[Tensor],
                        classes: Tensor) -> Tensor:
        """The linear layer's weight rows of the requested classes."""
        if activations.shape[1] != self.fc.in_features:
            raise ValueError(f'the target layer has {activations.shape[1]} channels but the '
                             f'linear layer takes {self.fc.in_features} features')
        return self.fc.weight.detach()[classes]
