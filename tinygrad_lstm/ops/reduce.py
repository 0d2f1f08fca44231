"""Reductions over `axis` (None = all axes, an int, or a tuple; already normalized to non-negative ints).

The gradient of a reduction spreads the output gradient back over the reduced axes: reshape it as if
keepdims=True, then broadcast to the input's shape."""

from __future__ import annotations

import numpy as np

from ..autograd import Function


def _keepdims_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


class Sum(Function):
    """z = Σᵢ xᵢ          dz/dxᵢ = 1"""

    def forward(self, x, axis=None, keepdims=False):
        self.save_for_backward(x.shape)
        return x.sum(axis=axis, keepdims=keepdims)

    def backward(self, g):
        (shape,) = self.saved_tensors
        return np.broadcast_to(g.reshape(_keepdims_shape(shape, self.attrs.get("axis"))), shape)


class Mean(Function):
    """z = (1/n) Σᵢ xᵢ    dz/dxᵢ = 1/n"""

    def forward(self, x, axis=None, keepdims=False):
        self.save_for_backward(x.shape)
        n = x.size if axis is None else int(np.prod([x.shape[a] for a in axis]))
        return x.sum(axis=axis, keepdims=keepdims) / x.dtype.type(n) if n else np.mean(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        (shape,) = self.saved_tensors
        axis = self.attrs.get("axis")
        n = int(np.prod(shape)) if axis is None else int(np.prod([shape[a] for a in axis]))
        return np.broadcast_to(g.reshape(_keepdims_shape(shape, axis)) / max(n, 1), shape)


class Max(Function):
    """z = maxᵢ xᵢ        dz/dxᵢ = 1 where xᵢ is the max; ties share it equally (as torch.amax)"""

    def forward(self, x, axis=None, keepdims=False):
        z = np.max(x, axis=axis, keepdims=True)
        self.save_for_backward(x, z)
        return _drop(z, axis, keepdims)

    def backward(self, g):
        x, z = self.saved_tensors
        return _spread_to_extremes(g, x, z, self.attrs.get("axis"))


class Min(Function):
    """z = minᵢ xᵢ        dz/dxᵢ = 1 where xᵢ is the min; ties share it equally (as torch.amin)"""

    def forward(self, x, axis=None, keepdims=False):
        z = np.min(x, axis=axis, keepdims=True)
        self.save_for_backward(x, z)
        return _drop(z, axis, keepdims)

    def backward(self, g):
        x, z = self.saved_tensors
        return _spread_to_extremes(g, x, z, self.attrs.get("axis"))


class Std(Function):
    """z = √(Σᵢ (xᵢ - μ)² / (n - c))  (c: the correction, 1 = unbiased)
    dz/dxᵢ = (xᵢ - μ) / ((n - c) z), and 0 where z = 0 (as torch: every xᵢ equals μ there, no direction is up)"""

    def forward(self, x, axis=None, keepdims=False, correction=1):
        n = x.size if axis is None else int(np.prod([x.shape[a] for a in axis]))
        with np.errstate(divide="ignore", invalid="ignore"):  # n <= c: inf or nan, as torch
            d = x - (x.sum(axis=axis, keepdims=True) / x.dtype.type(n) if n else x)
            z = np.sqrt((d * d).sum(axis=axis, keepdims=True) / x.dtype.type(n - correction))
        self.save_for_backward(d, z, n - correction)
        return _drop(z, axis, keepdims)

    def backward(self, g):
        d, z, dof = self.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(z == 0, 0, g.reshape(z.shape) / (z * z.dtype.type(dof))).astype(z.dtype, copy=False)
        return d * scale


def _drop(z: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    if keepdims:
        return z
    return z.reshape(()) if axis is None else np.squeeze(z, axis=axis)


def _spread_to_extremes(g: np.ndarray, x: np.ndarray, z: np.ndarray, axis: tuple[int, ...] | None) -> np.ndarray:
    hit = x == z
    count = hit.sum(axis=axis, keepdims=True)
    return hit * (g.reshape(z.shape) / count).astype(g.dtype, copy=False)
