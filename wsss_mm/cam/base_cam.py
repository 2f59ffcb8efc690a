"""Class activation maps from a hooked layer: the shared machinery.

A CAM method differs from another only in how it weighs the channels of the
target layer's activations A^k for a class c (pytorch-grad-cam's
``get_cam_weights`` idea); the map is then ``ReLU(sum_k w_k^c A^k)``. This base
class does everything else: one forward pass per scale for all images and all
their classes, one batched backward (``is_grads_batched``) over the classes,
upsampling to the input size, optional flip / multi-scale aggregation and the
per-class normalization to [0, 1].
"""
import contextlib
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ['BaseCAMGenerator', 'normalize_maps']


def normalize_maps(maps: Tensor) -> Tensor:
    """Divide each map of ``maps`` [..., H, W] by its maximum; all-zero maps stay zero."""
    peak = maps.amax(dim=(-2, -1), keepdim=True)
    return maps / torch.where(peak > 0, peak, torch.ones_like(peak))


class BaseCAMGenerator:
    """Attention maps of the present classes of a batch of images.

    ``generator(images, labels)`` returns ``[B, C, H, W]`` maps in [0, 1]: for
    every present class, ``ReLU(sum_k w_k^c A^k)`` upsampled bilinearly to the
    input size (summed over scales / flips), divided by its maximum; absent
    classes are exactly zero. The model runs in eval mode with its parameters
    frozen during a call; its modes, ``requires_grad`` flags and hooks are as
    before afterwards, and no parameter gradient is computed.

    Args:
        model: Classifier whose ``model(images)`` returns pre-sigmoid class
            scores ``[B, C]``.
        target_layer: Dotted name of the module whose output is A
            (``model.get_submodule(target_layer)``), e.g. ``'features.29'``
            for torchvision's VGG-16.
        scales: Input scales whose maps are summed (1.0 = input size).
        flip: Also sum the maps of the horizontally flipped images.
    """

    #: Whether :meth:`get_cam_weights` needs dy^c/dA (False skips the backward).
    uses_gradients: bool = True

    def __init__(self,
                 model: nn.Module,
                 target_layer: str,
                 scales: Sequence[float] = (1.0, ),
                 flip: bool = False) -> None:
        if len(scales) == 0 or any(s <= 0 for s in scales):
            raise ValueError(f'scales must be non-empty and positive, got {scales}')
        self.model = model
        self.target_layer = target_layer
        self.layer = model.get_submodule(target_layer)
        self.scales = tuple(float(s) for s in scales)
        self.flip = flip

    def get_cam_weights(self, activations: Tensor, grads: Optional[Tensor],
                        classes: Tensor) -> Tensor:
        """Channel weights of the maps to compute.

        Args:
            activations: A, ``[N, K, h, w]`` (N images, K channels).
            grads: dy/dA, ``[T, N, K, h, w]``: slot t holds the gradient of the
                t-th requested class of every image (None when
                ``uses_gradients`` is False).
            classes: ``[T, N]`` class index of each slot (padding slots hold an
                arbitrary valid class; their maps are discarded).

        Returns:
            Weights ``[T, N, K]``.
        """
        raise NotImplementedError

    def __call__(self, images: Tensor, labels: Tensor) -> Tensor:
        """Normalized maps [B, C, H, W] of images [B, 3, H, W] and multi-hot labels [B, C]."""
        return normalize_maps(self.raw_maps(images, labels))

    def raw_maps(self, images: Tensor, labels: Tensor) -> Tensor:
        """The maps before normalization: sum over scales / flips of the upsampled ReLU maps."""
        if images.dim() != 4 or labels.dim() != 2 or labels.shape[0] != images.shape[0]:
            raise ValueError(f'expected images [B, 3, H, W] and labels [B, C], got '
                             f'{tuple(images.shape)} and {tuple(labels.shape)}')
        present = labels > 0
        height, width = images.shape[-2:]
        maps = images.new_zeros(*labels.shape, height, width)
        if not present.any():
            return maps
        # pair n = (image bs[n], class cs[n]) goes into backward slot ks[n] of its image
        bs, cs = present.nonzero(as_tuple=True)
        ks = (present.cumsum(dim=1) - 1)[bs, cs]
        num_slots = int(present.sum(dim=1).max())
        image_index, class_index = bs, cs
        if self.flip:  # the flipped copies are images B..2B-1 of the same forward pass
            bs, cs, ks = torch.cat([bs, bs + images.shape[0]]), cs.repeat(2), ks.repeat(2)
        images = images.detach()
        with self._frozen_eval_model():
            for scale in self.scales:
                inputs = images
                if scale != 1.0:
                    size = (round(height * scale), round(width * scale))
                    inputs = F.interpolate(inputs, size=size, mode='bilinear', align_corners=False)
                if self.flip:
                    inputs = torch.cat([inputs, inputs.flip(-1)])
                pair_maps = self._pair_maps(inputs, bs, cs, ks, num_slots)
                pair_maps = F.interpolate(
                    pair_maps[:, None], size=(height, width), mode='bilinear',
                    align_corners=False)[:, 0]
                if self.flip:
                    half = pair_maps.shape[0] // 2
                    pair_maps = pair_maps[:half] + pair_maps[half:].flip(-1)
                maps[image_index, class_index] += pair_maps
        return maps

    def _pair_maps(self, inputs: Tensor, bs: Tensor, cs: Tensor, ks: Tensor,
                   num_slots: int) -> Tensor:
        """ReLU maps ``[P, h, w]`` at the layer's resolution for the (image, class) pairs."""
        activations, scores = self._forward(inputs)
        grads = None
        if self.uses_gradients:
            seeds = scores.new_zeros(num_slots, *scores.shape)
            seeds[ks, bs, cs] = 1
            grads, = torch.autograd.grad(scores, activations, seeds, is_grads_batched=True)
        classes = torch.zeros(num_slots, inputs.shape[0], dtype=torch.long, device=cs.device)
        classes[ks, bs] = cs
        activations = activations.detach()
        weights = self.get_cam_weights(activations, grads, classes)
        return torch.einsum('nk,nkhw->nhw', weights[ks, bs], activations[bs]).relu()

    def _forward(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """Run the model once; return the target layer's output and the class scores."""
        captured: List[Tensor] = []

        def hook(module: nn.Module, args: tuple, output: Tensor) -> Tensor:
            if captured:
                raise RuntimeError(f'target layer {self.target_layer!r} ran more than once '
                                   'in one forward pass; its activation is ambiguous')
            # A leaf for autograd.grad; the rest of the network gets a copy so
            # that in-place layers after the target cannot overwrite A.
            leaf = output.detach().requires_grad_(self.uses_gradients)
            captured.append(leaf)
            return leaf.clone()

        handle = self.layer.register_forward_hook(hook)
        try:
            with torch.set_grad_enabled(self.uses_gradients):
                scores = self.model(inputs)
        finally:
            handle.remove()
        if not captured:
            raise RuntimeError(f'target layer {self.target_layer!r} did not run in the forward')
        if scores.dim() != 2 or scores.shape[0] != inputs.shape[0]:
            raise ValueError(f'the model must return scores [B, C], got {tuple(scores.shape)}')
        return captured[0], scores

    @contextlib.contextmanager
    def _frozen_eval_model(self) -> Iterator[None]:
        """Eval mode and frozen parameters (no graph before A), restored on exit."""
        modes = [(m, m.training) for m in self.model.modules()]
        flags = [(p, p.requires_grad) for p in self.model.parameters()]
        self.model.eval()
        for p, _ in flags:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p, flag in flags:
                p.requires_grad_(flag)
            for m, mode in modes:
                m.training = mode
