"""Pixel pairs within a radius, the graph of IRN's inter-pixel relations.

IRN (Ahn et al., CVPR 2019) relates every pixel ``p`` of a feature grid to the
pixels ``q = p + d`` with ``|d| < radius``. Each unordered pair is counted once
by keeping the offsets of one half plane: ``(0, dx)`` with ``dx > 0`` and
``(dy, dx)`` with ``dy > 0``. Everything pair-wise is then a tensor
``[..., D, H, W]`` aligned on the source pixel ``p`` (D offsets): the pair
labels that train IRNet, the affinities derived from its boundary map and the
banded transition matrix of the random walk. No N x N matrix is ever formed.

The path of an offset is the set of grid pixels within distance 1 of the
segment from ``p`` to ``q`` (inside its bounding box); the affinity of the pair
is ``1 - max`` of the class-boundary map on that path (IRN eq. 2).
"""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['PixelPairs']


def _half_plane_offsets(radius: int) -> List[Tuple[int, int]]:
    """Offsets ``(dy, dx)`` with ``dy**2 + dx**2 < radius**2`` in one half plane."""
    offsets = [(0, dx) for dx in range(1, radius)]
    offsets += [(dy, dx) for dy in range(1, radius) for dx in range(-radius + 1, radius)
                if dy * dy + dx * dx < radius * radius]
    return offsets


def _path(dy: int, dx: int) -> List[Tuple[int, int]]:
    """Grid pixels within distance < 1 of the segment (0, 0)-(dy, dx), both ends included."""
    length_sq = dy * dy + dx * dx
    return [(y, x) for y in range(min(0, dy), max(0, dy) + 1)
            for x in range(min(0, dx), max(0, dx) + 1)
            if (dy * x - dx * y)**2 < length_sq]


class PixelPairs:
    """The offsets within ``radius`` and the pair-wise maps over a grid.

    Args:
        radius: Pairs ``(p, p + d)`` with ``|d|^2 < radius^2`` (IRN: 5 for
            the random walk, 10 to train IRNet, at feature stride 4).
    """

    def __init__(self, radius: int) -> None:
        if int(radius) != radius or radius < 2:
            raise ValueError(f'radius must be an integer >= 2, got {radius}')
        self.radius = int(radius)
        self.offsets: List[Tuple[int, int]] = _half_plane_offsets(self.radius)
        self.paths: List[List[Tuple[int, int]]] = [_path(dy, dx) for dy, dx in self.offsets]

    @property
    def num_offsets(self) -> int:
        """D, the number of half-plane offsets."""
        return len(self.offsets)

    def _pad(self, x: Tensor, value: float, down: bool = True) -> Tensor:
        """Pad the last two dims so that every pixel ``p + d`` (``down``) or ``p - d`` of a
        half-plane offset d (``dy >= 0``) is reached by a slice."""
        r = self.radius - 1
        return F.pad(x, (r, r, 0, r) if down else (r, r, r, 0), value=value)

    def _slice(self, padded: Tensor, dy: int, dx: int, height: int, width: int) -> Tensor:
        """``x[..., y + dy, x + dx]`` for all (y, x) of the grid, from the padded map."""
        r = self.radius - 1
        return padded[..., dy:dy + height, r + dx:r + dx + width]

    def destination(self, x: Tensor, fill: float) -> Tensor:
        """``[..., D, H, W]``: the value of ``x [..., H, W]`` at ``p + d`` (``fill`` outside)."""
        height, width = x.shape[-2:]
        padded = self._pad(x, fill)
        return torch.stack([self._slice(padded, dy, dx, height, width) for dy, dx in self.offsets],
                           dim=-3)

    def at_destination(self, pairwise: Tensor, fill: float) -> Tensor:
        """A pair-wise map ``[..., D, H, W]`` seen from the other end: ``out[d](p)`` is
        ``pairwise[d](p - d)``, the pair ``(p - d, p)`` (``fill`` where p - d is outside)."""
        height, width = pairwise.shape[-2:]
        padded = self._pad(pairwise, fill, down=False)
        r = self.radius - 1
        return torch.stack([self._slice(padded[..., i, :, :], r - dy, -dx, height, width)
                            for i, (dy, dx) in enumerate(self.offsets)], dim=-3)

    def valid(self, height: int, width: int, device=None) -> Tensor:
        """``[D, H, W]`` bool: the destination ``p + d`` lies inside the grid."""
        inside = torch.ones(1, height, width, dtype=torch.bool, device=device)
        padded = self._pad(inside, False)
        return torch.cat([self._slice(padded, dy, dx, height, width) for dy, dx in self.offsets])

    def irn_band(self, height: int, width: int, device=None) -> Tensor:
        """``[H, W]`` bool: the sources IRN pairs when it trains IRNet (``PathIndex``), rows
        ``[0, H - r)`` and columns ``[r, W - r)`` with ``r = radius - 1``; every pair of such
        a source has its destination inside the grid."""
        r = self.radius - 1
        band = torch.zeros(height, width, dtype=torch.bool, device=device)
        band[:max(height - r, 0), r:max(width - r, r)] = True
        return band

    def boundary_to_affinity(self, boundary: Tensor) -> Tensor:
        """Affinities ``[..., D, H, W]`` from a class-boundary map ``[..., H, W]`` in [0, 1].

        ``a(p, p + d) = 1 - max_{k in path(d)} B(p + k)``; pairs whose
        destination leaves the grid get 0 (the map is padded with boundary 1,
        as IRN does). Differentiable in ``boundary``.
        """
        height, width = boundary.shape[-2:]
        padded = self._pad(boundary, 1.0)
        affinities = []
        for path in self.paths:
            on_path = torch.stack([self._slice(padded, dy, dx, height, width) for dy, dx in path])
            affinities.append(1 - on_path.amax(dim=0))
        return torch.stack(affinities, dim=-3)

    def pair_labels(self, labels: Tensor, ignore_index: int = 255) -> Tuple[Tensor, Tensor, Tensor]:
        """IRN's relation labels of the pairs of a label map ``[..., H, W]``.

        ``labels`` holds 0 for confident background, class ids > 0 for
        confident foreground and ``ignore_index`` elsewhere. A pair is
        labelled only when both ends are confident and inside the grid.

        Returns:
            ``(bg_pos, fg_pos, neg)``, bool ``[..., D, H, W]``: both background;
            the same foreground class; different labels.
        """
        src = labels.unsqueeze(-3)
        dst = self.destination(labels, ignore_index)
        known = (src != ignore_index) & (dst != ignore_index)
        same = src == dst
        return known & same & (src == 0), known & same & (src != 0), known & ~same
