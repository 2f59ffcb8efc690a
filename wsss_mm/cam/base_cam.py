"""Class activation maps from hooked layers: the shared machinery.

A CAM method differs from another mostly in how it weighs the target layer's
activations A^k for a class c: one weight per channel (Grad-CAM,
``get_cam_weights``), one weight per activation (LayerCAM, HiRes-CAM,
``get_pixel_weights``), or a map computed another way (Score-CAM, Eigen-CAM,
``layer_maps``); the map is ``ReLU(sum_k w^c_k A^k)``. This base class does
everything else: one forward pass per scale for all images and all their
classes, one batched backward (``is_grads_batched``) over the classes for all
target layers, the fusion of several target layers, upsampling to the input
size, optional flip / multi-scale aggregation and the per-class normalization
to [0, 1].
"""
import contextlib
import math
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

__all__ = ['BaseCAMGenerator', 'normalize_maps', 'min_max_maps', 'weighted_sum']


def normalize_maps(maps: Tensor) -> Tensor:
    """Divide each map of ``maps`` [..., H, W] by its maximum; all-zero maps stay zero."""
    peak = maps.amax(dim=(-2, -1), keepdim=True)
    return maps / torch.where(peak > 0, peak, torch.ones_like(peak))


def min_max_maps(maps: Tensor) -> Tensor:
    """``(x - min) / (max - min)`` of each map of ``maps`` [..., H, W]; constant maps become 0."""
    low = maps.amin(dim=(-2, -1), keepdim=True)
    span = maps.amax(dim=(-2, -1), keepdim=True) - low
    return torch.where(span > 0, (maps - low) / torch.where(span > 0, span, 1), 0)


def weighted_sum(weights: Tensor, activations: Tensor) -> Tensor:
    """``sum_k w_k A^k`` for every slot: maps ``[T, N, h, w]``.

    Args:
        weights: ``[T, N, K, 1, 1]`` (one weight per channel) or
            ``[T, N, K, h, w]`` (one weight per activation).
        activations: A, ``[N, K, h, w]``.
    """
    if weights.shape[-2:] == (1, 1):
        return torch.einsum('tnk,nkhw->tnhw', weights[..., 0, 0], activations)
    return (weights * activations).sum(dim=2)


class BaseCAMGenerator:
    """Attention maps of the present classes of a batch of images.

    ``generator(images, labels)`` returns ``[B, C, H, W]`` maps in [0, 1]: for
    every present class, the method's ReLU map upsampled bilinearly to the
    input size (summed over scales / flips), divided by its maximum; absent
    classes are exactly zero. The model runs in eval mode with its parameters
    frozen during a call; its modes, ``requires_grad`` flags and hooks are as
    before afterwards, and no parameter gradient is computed.

    With several target layers, each layer's map is min-max scaled at its own
    resolution, upsampled, and the maps are averaged (pytorch-grad-cam's
    multi-layer rule; :meth:`scale_layer_maps`, :meth:`fuse_layer_maps`).

    Args:
        model: Classifier whose ``model(images)`` returns pre-sigmoid class
            scores ``[B, C]``.
        target_layer: Dotted name of the module whose output is A
            (``model.get_submodule(target_layer)``), e.g. ``'features.29'``
            for torchvision's VGG-16; or a sequence of names to fuse.
        scales: Input scales whose maps are summed (1.0 = input size).
        flip: Also sum the maps of the horizontally flipped images.
        scale_resize: How the input is resized to a scale: ``'bilinear'`` on the
            normalized tensor (no antialiasing), or ``'pil_bicubic'``: the uint8
            image (recovered with the mean / std of ``model.data_preprocessor``)
            resized by PIL's bicubic filter and normalized again, as IRN's
            ``pil_rescale``. Sizes are ``round(H * s) x round(W * s)`` either way.
        upsample_divisor: ``None`` upsamples every map straight to ``H x W``; an
            integer d upsamples it to ``H x W`` rounded up to multiples of d and
            crops the top-left ``H x W`` (IRN's ``make_cam``: d = 16,
            ``get_strided_up_size``); the flipped copy is then un-flipped before
            upsampling, as IRN's CAM network does.
    """

    #: Whether the method needs dy^c/dA (False skips the backward).
    uses_gradients: bool = True

    def __init__(self,
                 model: nn.Module,
                 target_layer: Union[str, Sequence[str]],
                 scales: Sequence[float] = (1.0, ),
                 flip: bool = False,
                 scale_resize: str = 'bilinear',
                 upsample_divisor: Optional[int] = None) -> None:
        if (not isinstance(scales, (list, tuple)) or len(scales) == 0
                or any(isinstance(s, bool) or not isinstance(s, (int, float)) or s <= 0
                       for s in scales)):
            raise ValueError(f'scales must be a non-empty list of positive numbers, '
                             f'got {scales!r}')
        if scale_resize not in ('bilinear', 'pil_bicubic'):
            raise ValueError(f"scale_resize must be 'bilinear' or 'pil_bicubic', got "
                             f'{scale_resize!r}')
        if upsample_divisor is not None and upsample_divisor < 1:
            raise ValueError(f'upsample_divisor must be positive or None, got {upsample_divisor}')
        names = (target_layer, ) if isinstance(target_layer, str) else tuple(target_layer)
        if len(names) == 0 or len(set(names)) != len(names):
            raise ValueError(f'target_layer must name distinct layers, got {target_layer!r}')
        self.model = model
        self.target_layer = target_layer
        self.target_layers = names
        self.layers = [model.get_submodule(name) for name in names]
        self.scales = tuple(float(s) for s in scales)
        self.flip = flip
        self.scale_resize = scale_resize
        self.upsample_divisor = upsample_divisor
        if scale_resize == 'pil_bicubic':
            preprocessor = getattr(model, 'data_preprocessor', None)
            if getattr(preprocessor, 'mean', None) is None or preprocessor.std is None:
                raise ValueError("scale_resize='pil_bicubic' needs the model's data_preprocessor "
                                 'mean and std to recover the uint8 image')

    def resize_inputs(self, images: Tensor, size: Tuple[int, int]) -> Tensor:
        """Normalized images ``[N, 3, H, W]`` resized to ``size`` by ``scale_resize``."""
        if self.scale_resize == 'bilinear':
            return F.interpolate(images, size=size, mode='bilinear', align_corners=False)
        preprocessor = self.model.data_preprocessor
        mean, std = preprocessor.mean.to(images), preprocessor.std.to(images)
        pixels = (images * std + mean).round().clamp(0, 255).to(torch.uint8)
        resized = [
            np.asarray(Image.fromarray(np.ascontiguousarray(p.permute(1, 2, 0).cpu().numpy()))
                       .resize(size[::-1], Image.BICUBIC)) for p in pixels
        ]
        resized = torch.from_numpy(np.stack(resized)).permute(0, 3, 1, 2).to(images)
        return (resized - mean) / std

    def upsample(self, maps: Tensor, size: Tuple[int, int]) -> Tensor:
        """Maps ``[P, h, w]`` -> ``[P, H, W]`` bilinearly, through the strided-up size if set."""
        up = size
        if self.upsample_divisor is not None:
            d = self.upsample_divisor
            up = (math.ceil(size[0] / d) * d, math.ceil(size[1] / d) * d)
        out = F.interpolate(maps[:, None], size=up, mode='bilinear', align_corners=False)[:, 0]
        return out[:, :size[0], :size[1]]

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
        raise NotImplementedError(f'{type(self).__name__} must override get_cam_weights, '
                                  'get_pixel_weights or layer_maps')

    def get_pixel_weights(self, activations: Tensor, grads: Optional[Tensor],
                          classes: Tensor) -> Tensor:
        """Per-activation weights ``[T, N, K, h, w]``, or ``[T, N, K, 1, 1]`` for channel weights.

        The per-pixel hook (LayerCAM, HiRes-CAM); arguments as for
        :meth:`get_cam_weights`, which the default broadcasts.
        """
        return self.get_cam_weights(activations, grads, classes)[..., None, None]

    def layer_maps(self, inputs: Tensor, layer_index: int, activations: Tensor,
                   grads: Optional[Tensor], scores: Tensor, classes: Tensor) -> Tensor:
        """Maps before the ReLU, ``[T, N, h, w]``, of one target layer.

        The whole-map hook, for methods that are not a weighting of A by the
        gradients (Score-CAM, Ablation-CAM, Eigen-CAM); the default is
        ``sum_k w A^k`` with :meth:`get_pixel_weights`.

        Args:
            inputs: The images of this forward pass, ``[N, 3, H', W']``.
            layer_index: Which of ``self.layers`` gave ``activations``.
            activations, grads, classes: As for :meth:`get_cam_weights`.
            scores: The class scores of ``inputs``, ``[N, C]``.
        """
        return weighted_sum(self.get_pixel_weights(activations, grads, classes), activations)

    def scale_layer_maps(self, maps: Tensor) -> Tensor:
        """Scale one layer's ReLU maps ``[P, h, w]`` before several layers are fused: min-max."""
        return min_max_maps(maps)

    def fuse_layer_maps(self, maps: Tensor) -> Tensor:
        """Fuse the scaled, upsampled maps ``[L, P, H, W]`` of L > 1 layers: the mean."""
        return maps.mean(dim=0)

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
                    inputs = self.resize_inputs(images, (round(height * scale),
                                                         round(width * scale)))
                if self.flip:
                    inputs = torch.cat([inputs, inputs.flip(-1)])
                layer_maps = self._pair_maps(inputs, bs, cs, ks, num_slots)
                if len(layer_maps) > 1:
                    layer_maps = [self.scale_layer_maps(m) for m in layer_maps]
                # IRN's geometry sums a map and its flipped copy before upsampling
                flip_first = self.flip and self.upsample_divisor is not None
                if flip_first:
                    layer_maps = [m[:len(m) // 2] + m[len(m) // 2:].flip(-1) for m in layer_maps]
                layer_maps = [self.upsample(m, (height, width)) for m in layer_maps]
                pair_maps = (layer_maps[0] if len(layer_maps) == 1 else
                             self.fuse_layer_maps(torch.stack(layer_maps)))
                if self.flip and not flip_first:
                    half = pair_maps.shape[0] // 2
                    pair_maps = pair_maps[:half] + pair_maps[half:].flip(-1)
                maps[image_index, class_index] += pair_maps
        return maps

    def _pair_maps(self, inputs: Tensor, bs: Tensor, cs: Tensor, ks: Tensor,
                   num_slots: int) -> List[Tensor]:
        """ReLU maps ``[P, h_l, w_l]`` of the (image, class) pairs, one per target layer."""
        activations, scores = self._forward(inputs)
        grads: Sequence[Optional[Tensor]] = [None] * len(activations)
        if self.uses_gradients:
            seeds = scores.new_zeros(num_slots, *scores.shape)
            seeds[ks, bs, cs] = 1
            grads = torch.autograd.grad(scores, activations, seeds, is_grads_batched=True)
        classes = torch.zeros(num_slots, inputs.shape[0], dtype=torch.long, device=cs.device)
        classes[ks, bs] = cs
        scores = scores.detach()
        return [
            self.layer_maps(inputs, i, a.detach(), g, scores, classes)[ks, bs].relu()
            for i, (a, g) in enumerate(zip(activations, grads))
        ]

    def _forward(self, inputs: Tensor) -> Tuple[List[Tensor], Tensor]:
        """Run the model once; return the target layers' outputs and the class scores."""
        captured: Dict[int, Tensor] = {}

        def hook_of(index: int):

            def hook(module: nn.Module, args: tuple, output: Tensor) -> Tensor:
                if index in captured:
                    raise RuntimeError(f'target layer {self.target_layers[index]!r} ran more '
                                       'than once in one forward pass; its activation is '
                                       'ambiguous')
                # A leaf for autograd.grad; the rest of the network gets a copy so
                # that in-place layers after the target cannot overwrite A.
                leaf = output.detach().requires_grad_(self.uses_gradients)
                captured[index] = leaf
                if output.requires_grad:  # an earlier target layer feeds this one: keep its path
                    return leaf + (output - output.detach())
                return leaf.clone()

            return hook

        handles = [layer.register_forward_hook(hook_of(i)) for i, layer in enumerate(self.layers)]
        try:
            with torch.set_grad_enabled(self.uses_gradients):
                scores = self.model(inputs)
        finally:
            for handle in handles:
                handle.remove()
        missing = [name for i, name in enumerate(self.target_layers) if i not in captured]
        if missing:
            raise RuntimeError(f'target layer(s) {missing} did not run in the forward')
        if scores.dim() != 2 or scores.shape[0] != inputs.shape[0]:
            raise ValueError(f'the model must return scores [B, C], got {tuple(scores.shape)}')
        return [captured[i] for i in range(len(self.layers))], scores

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
