"""Running sums and products along one axis, and the product reduction. None divides by an input, so inputs
that hold zeros get exact gradients (the naive dz/dxᵢ = z/xᵢ would give 0/0 there)."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from .reduce import _keepdims_shape


def _reverse_cumsum(a: np.ndarray, axis: int) -> np.ndarray:
    """Σ_{k≥i} aₖ for every i along `axis`."""
    return np.flip(np.cumsum(np.flip(a, axis), axis), axis)


class CumSum(Function):
    """zₖ = Σ_{i≤k} xᵢ along `axis`          dL/dxᵢ = Σ_{k≥i} gₖ   (the gradient summed from the end)"""

    def forward(self, x, axis):
        return np.cumsum(x, axis=axis)

    def backward(self, g):
        return _reverse_cumsum(g, self.attrs["axis"])


class CumProd(Function):
    """zₖ = Π_{i≤k} xᵢ along `axis`          dL/dxᵢ = Σ_{k≥i} gₖ Π_{j≤k, j≠i} xⱼ

    Where no xⱼ is zero that is (Σ_{k≥i} gₖ zₖ) / xᵢ. In a row holding zeros, with j₀ the first of them: positions
    before j₀ still use that form (every zₖ from j₀ on is 0, as is each true term); at j₀ itself it is
    z_{j₀-1} · Σ_{k≥j₀} gₖ Π_{j₀<j≤k} xⱼ; after j₀ the gradient is 0 (each term holds the factor x_{j₀} = 0)."""

    def forward(self, x, axis):
        z = np.cumprod(x, axis=axis)
        self.save_for_backward(x, z)
        return z

    def backward(self, g):
        x, z = self.saved_tensors
        axis = self.attrs["axis"]
        if x.size == 0:
            return np.zeros_like(g)
        xm = np.moveaxis(x, axis, -1)
        n = xm.shape[-1]
        x2, z2, g2 = (np.moveaxis(a, axis, -1).reshape(-1, n) for a in (x, z, g))  # one row per scan
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = _reverse_cumsum(g2 * z2, -1) / x2
        for r in np.nonzero((x2 == 0).any(axis=1))[0]:  # only rows that hold a zero need the careful form
            xr, zr, gr = x2[r], z2[r], g2[r]
            j0 = int(np.argmax(xr == 0))
            grad[r, j0:] = 0
            before = zr[j0 - 1] if j0 > 0 else 1
            after = np.cumprod(np.concatenate([np.ones(1, xr.dtype), xr[j0 + 1:]]))  # Π_{j₀<j≤k} xⱼ, k = j₀..
            grad[r, j0] = before * np.dot(gr[j0:], after)
        return np.moveaxis(grad.reshape(xm.shape), -1, axis)


def _product_of_others(x: np.ndarray) -> np.ndarray:
    """Π_{j≠i} xⱼ along the last axis, for every i: the product of everything left of i times everything right
    of it (two running products), so a zero at i still gives the product of the others."""
    if x.shape[-1] == 0:
        return x.copy()
    one = np.ones(x.shape[:-1] + (1,), x.dtype)
    left = np.cumprod(np.concatenate([one, x[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([one, np.flip(x[..., 1:], -1)], axis=-1), axis=-1), -1)
    return left * right


class Prod(Function):
    """z = Πᵢ xᵢ over `axis` (None: all)      dz/dxᵢ = Π_{j≠i} xⱼ"""

    def forward(self, x, axis=None, keepdims=False):
        self.save_for_backward(x)
        return np.prod(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        (x,) = self.saved_tensors
        axis = self.attrs.get("axis")
        axes = tuple(range(x.ndim)) if axis is None else axis
        ends = tuple(range(x.ndim - len(axes), x.ndim))
        moved = np.moveaxis(x, axes, ends)  # the reduced axes last, then flattened into one
        others = _product_of_others(moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,)))
        others = np.moveaxis(others.reshape(moved.shape), ends, axes)
        return others * g.reshape(_keepdims_shape(x.shape, axis))
