"""CLIP-ES seeds (Lin et al., CVPR 2023): softmax Grad-CAM on CLIP's ViT tokens.

The target of class c is its softmax score over [the image's present classes + all
background words]; Grad-CAM runs on the output of the last block's ``ln_1`` (the
attention's input), the patch tokens reshaped to the patch grid (class token dropped).
The batched engine (:class:`BaseCAMGenerator`) differentiates all classes of all images
in one backward; only the last block is differentiated (the parameters are frozen, so
no graph exists before the hooked tokens). The same forward gives the attention
affinity cue: the head-averaged attention weights of the last blocks, averaged.
"""
from typing import List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor, nn

from wsss_mm.registry import CAM_GENERATORS
from .base_cam import BaseCAMGenerator

__all__ = ['AffinityCue', 'ClipESGradCAMGenerator']


class AffinityCue(NamedTuple):
    """The CAA cue of one image: patch affinity and the seeds on the patch grid.

    Attributes:
        affinity: ``[h·w, h·w]`` mean attention weights of the last blocks (class token
            dropped; row i = where patch i attends).
        grid_cams: ``[K, h, w]`` seeds of the image's K present classes on the patch grid
            (min-max normalized, as CAA refines them).
    """
    affinity: Tensor
    grid_cams: Tensor

    def cpu(self) -> 'AffinityCue':
        """Both tensors on the CPU."""
        return AffinityCue(self.affinity.cpu(), self.grid_cams.cpu())


@CAM_GENERATORS.register_module()
class ClipESGradCAMGenerator(BaseCAMGenerator):
    """Softmax Grad-CAM of a :class:`~wsss_mm.models.CLIPZeroShotClassifier` (CLIP-ES).

    ``generator(images, labels)`` returns ``[B, C, H, W]``: per present class, the
    Grad-CAM map ``ReLU(sum_k alpha_k A^k)`` on the patch grid, min-max scaled there
    (pytorch-grad-cam's ``scale_cam_image``), upsampled bilinearly to the input
    size (CLIP-ES's ``cv2.resize``). One scale, no flip (CLIP-ES's setting).

    Args:
        model: The CLIP classifier (logits ``[B, C + G]``: classes, then background words).
        target_layer: Dotted name of the last visual block's ``ln_1``; default from the model.
        affinity_blocks: How many last blocks' attention weights are averaged (CLIP-ES: 8;
            all blocks of a shallower model, as CLIP-ES's ``[-8:]``).
    """

    #: the cue this generator's forward also produces (see :meth:`cue_of`)
    cue = 'affinity'
    #: added to each grid map's maximum before the division (pytorch-grad-cam's)
    scale_eps = 1e-7

    def __init__(self,
                 model: nn.Module,
                 target_layer: Optional[str] = None,
                 affinity_blocks: int = 8) -> None:
        if affinity_blocks < 1:
            raise ValueError(f'affinity_blocks must be positive, got {affinity_blocks}')
        layers = len(model.clip.visual.transformer.resblocks)
        if target_layer is None:
            target_layer = f'clip.visual.transformer.resblocks.{layers - 1}.ln_1'
        super().__init__(model, target_layer)
        self.affinity_blocks = affinity_blocks
        self._present: Optional[Tensor] = None
        self._grid_maps: Optional[Tensor] = None
        self._affinity: Optional[Tensor] = None
        self._last: Optional[Tuple[Tensor, Tensor, AffinityCue]] = None

    def get_cam_weights(self, activations: Tensor, grads: Optional[Tensor],
                        classes: Tensor) -> Tensor:
        """Grad-CAM: the spatial mean of the gradients over the patch grid."""
        return grads.mean(dim=(-2, -1))

    def __call__(self, images: Tensor, labels: Tensor) -> Tensor:
        """Maps ``[B, C, H, W]`` of images ``[B, 3, H, W]`` and multi-hot labels ``[B, C]``
        (not renormalized after the upsampling, as CLIP-ES)."""
        return self.raw_maps(images, labels)

    def raw_maps(self, images: Tensor, labels: Tensor) -> Tensor:
        """The upsampled grid maps; also keeps the grid maps and the affinity of the call."""
        num_classes = self.model.num_classes
        if labels.dim() != 2 or labels.shape[1] != num_classes:
            raise ValueError(f'labels must be [B, {num_classes}] (the classifier\'s classes), '
                             f'got {tuple(labels.shape)}')
        self._present = labels > 0
        try:
            maps = super().raw_maps(images, labels)
        finally:
            self._present = None
        grid = maps.new_zeros(*labels.shape, *self.model.grid_size(*images.shape[-2:]))
        if self._grid_maps is not None:
            grid[(labels > 0).nonzero(as_tuple=True)] = self._grid_maps
        self._last = (images.detach(), labels.detach(),
                      AffinityCue(self._affinity, grid))
        self._grid_maps = self._affinity = None
        return maps

    def grid_maps(self) -> Tensor:
        """``[B, C, h, w]`` grid maps of the last call (zeros for absent classes)."""
        if self._last is None:
            raise RuntimeError('no maps computed yet')
        return self._last[2].grid_cams

    def affinity(self) -> Tensor:
        """``[B, h·w, h·w]`` attention affinity of the last call's forward."""
        if self._last is None:
            raise RuntimeError('no maps computed yet')
        return self._last[2].affinity

    def cue_of(self, image: Tensor, labels: Tensor) -> AffinityCue:
        """The affinity cue of one image ``[1, 3, H, W]`` with labels ``[1, C]``: from the
        last call's forward when it saw this input, else from a new one."""
        last = self._last
        if not (last is not None and last[0].shape == image.shape and torch.equal(last[0], image)
                and torch.equal(last[1], labels)):
            with torch.enable_grad():
                self(image, labels)
            last = self._last
        present = labels[0] > 0
        return AffinityCue(last[2].affinity[0], last[2].grid_cams[0][present])

    def _pair_maps(self, inputs: Tensor, bs: Tensor, cs: Tensor, ks: Tensor,
                   num_slots: int) -> List[Tensor]:
        """The engine's ReLU grid maps ``[P, h, w]`` of the (image, class) pairs, scaled as
        CLIP-ES's pytorch-grad-cam does: ``scale_cam_image`` (``(x - min) / (1e-7 + max)``)
        per layer, then again after the layer mean. The 1e-7 leaves the peak just below 1,
        so the 8-bit peak of CLIP-ES's box threshold is 254 (``int(0.4 · 254)``) here too."""
        maps = [self._scale(self._scale(m))
                for m in super()._pair_maps(inputs, bs, cs, ks, num_slots)]
        self._grid_maps = maps[0]
        return maps

    def _scale(self, maps: Tensor) -> Tensor:
        """pytorch-grad-cam's ``scale_cam_image`` of maps ``[P, h, w]``."""
        maps = maps - maps.amin(dim=(-2, -1), keepdim=True)
        return maps / (self.scale_eps + maps.amax(dim=(-2, -1), keepdim=True))

    def _forward(self, inputs: Tensor) -> Tuple[List[Tensor], Tensor]:
        """One forward: the patch grid ``[N, D, h, w]`` of the target tokens (a leaf),
        the softmax scores ``[N, C]`` over present classes + background words, and the
        mean attention affinity of the last blocks (kept for :meth:`raw_maps`)."""
        h, w = self.model.grid_size(*inputs.shape[-2:])
        captured = {}

        def token_hook(module: nn.Module, args: tuple, output: Tensor) -> Tensor:
            n, length, d = output.shape
            grid = output[:, 1:].detach().transpose(1, 2).reshape(n, d, h, w)
            captured['grid'] = grid.requires_grad_(True)
            return torch.cat([output[:, :1].detach(), grid.flatten(2).transpose(1, 2)], dim=1)

        def attention_hook(module: nn.Module, args: tuple, output: tuple) -> None:
            weights = torch.stack(output[1][-self.affinity_blocks:])  # [k, N, L, L]
            captured['affinity'] = weights[:, :, 1:, 1:].detach().mean(dim=0)

        handles = [self.layers[0].register_forward_hook(token_hook),
                   self.model.clip.visual.transformer.register_forward_hook(attention_hook)]
        try:
            with torch.enable_grad():
                logits = self.model(inputs)
        finally:
            for handle in handles:
                handle.remove()
        present = self._present.repeat(inputs.shape[0] // self._present.shape[0], 1)
        num_classes = present.shape[1]
        fg = logits[:, :num_classes].masked_fill(~present, float('-inf'))
        probs = torch.cat([fg, logits[:, num_classes:]], dim=1).softmax(dim=1)
        self._affinity = captured['affinity']
        return [captured['grid']], probs[:, :num_classes]
