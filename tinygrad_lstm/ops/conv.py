"""1-D convolution (PyTorch's cross-correlation, channels first), as one op with its own derivative.

With x̃ the input zero-padded by (left, right) on the length axis, stride s and dilation d:

    y[n, o, l] = Σ_c Σ_k w[o, c, k] · x̃[n, c, l·s + k·d]          l = 0 … L_out - 1
    L_out = ⌊(L + left + right - d·(K - 1) - 1) / s⌋ + 1

The forward gathers the windows into a matrix (im2col: row (n, l) holds x̃[n, :, l·s + k·d] for all c, k) and
does one matrix product; the backward is two products and a scatter back onto the positions the windows read.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import active as K


def conv1d_output_length(length: int, kernel_size: int, stride: int, dilation: int, pad: tuple[int, int]) -> int:
    """L_out = ⌊(L + left + right - d·(K - 1) - 1) / s⌋ + 1 (can be ≤ 0: the caller reports it)."""
    return (length + pad[0] + pad[1] - dilation * (kernel_size - 1) - 1) // stride + 1


class Conv1d(Function):
    """y[n,o,l] = Σ_{c,k} w[o,c,k] · x̃[n, c, l·s + k·d]    (x̃: x zero-padded by `padding` = (left, right))

    dL/dw[o,c,k] = Σ_{n,l} g[n,o,l] · x̃[n, c, l·s + k·d]
    dL/dx̃[n,c,j] = Σ_{o,k,l : l·s + k·d = j} g[n,o,l] · w[o,c,k]      dL/dx: dL/dx̃ without the padded ends

    x (N, C, L), w (O, C, K) → y (N, O, L_out). In matrix form, with X the im2col matrix (N·L_out, C·K) and
    W = w.reshape(O, C·K): Y = X Wᵀ, dL/dW = Gᵀ X, dL/dX = G W, and dL/dx̃ adds dL/dX back onto the places each
    window read (a position read by several windows gets all their gradients).
    """

    def forward(self, x, w, stride=1, padding=(0, 0), dilation=1):
        N, C, L = x.shape
        O, _, Kw = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), padding)) if any(padding) else x
        L_out = conv1d_output_length(L, Kw, stride, dilation, padding)
        pos = np.arange(L_out)[:, None] * stride + np.arange(Kw)[None, :] * dilation  # (L_out, K): x̃ positions
        cols = np.ascontiguousarray(xp[:, :, pos].transpose(0, 2, 1, 3)).reshape(N * L_out, C * Kw)
        w2 = w.reshape(O, C * Kw)
        self.save_for_backward(cols, w2, xp.shape)
        y = K().matmul(cols, w2.T)  # (N·L_out, O)
        return np.ascontiguousarray(y.reshape(N, L_out, O).transpose(0, 2, 1))

    def backward(self, g):
        cols, w2, padded_shape = self.saved_tensors
        N, C, Lp = padded_shape
        O, CK = w2.shape
        Kw = CK // C
        s, d = self.attrs.get("stride", 1), self.attrs.get("dilation", 1)
        left, right = self.attrs.get("padding", (0, 0))
        L_out = g.shape[2]
        g2 = np.ascontiguousarray(g.transpose(0, 2, 1)).reshape(N * L_out, O)
        gw = gx = None
        if self.needs_input_grad[1]:
            gw = K().matmul(g2.T, cols).reshape(O, C, Kw)
        if self.needs_input_grad[0]:
            gcols = K().matmul(g2, w2).reshape(N, L_out, C, Kw).transpose(0, 2, 1, 3)  # (N, C, L_out, K)
            gxp = np.zeros(padded_shape, dtype=g.dtype)
            for k in range(Kw):  # within one tap k the positions l·s + k·d are distinct: a plain += is exact
                gxp[:, :, k * d: k * d + (L_out - 1) * s + 1: s] += gcols[:, :, :, k]
            gx = gxp[:, :, left: Lp - right]
        return gx, gw
