"""Elementwise ops. Inputs broadcast as in numpy; each backward returns gradients of the *broadcast* shape and the
engine sums them back to each input's shape (`autograd.unbroadcast`), so no op here deals with broadcasting."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import active as K


class Add(Function):
    """z = x + y          dz/dx = 1,  dz/dy = 1"""

    def forward(self, x, y):
        return K().add(x, y)

    def backward(self, g):
        return g, g


class Sub(Function):
    """z = x - y          dz/dx = 1,  dz/dy = -1"""

    def forward(self, x, y):
        return K().sub(x, y)

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y          dz/dx = y,  dz/dy = x"""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return K().mul(x, y)

    def backward(self, g):
        x, y = self.saved_tensors
        k = K()
        return (k.mul(g, y) if self.needs_input_grad[0] else None,
                k.mul(g, x) if self.needs_input_grad[1] else None)


class Div(Function):
    """z = x / y          dz/dx = 1/y,  dz/dy = -x/y² = -z/y"""

    def forward(self, x, y):
        z = K().div(x, y)
        self.save_for_backward(y, z)
        return z

    def backward(self, g):
        y, z = self.saved_tensors
        k = K()
        gx = k.div(g, y)
        return gx, (-k.mul(gx, z) if self.needs_input_grad[1] else None)


class Pow(Function):
    """z = x ** y         dz/dx = y · x^(y-1),  dz/dy = z · ln x"""

    def forward(self, x, y):
        with np.errstate(all="ignore"):  # 0 ** -1 = inf and (-1) ** 0.5 = nan, as numpy and torch give
            z = np.power(x, y)
        self.save_for_backward(x, y, z)
        return z

    def backward(self, g):
        x, y, z = self.saved_tensors
        gx = gy = None
        with np.errstate(all="ignore"):
            if self.needs_input_grad[0]:
                gx = g * y * np.power(x, y - 1)
                gx = np.where(y == 0, 0, gx).astype(gx.dtype, copy=False)  # d/dx x^0 = 0, even at x = 0
            if self.needs_input_grad[1]:
                # at x = 0 the limit z · ln x is 0 for y > 0 (as torch): mask the 0 · -inf
                gy = np.where((x == 0) & (y >= 0), 0, g * z * np.log(x)).astype(z.dtype, copy=False)
        return gx, gy


class Cast(Function):
    """z = x in another floating dtype     dz/dx = 1   (the engine casts the gradient to x's dtype)"""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, g):
        return g


class Neg(Function):
    """z = -x             dz/dx = -1"""

    def forward(self, x):
        return np.negative(x)

    def backward(self, g):
        return -g


class Exp(Function):
    """z = eˣ              dz/dx = eˣ = z"""

    def forward(self, x):
        z = K().exp(x)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved_tensors
        return K().mul(g, z)


class Log(Function):
    """z = ln x           dz/dx = 1/x"""

    def forward(self, x):
        self.save_for_backward(x)
        return K().log(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return K().div(g, x)


class Sqrt(Function):
    """z = √x             dz/dx = 1/(2√x) = 1/(2z)"""

    def forward(self, x):
        z = K().sqrt(x)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved_tensors
        with np.errstate(divide="ignore"):
            return g / (2 * z)


class Tanh(Function):
    """z = tanh x         dz/dx = 1 - tanh²x = 1 - z²"""

    def forward(self, x):
        z = K().tanh(x)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved_tensors
        return K().tanh_backward(z, g)


class Sigmoid(Function):
    """z = σ(x) = 1/(1+e⁻ˣ)     dz/dx = σ(x)(1-σ(x)) = z(1-z)"""

    def forward(self, x):
        z = K().sigmoid(x)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved_tensors
        return K().sigmoid_backward(z, g)


class Relu(Function):
    """z = max(x, 0)      dz/dx = 1 where x > 0, else 0"""

    def forward(self, x):
        self.save_for_backward(x)
        return K().relu(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return K().relu_backward(x, g)


class Abs(Function):
    """z = |x|            dz/dx = sign(x)   (0 at x = 0, as torch)"""

    def forward(self, x):
        self.save_for_backward(x)
        return np.abs(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * np.sign(x)


class Clip(Function):
    """z = min(max(x, lo), hi)      dz/dx = 1 where lo ≤ x ≤ hi, else 0   (torch.clamp's convention)"""

    def forward(self, x, min=None, max=None):
        self.save_for_backward(x)
        return np.clip(x, min, max)

    def backward(self, g):
        (x,) = self.saved_tensors
        lo, hi = self.attrs.get("min"), self.attrs.get("max")
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        return g * inside


class Maximum(Function):
    """z = max(x, y)      dz/dx = 1 where x > y, dz/dy = 1 where y > x; a tie splits the gradient in half"""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return np.maximum(x, y)

    def backward(self, g):
        x, y = self.saved_tensors
        share = np.where(x == y, 0.5, 1.0).astype(g.dtype)
        return g * share * (x >= y), g * share * (y >= x)


class Minimum(Function):
    """z = min(x, y)      dz/dx = 1 where x < y, dz/dy = 1 where y < x; a tie splits the gradient in half"""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return np.minimum(x, y)

    def backward(self, g):
        x, y = self.saved_tensors
        share = np.where(x == y, 0.5, 1.0).astype(g.dtype)
        return g * share * (x <= y), g * share * (y <= x)


class Where(Function):
    """z = cond ? x : y   dz/dx = cond,  dz/dy = not cond   (cond carries no gradient)"""

    def forward(self, cond, x, y):
        cond = cond.astype(bool, copy=False)
        self.save_for_backward(cond)
        return np.where(cond, x, y)

    def backward(self, g):
        (cond,) = self.saved_tensors
        zero = np.zeros((), dtype=g.dtype)
        return (None,
                np.where(cond, g, zero) if self.needs_input_grad[1] else None,
                np.where(cond, zero, g) if self.needs_input_grad[2] else None)
