"""The shared base of gradient-free CAMs that score perturbed copies (Score-CAM, Ablation-CAM)."""
from typing import Optional, Sequence, Union

from torch import nn

from .base_cam import BaseCAMGenerator

__all__ = ['PerturbationCAMGenerator']


class PerturbationCAMGenerator(BaseCAMGenerator):
    """A CAM whose channel weights come from forward passes on perturbed copies.

    No gradient is needed. ``batch_size`` copies go through the network per
    pass, which bounds memory; each subclass sets the default that suits its
    copies (``DEFAULT_BATCH_SIZE``).

    Args:
        model: Classifier returning class scores ``[B, C]``.
        target_layer: Dotted name of the layer whose channels are perturbed (or several).
        batch_size: Perturbed copies per forward pass (default: ``DEFAULT_BATCH_SIZE``).
        scales: Input scales whose maps are summed.
        flip: Also sum the maps of the horizontally flipped images.
    """

    uses_gradients = False
    DEFAULT_BATCH_SIZE = 16

    def __init__(self,
                 model: nn.Module,
                 target_layer: Union[str, Sequence[str]],
                 batch_size: Optional[int] = None,
                 scales: Sequence[float] = (1.0, ),
                 flip: bool = False) -> None:
        super().__init__(model, target_layer, scales=scales, flip=flip)
        batch_size = self.DEFAULT_BATCH_SIZE if batch_size is None else batch_size
        if batch_size < 1:
            raise ValueError(f'batch_size must be positive, got {batch_size}')
        self.batch_size = batch_size
