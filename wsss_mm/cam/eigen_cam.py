"""Eigen-CAM (Muhammad & Yeasin, IJCNN 2020): the first principal component of A."""
from typing import Optional

import torch
from torch import Tensor

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['EigenCAMGenerator', 'principal_projection']


def principal_projection(features: Tensor) -> Tensor:
    """Projection of every position on the first principal component: ``[..., h, w]``.

    ``features`` ``[..., K, h, w]`` is read as h*w samples of K channels;
    each channel is centred over the positions and the samples are projected
    on the first right singular vector v (pytorch-grad-cam's
    ``get_2d_projection``). The SVD leaves the sign of v open (it depends on
    the LAPACK build); it is fixed so that ``sum_k v_k >= 0``, i.e. the
    projection correlates positively with the channel sum of ``features``.
    """
    samples = features.flatten(-2).transpose(-2, -1)  # [..., hw, K]
    centred = samples - samples.mean(dim=-2, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    first = vh[..., 0, :]  # [..., K]
    first = torch.where(first.sum(dim=-1, keepdim=True) < 0, -first, first)
    projection = (centred @ first[..., None])[..., 0]
    return projection.unflatten(-1, features.shape[-2:])


@CAM_GENERATORS.register_module()
class EigenCAMGenerator(BaseCAMGenerator):
    """Eigen-CAM: A = ReLU(projection of A on its first principal component).

    Class-agnostic: no gradient and no class score is used, so every class of
    an image gets the same map — the dominant pattern of the target layer's
    features, usually the most salient object(s). See
    :class:`BaseCAMGenerator` for the arguments and the call.
    """

    uses_gradients = False

    def layer_maps(self, inputs: Tensor, layer_index: int, activations: Tensor,
                   grads: Optional[Tensor], scores: Tensor, classes: Tensor) -> Tensor:
        """One projection per image, the same in every slot: ``[T, N, h, w]``."""
        return principal_projection(activations).expand(classes.shape[0], -1, -1, -1)
