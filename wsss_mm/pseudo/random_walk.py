"""IRN's random walk: CAMs propagated along the affinities of a class-boundary map.

Semantic affinities come from IRNet's boundary map B at feature stride 4:
``a(p, q) = 1 - max B`` on the segment p-q, for pairs closer than ``radius``
(:class:`~wsss_mm.pseudo.pixel_pairs.PixelPairs`). With ``A = a^beta`` (and
``A(p, p) = 1``) the transition matrix is ``T = D^-1 A``, ``D = diag(A 1)``,
whose rows sum to 1. IRN forms T densely (N x N, N = h*w) and squares it
``exp_times`` times; here T is a sparse CSR matrix with ``N * (2D + 1)``
entries (D half-plane offsets: 34 at radius 5) and ``T^(2^exp_times) v`` is
computed by ``2^exp_times`` sparse products, which is the same number but
needs O(N) memory instead of O(N^2) (a 500 x 375 image: about 10 MB instead
of 0.5 GB per dense copy).
"""
import warnings
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from wsss_mm.registry import REFINERS
from .base_refiner import BaseRefiner
from .pixel_pairs import PixelPairs

__all__ = ['RandomWalkRefiner']


@REFINERS.register_module()
class RandomWalkRefiner(BaseRefiner):
    """Seeds (CAMs) + boundary map (the ``'boundary'`` cue) -> pseudo labels by IRN's walk.

    Args:
        radius: Pairs within this distance on the boundary grid (IRN: 5).
        beta: Exponent of the affinities (IRN: 10).
        exp_times: The walk takes ``2 ** exp_times`` steps (IRN: 8).
        bg_threshold: A pixel is background where every propagated,
            max-normalized CAM is below it (IRN: 0.25).
        stride: Image pixels per boundary-grid cell (IRNet: 4).
    """
    cue = 'boundary'

    def __init__(self,
                 radius: int = 5,
                 beta: float = 10.0,
                 exp_times: int = 8,
                 bg_threshold: float = 0.25,
                 stride: int = 4) -> None:
        if beta <= 0 or exp_times < 0 or stride < 1:
            raise ValueError(f'need beta > 0, exp_times >= 0, stride >= 1; got beta={beta}, '
                             f'exp_times={exp_times}, stride={stride}')
        self.pairs = PixelPairs(radius)
        self.beta = float(beta)
        self.exp_times = int(exp_times)
        self.bg_threshold = float(bg_threshold)
        self.stride = int(stride)

    def transition_matrix(self, boundary: Tensor) -> Tensor:
        """Sparse CSR ``T [N, N]`` (N = h*w, row-major pixels) of a boundary map ``[h, w]``.

        ``T(p, q) = a(p, q)^beta / sum_q' a(p, q')^beta`` over q = p and the
        pairs within the radius; each row sums to 1.
        """
        if boundary.dim() != 2:
            raise ValueError(f'boundary must be [h, w], got {tuple(boundary.shape)}')
        height, width = boundary.shape
        num_pixels = height * width
        device = boundary.device
        pairs = self.pairs
        # row p holds p - d (columns ascending), p itself, then p + d: sorting the offsets by
        # their raster step dy * width + dx keeps every row's valid columns sorted, so the
        # CSR arrays come out without a sort
        steps = torch.tensor([dy * width + dx for dy, dx in pairs.offsets], device=device)
        order = steps.argsort()
        weight = pairs.boundary_to_affinity(boundary.float()).clamp(min=0).pow(self.beta)
        valid = pairs.valid(height, width, device=device)
        weight = weight * valid
        index = torch.arange(num_pixels, device=device).view(1, height, width)
        columns = torch.cat([(index - steps[:, None, None])[order.flip(0)], index,
                             (index + steps[:, None, None])[order]])
        values = torch.cat([pairs.at_destination(weight, 0.0)[order.flip(0)],
                            weight.new_ones(1, height, width), weight[order]])
        present = torch.cat([pairs.at_destination(valid, False)[order.flip(0)],
                             torch.ones_like(valid[:1]), valid[order]])
        columns, values, present = (x.reshape(len(x), -1).t() for x in (columns, values, present))
        values = values / values.sum(dim=1, keepdim=True)
        crow = torch.cat([present.new_zeros(1, dtype=torch.long), present.sum(dim=1).cumsum(0)])
        with warnings.catch_warnings():  # torch flags CSR as beta; its products are what we use
            warnings.filterwarnings('ignore', message='Sparse CSR tensor support is in beta')
            return torch.sparse_csr_tensor(crow, columns[present], values[present],
                                           (num_pixels, num_pixels), check_invariants=False)

    def propagate(self, cams: Tensor, boundary: Tensor) -> Tensor:
        """``T^(2^exp_times)`` applied to ``cams * (1 - boundary)``, ``[K, h, w]`` each."""
        num_classes = cams.shape[0]
        transition = self.transition_matrix(boundary)
        walk = (cams.float() * (1 - boundary.float())).reshape(num_classes, -1).t().contiguous()
        for _ in range(2**self.exp_times):
            walk = transition @ walk
        return walk.t().reshape(cams.shape)

    @torch.no_grad()
    def scores(self, cams: Tensor, boundary: Tensor, out_size: Tuple[int, int]) -> Tensor:
        """The walked CAMs ``[K, H, W]`` of seeds ``[K, h', w']`` (K >= 1) on ``boundary [h, w]``:
        propagated, upsampled by ``stride`` (bilinear), cropped to ``out_size`` and divided by
        their joint maximum, as IRN's ``make_sem_seg_labels``."""
        if cams.shape[-2:] != boundary.shape:
            cams = F.interpolate(cams[None].float(), size=boundary.shape, mode='bilinear',
                                 align_corners=False)[0]
        walked = self.propagate(cams, boundary)
        walked = F.interpolate(walked[None], scale_factor=self.stride, mode='bilinear',
                               align_corners=False)[0]
        if walked.shape[-2] < out_size[0] or walked.shape[-1] < out_size[1]:
            raise ValueError(f'a boundary grid of {tuple(boundary.shape)} at stride '
                             f'{self.stride} does not cover an output of {tuple(out_size)}')
        walked = walked[:, :out_size[0], :out_size[1]]
        peak = walked.max()
        return walked / peak if peak > 0 else walked

    @torch.no_grad()
    def __call__(self,
                 cams: Tensor,
                 class_ids: Union[Sequence[int], np.ndarray, Tensor],
                 boundary: Tensor,
                 out_size: Optional[Tuple[int, int]] = None) -> Tensor:
        """Pseudo label map of one image.

        Args:
            cams: ``[K, h', w']`` seed CAMs of the image's K classes, in [0, 1].
                Resized bilinearly to the boundary grid when their size differs
                (e.g. full-resolution CAMs).
            class_ids: ``[K]`` label value of each CAM (the dataset's, e.g. VOC 1..20).
            boundary: ``[h, w]`` class-boundary probabilities of IRNet at
                ``stride``.
            out_size: ``(H, W)`` of the label map; defaults to the CAMs' size
                if they are larger than the grid, else the grid times ``stride``.

        Returns:
            int64 ``[H, W]``: 0 where every walked CAM (:meth:`scores`) is below
            ``bg_threshold``, else the class id of the largest.
        """
        class_ids = torch.as_tensor(np.asarray(class_ids), dtype=torch.long)
        if cams.dim() != 3 or boundary.dim() != 2 or class_ids.shape != cams.shape[:1]:
            raise ValueError(f'expected cams [K, h, w], class_ids [K] and boundary [h, w], got '
                             f'{tuple(cams.shape)}, {tuple(class_ids.shape)}, '
                             f'{tuple(boundary.shape)}')
        if out_size is None:
            out_size = (tuple(cams.shape[-2:]) if cams.shape[-2:] != boundary.shape else
                        (boundary.shape[0] * self.stride, boundary.shape[1] * self.stride))
        out_size = tuple(out_size)
        if cams.shape[0] == 0:
            return torch.zeros(out_size, dtype=torch.long, device=cams.device)
        walked = self.scores(cams, boundary, out_size)
        scores = torch.cat([walked.new_full((1, *out_size), self.bg_threshold), walked])
        label_values = torch.cat([class_ids.new_zeros(1), class_ids]).to(walked.device)
        return label_values[scores.argmax(dim=0)]

    def refine(self, cams: Tensor, class_ids: Union[Sequence[int], np.ndarray],
               image: np.ndarray, cue: Optional[np.ndarray]) -> np.ndarray:
        """The walk of stored CAMs ``[K, H, W]`` along the stored boundary ``[h, w]``."""
        if cue is None:
            raise ValueError('the random walk needs the boundary cue')
        return self(cams, class_ids, torch.from_numpy(cue),
                    out_size=tuple(cams.shape[1:])).numpy().astype(np.uint8)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(radius={self.pairs.radius}, beta={self.beta}, '
                f'exp_times={self.exp_times}, bg_threshold={self.bg_threshold}, '
                f'stride={self.stride})')
