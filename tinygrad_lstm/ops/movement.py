"""Ops that move or select elements without arithmetic. Their gradients move the gradient back the same way."""

from __future__ import annotations

import numpy as np

from ..autograd import Function, SliceGrad


class Contiguous(Function):
    """z = x laid out row-major in memory (a copy if it was not)   dz/dx = 1

    Worth it before a matrix is reused many times: BLAS multiplies by a row-major matrix faster than by a
    transposed view of one."""

    def forward(self, x):
        return np.ascontiguousarray(x)

    def backward(self, g):
        return g


class Clone(Function):
    """z = a copy of x (new memory, same values)   dz/dx = 1"""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


class Reshape(Function):
    """z = x viewed with another shape      dz/dx: the gradient reshaped back"""

    def forward(self, x, shape):
        self.save_for_backward(x.shape)
        return x.reshape(shape)

    def backward(self, g):
        (shape,) = self.saved_tensors
        return g.reshape(shape)


class Transpose(Function):
    """z = x with its axes permuted          dz/dx: the gradient permuted back (the inverse permutation)"""

    def forward(self, x, axes):
        return np.transpose(x, axes)

    def backward(self, g):
        return np.transpose(g, np.argsort(self.attrs["axes"]))


class Expand(Function):
    """z = x broadcast to `shape`           dz/dx: the copies' gradients summed (the engine's unbroadcast)"""

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, g):
        return g


class GetItem(Function):
    """z = x[index]                         dz/dx = 1 at the selected places, 0 elsewhere; an element selected
    twice gets both gradients (a scatter-add)"""

    def forward(self, x, index):
        return x[index]

    def backward(self, g):
        # Only the selected region is non-zero: the engine adds it into the input's gradient buffer in place.
        return SliceGrad(self.attrs["index"], g)


class Concat(Function):
    """z = [x₁ x₂ … ] joined along `axis`    dz/dxₖ: the k-th piece of the gradient"""

    def forward(self, *xs, axis=0):
        self.save_for_backward(np.cumsum([x.shape[axis] for x in xs])[:-1])
        return np.concatenate(xs, axis=axis)

    def backward(self, g):
        (cuts,) = self.saved_tensors
        return tuple(np.split(g, cuts, axis=self.attrs.get("axis", 0)))


class Stack(Function):
    """z = [x₁ x₂ … ] stacked on a new `axis`  dz/dxₖ: the gradient's k-th slice on that axis"""

    def forward(self, *xs, axis=0):
        return np.stack(xs, axis=axis)

    def backward(self, g):
        axis = self.attrs.get("axis", 0)
        return tuple(np.take(g, k, axis=axis) for k in range(g.shape[axis]))
