"""Matrix product with numpy's rules: 1-D operands are promoted to a row (left) or a column (right) and the added
axis is dropped again; leading (batch) axes broadcast."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function, ProductGrad
from ..kernels import active as K
from .movement import Contiguous, Transpose

# Weight gradients Xᵀ G of thin products (X with at most this many rows: a small batch at one time step) are left
# to the engine to add up as one product over all steps (autograd.ProductGrad). Thin products run BLAS at a fraction
# of its speed (128x16 @ 16x512: 45 µs, ~25 GFLOP/s) while the stacked one is fast; with many rows (a batch of 512)
# each product is already efficient and stacking them only adds copies: measured slower.
DEFER_MAX_ROWS = 64


class MatMul(Function):
    """Z = X @ Y          dL/dX = dL/dZ @ Yᵀ,   dL/dY = Xᵀ @ dL/dZ"""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return K().matmul(x, y)

    def backward(self, g):
        x, y = self.saved_tensors
        k = K()
        # Put back the axes that 1-D operands lost, so both products below are ordinary (batched) matrix products.
        if x.ndim == 1 and y.ndim == 1:
            g = g.reshape(1, 1)
        elif x.ndim == 1:
            g = np.expand_dims(g, -2)
        elif y.ndim == 1:
            g = np.expand_dims(g, -1)
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        gx = gy = None
        if self.needs_input_grad[0]:
            yt = _row_major_transpose(self.parents[1]) if y.ndim == 2 else None
            gx = k.matmul(g, yt if yt is not None else np.swapaxes(y2, -1, -2))
            if x.ndim == 1:
                gx = gx[..., 0, :]
        if self.needs_input_grad[1]:
            if x.ndim == 2 and y.ndim == 2 and x.shape[0] <= DEFER_MAX_ROWS:
                gy = ProductGrad(x, g)  # Xᵀ G, evaluated by the engine with the other uses of Y (one GEMM)
            else:
                gy = k.matmul(np.swapaxes(x2, -1, -2), g)
                if y.ndim == 1:
                    gy = gy[..., 0]
        return gx, gy


def _row_major_transpose(y: Any) -> np.ndarray | None:
    """Yᵀ in row-major memory when Y was made as `W.T.contiguous()` (a recurrent layer's W_hhᵀ): W itself.

    BLAS multiplies by a row-major matrix faster than by a transposed view of one: (32, 1024) @ (1024, 256) took
    118 µs against 199 µs, and a layer's backward does that product at every time step."""
    node = y._ctx
    if not isinstance(node, Contiguous):
        return None
    src = node.parents[0]._ctx
    if not isinstance(src, Transpose) or tuple(src.attrs["axes"]) != (1, 0):
        return None
    w = src.parents[0].data
    return w if w.flags.c_contiguous else None
