"""Matrix product with numpy's rules: 1-D operands are promoted to a row (left) or a column (right) and the added
axis is dropped again; leading (batch) axes broadcast."""

from __future__ import annotations

import numpy as np

from ..autograd import Function, changed_since
from ..grad_buffer import ProductGrad
from ..kernels import active as K

# Weight gradients Xᵀ G of thin products (X with at most this many rows: a small batch at one time step) are left
# to the engine to add up as one product over all steps (autograd.ProductGrad). Thin products run BLAS at a fraction
# of its speed (128x16 @ 16x512: 45 µs, ~25 GFLOP/s) while the stacked one is fast; with many rows (a batch of 512)
# each product is already efficient and stacking them only adds copies: measured slower.
DEFER_MAX_ROWS = 64


def row_major_transpose(named, y: np.ndarray) -> np.ndarray | None:
    """The array of `named` (a Tensor given as `_transpose_of`) when it is 2-D `y`'s transpose laid out row-major,
    so that a product by yᵀ can multiply by it instead; else None. Whether it still holds the values y had in the
    forward is the caller's check (`changed_since`)."""
    w = named.data if named is not None else None
    if w is None or y.ndim != 2 or not w.flags.c_contiguous or w.shape != y.shape[::-1] or w.dtype != y.dtype:
        return None
    return w


class MatMul(Function):
    """Z = X @ Y          dL/dX = dL/dZ @ Yᵀ,   dL/dY = Xᵀ @ dL/dZ

    `_transpose_of=W`, when Y is Wᵀ (a recurrent layer's W_hhᵀ, made once per sequence: a view, or a row-major
    copy): the backward multiplies by W itself. BLAS multiplies by a row-major matrix faster than by a transposed
    view of one: (32, 1024) @ (1024, 256) took 118 µs against 199 µs, and a layer's backward does it at every
    step."""

    def forward(self, x, y, _transpose_of=None):
        self.save_for_backward(x, y, row_major_transpose(_transpose_of, y))
        return K().matmul(x, y)

    def backward(self, g):
        x, y, w = self.saved_tensors
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
            if w is not None and changed_since(self.attrs["_transpose_of"], self):
                w = None  # W changed in place since: Y, the copy, still holds the values the forward used
            gx = k.matmul(g, w if w is not None else np.swapaxes(y2, -1, -2))
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
