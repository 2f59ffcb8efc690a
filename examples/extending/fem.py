"""FEM, the feature explanation method (Fuad et al., IPTA 2020), added from outside wsss_mm.

The worked example of docs/extending.md: a new CAM method is one subclass of
:class:`~wsss_mm.cam.BaseCAMGenerator` that overrides ``get_cam_weights`` and
is registered in ``CAM_GENERATORS``; a config loads this file with
``custom_imports=dict(imports=['examples.extending.fem'])`` and selects the
method with ``cam_generator=dict(type='FEMGenerator', ...)``.
"""
from typing import Optional, Sequence, Union

from torch import Tensor, nn

from wsss_mm.cam import BaseCAMGenerator
from wsss_mm.registry import CAM_GENERATORS

__all__ = ['FEMGenerator']


@CAM_GENERATORS.register_module()
class FEMGenerator(BaseCAMGenerator):
    """FEM: w_k = fraction of positions where A^k > mean(A^k) + k_sigma * std(A^k).

    A channel counts as much as it has outlying, strongly activated positions
    (the k-sigma rule); the map ``ReLU(sum_k w_k A^k)`` needs neither a
    gradient nor a class score, so it is class-agnostic like Eigen-CAM: every
    class of an image gets the same map.

    Args:
        model: Classifier returning class scores ``[B, C]``.
        target_layer: Dotted name of the layer to explain (or several).
        k_sigma: How many standard deviations above the channel's mean an
            activation must be to count (2 in the paper).
        scales: Input scales whose maps are summed.
        flip: Also sum the maps of the horizontally flipped images.
    """

    uses_gradients = False

    def __init__(self,
                 model: nn.Module,
                 target_layer: Union[str, Sequence[str]],
                 k_sigma: float = 2.0,
                 scales: Sequence[float] = (1.0, ),
                 flip: bool = False) -> None:
        super().__init__(model, target_layer, scales=scales, flip=flip)
        self.k_sigma = float(k_sigma)

    def get_cam_weights(self, activations: Tensor, grads: Optional[Tensor],
                        classes: Tensor) -> Tensor:
        """The k-sigma outlier fraction of every channel, the same for all slots: ``[T, N, K]``."""
        mean = activations.mean(dim=(-2, -1), keepdim=True)
        std = activations.std(dim=(-2, -1), correction=0, keepdim=True)  # numpy's np.std
        outliers = activations > mean + self.k_sigma * std
        weights = outliers.to(activations.dtype).mean(dim=(-2, -1))
        return weights.expand(classes.shape[0], -1, -1)
