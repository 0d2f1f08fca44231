"""Reference backend: every elementwise op is its definition (ops/elementwise.py) evaluated by numpy.

An op's expression trees are rendered once into numpy expressions (`render_numpy`) and run on whole arrays.
Every function returns a new C-contiguous ndarray (also for 0-d inputs, where numpy's ufuncs would hand back a
scalar) or, for a gradient that is its incoming gradient unchanged (that of x + y), that same array. The numba
backend must agree with these to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..ops.expr import NUMPY, PRIMITIVES, Expr, render
from .named import by_name, grads_by_name

NAME = "numpy"

_NAMESPACE: dict[str, Any] = {f"P_{n}": fn for n, (_, fn) in PRIMITIVES.items()} | {"P_full_like": np.full_like}


def _new(r: np.ndarray | np.generic) -> np.ndarray:
    # Ufuncs return numpy scalars for 0-d inputs, and 'K'-order results of transposed inputs are F-ordered.
    return np.asarray(r, order="C")


def render_numpy(expr: Expr, args: tuple[str, ...]) -> Callable:
    """`lambda *args: <expr as numpy>`: a tree of a definition as a numpy function."""
    body = render(expr, NUMPY)
    if expr.op == "const":  # a constant gradient (0 for floor): an array of the incoming gradient's shape
        body = f"P_full_like({args[0]}, {body})"
    source = f"lambda {', '.join(args)}: {body}"
    return eval(source, dict(_NAMESPACE))  # noqa: S307 - our own generated code


def _compiled(low: Any) -> tuple[Callable, tuple[Callable | None, ...]]:
    fns = low.impl.get(NAME)
    if fns is None:
        fwd = render_numpy(low.forward, low.inputs)
        grads = tuple(None if d is None else render_numpy(d, ("g", *low.saves)) for d in low.grads)
        fns = low.impl[NAME] = (fwd, grads)
    return fns


def elementwise(low: Any, xs: tuple[np.ndarray, ...]) -> np.ndarray:
    """z = op(*xs) for a lowered elementwise op (see ops.elementwise.Lowered)."""
    fwd = (low.impl.get(NAME) or _compiled(low))[0]
    if low.op.ignore_fp_errors:
        with np.errstate(all="ignore"):
            return _new(fwd(*xs))
    return _new(fwd(*xs))


def elementwise_grad(low: Any, k: int, g: np.ndarray, saved: tuple[np.ndarray, ...]) -> np.ndarray:
    """The gradient of input k, from the output's gradient g and the arrays the op saved (`low.saves`)."""
    d = (low.impl.get(NAME) or _compiled(low))[1][k]
    if low.op.ignore_fp_errors:
        with np.errstate(all="ignore"):
            return _new(d(g, *saved))
    return _new(d(g, *saved))


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _new(np.matmul(a, b))


exp, log, sqrt, tanh, sigmoid, relu, add, sub, mul, div = by_name(elementwise)
tanh_backward, sigmoid_backward, relu_backward = grads_by_name(elementwise_grad)


def adam_update(d: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, vmax: np.ndarray | None,
                beta1: float, beta2: float, step_size: float, bias2_sqrt: float, eps: float) -> None:
    """One Adam update in place (optim/adam.py states it): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², v ← max(vmax, v)
    into vmax (amsgrad, when given), d ← d − step_size · m / (√v / bias2_sqrt + ε). Scalars are used as the
    arrays' dtype (numpy's rule for Python floats), in this order of operations."""
    tmp = np.multiply(g, 1 - beta1, out=np.empty_like(d))  # scratch (out= keeps 0-d an array)
    m *= beta1
    m += tmp
    np.multiply(g, g, out=tmp)
    tmp *= 1 - beta2
    v *= beta2
    v += tmp
    if vmax is not None:
        v = np.maximum(vmax, v, out=vmax)
    np.sqrt(v, out=tmp)
    tmp /= bias2_sqrt
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= step_size
    d -= tmp

