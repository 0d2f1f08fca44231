"""Reference backend: each kernel is the obvious numpy expression.

Every function takes plain ndarrays and returns a new C-contiguous ndarray (also for 0-d inputs, where numpy's
ufuncs would hand back a scalar). The numba backend must agree with these to float rounding.
"""

from __future__ import annotations

import numpy as np

NAME = "numpy"


def _new(r: np.ndarray | np.generic) -> np.ndarray:
    # Ufuncs return numpy scalars for 0-d inputs, and 'K'-order results of transposed inputs are F-ordered.
    return np.asarray(r, order="C")


# ---------------------------------------------------------------- unary forward


def exp(x: np.ndarray) -> np.ndarray:
    return _new(np.exp(x, order="C"))


def log(x: np.ndarray) -> np.ndarray:
    return _new(np.log(x, order="C"))


def sqrt(x: np.ndarray) -> np.ndarray:
    return _new(np.sqrt(x, order="C"))


def tanh(x: np.ndarray) -> np.ndarray:
    return _new(np.tanh(x, order="C"))  # numpy's tanh is exact at the limits: tanh(±1e30) = ±1


def sigmoid(x: np.ndarray) -> np.ndarray:
    # Stable split form: with z = exp(-|x|) in (0, 1] nothing overflows, and for x < 0 the result z / (1 + z)
    # keeps full relative accuracy (1 - 1/(1 + e^-x) would cancel to 0).
    if x.dtype.kind in "biu":
        x = x.astype(np.result_type(x.dtype, np.float16))  # the float type np.exp would give (bool has no -)
    z = np.exp(-np.abs(x))
    return _new(np.where(x >= 0, 1, z) / (1 + z))


def relu(x: np.ndarray) -> np.ndarray:
    return _new(np.maximum(x, 0, order="C"))  # propagates NaN


# ---------------------------------------------------------------- fused backward (y = forward output)


def tanh_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _new(g * (1 - y * y))


def sigmoid_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _new(g * y * (1 - y))


def relu_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # x is the forward *input*; cast so the dtype rule matches the other backward kernels.
    return np.asarray(g * (x > 0), dtype=np.result_type(x, g), order="C")


# ---------------------------------------------------------------- binary (numpy broadcasting and dtypes)


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _new(np.add(a, b, order="C"))


def sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _new(np.subtract(a, b, order="C"))


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _new(np.multiply(a, b, order="C"))


def div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _new(np.divide(a, b, order="C"))


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _new(np.matmul(a, b))
