"""Tolerances derived from float32 arithmetic, not from what one CPU printed.

A float32 value that comes out of a chain of roundings (dot products, convolutions,
sums: ``terms`` operations feeding it) differs from the same quantity computed in
another order (another BLAS, batch size or thread count) or in float64 by at most
about ``eps32 · sqrt(terms)`` times the scale of the numbers involved (random-walk
bound of the rounding errors; ``k`` covers the constant). The scale is that of the
compared values, ``max |reference|``, so a map normalized to 1 and logits of 50 get
tolerances of their own size.
"""
import math

import torch

EPS32 = float(torch.finfo(torch.float32).eps)


def f32_atol(reference, terms: int, k: float = 8.0) -> float:
    """``k · eps32 · sqrt(terms) · max|reference|``: the rounding budget of a float32 result."""
    scale = float(torch.as_tensor(reference).detach().abs().max())
    return k * EPS32 * math.sqrt(max(int(terms), 1)) * scale


def assert_close_f32(actual, expected, terms: int, k: float = 8.0) -> None:
    """``|actual - expected| <= f32_atol(expected, terms, k)`` elementwise (rtol 0)."""
    expected = torch.as_tensor(expected).detach()
    actual = torch.as_tensor(actual).detach().to(expected.dtype)
    torch.testing.assert_close(actual, expected, rtol=0, atol=f32_atol(expected, terms, k))


def network_terms(model: torch.nn.Module) -> int:
    """Roundings behind one output of a conv/linear net: the sum of its layers' fan-ins."""
    layers = (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)
    return sum(m.weight[0].numel() for m in model.modules() if isinstance(m, layers))
