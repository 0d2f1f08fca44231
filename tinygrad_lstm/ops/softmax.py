"""Softmax family, computed around the row maximum so that no exp overflows."""

from __future__ import annotations

import numpy as np

from ..autograd import Function


def _row_max(x: np.ndarray, axis: int | tuple | None) -> np.ndarray:
    """The maximum to shift by, keeping the reduced axes; -inf for an empty row (plain np.max refuses those)."""
    return np.max(x, axis=axis, keepdims=True, initial=-np.inf)


def _safe_max(x: np.ndarray, axis: int | tuple | None) -> np.ndarray:
    """logsumexp's shift: the row max where finite, else 0 (torch's rule: a row with +inf sums to +inf)."""
    m = _row_max(x, axis)
    return np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)


class Softmax(Function):
    """yᵢ = e^xᵢ / Σⱼ e^xⱼ          dL/dxᵢ = yᵢ (gᵢ - Σⱼ gⱼ yⱼ)"""

    def forward(self, x, axis=-1):
        with np.errstate(invalid="ignore"):  # a row holding +inf or nan, or all -inf, is nan throughout, as torch
            e = np.exp(x - _row_max(x, axis))
            y = e / e.sum(axis=axis, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return y * (g - (g * y).sum(axis=self.attrs.get("axis", -1), keepdims=True))


class LogSoftmax(Function):
    """yᵢ = xᵢ - log Σⱼ e^xⱼ        dL/dxᵢ = gᵢ - e^yᵢ Σⱼ gⱼ"""

    def forward(self, x, axis=-1):
        with np.errstate(invalid="ignore", divide="ignore"):
            shifted = x - _row_max(x, axis)
            y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return g - np.exp(y) * g.sum(axis=self.attrs.get("axis", -1), keepdims=True)


class LogSumExp(Function):
    """z = log Σᵢ e^xᵢ              dz/dxᵢ = e^(xᵢ - z)   (the softmax)"""

    def forward(self, x, axis=None, keepdims=False):
        m = _safe_max(x, axis)
        with np.errstate(divide="ignore"):  # a row all -inf: log 0 = -inf, as torch
            z = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
        self.save_for_backward(x, z)
        if keepdims:
            return z
        return z.reshape(()) if axis is None else np.squeeze(z, axis=axis)

    def backward(self, g):
        x, z = self.saved_tensors
        return np.exp(x - z) * g.reshape(z.shape)
