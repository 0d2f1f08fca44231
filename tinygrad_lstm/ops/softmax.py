"""Softmax family, computed around the row maximum so that no exp overflows."""

from __future__ import annotations

import numpy as np

from ..autograd import Function


def _safe_max(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)  # rows of -inf stay -inf, not nan


class Softmax(Function):
    """yᵢ = e^xᵢ / Σⱼ e^xⱼ          dL/dxᵢ = yᵢ (gᵢ - Σⱼ gⱼ yⱼ)"""

    def forward(self, x, axis=-1):
        e = np.exp(x - _safe_max(x, axis))
        y = e / e.sum(axis=axis, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return y * (g - (g * y).sum(axis=self.attrs.get("axis", -1), keepdims=True))


class LogSoftmax(Function):
    """yᵢ = xᵢ - log Σⱼ e^xⱼ        dL/dxᵢ = gᵢ - e^yᵢ Σⱼ gⱼ"""

    def forward(self, x, axis=-1):
        shifted = x - _safe_max(x, axis)
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
