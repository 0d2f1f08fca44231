"""Tests of values that give boolean tensors (never part of the graph), and integer division.

isnan, isinf, isfinite, isclose, allclose, any/all over dims; ``//`` (floor division) and ``%`` (remainder with
the divisor's sign), as in torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, _pair


def _data(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def isnan(x: Tensor) -> Tensor:
    return Tensor(np.isnan(x.data) if x.dtype.kind in "fc" else np.zeros(x.shape, bool))


def isinf(x: Tensor) -> Tensor:
    return Tensor(np.isinf(x.data) if x.dtype.kind in "fc" else np.zeros(x.shape, bool))


def isfinite(x: Tensor) -> Tensor:
    return Tensor(np.isfinite(x.data) if x.dtype.kind in "fc" else np.ones(x.shape, bool))


def isclose(x: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|x - other| ≤ atol + rtol·|other|, elementwise (infinities equal only themselves)."""
    o = _data(other)
    try:
        np.broadcast_shapes(x.shape, o.shape)
    except ValueError:
        raise ValueError(f"isclose: shapes {x.shape} and {o.shape} do not broadcast") from None
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    return Tensor(np.isclose(x.data, o, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(isclose(x, other, rtol, atol, equal_nan).data.all())


def any_all(x: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
    """Whether any (all) elements are non-zero, over `dim` (None: all dims), as a bool tensor."""
    fn = np.any if op == "any" else np.all
    return Tensor(np.asarray(fn(x.data, axis=x._axes(op, dim), keepdims=keepdim)))


def _operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both as tensors of the dtype torch divides them in (int64 // 2.0 is float32, as ``+`` would be)."""
    a, b = _pair(a, b)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast") from None
    if a.dtype.kind in "iub" and b.dtype.kind in "iub" and (b.data == 0).any():
        raise ZeroDivisionError(f"{op}: integer division by zero (divisor of shape {b.shape})")
    return a, b


def floor_divide(a: Any, b: Any) -> Tensor:
    """⌊a / b⌋ elementwise (rounds toward -∞, as torch's ``//``). Its derivative is zero wherever it exists, so
    the result carries no gradient."""
    a, b = _operands(a, b, "floor_divide")
    with np.errstate(divide="ignore", invalid="ignore"):  # float division by 0: ±inf or nan, as torch
        return Tensor(np.floor_divide(a.data, b.data))


def trunc_divide(a: Any, b: Any) -> Tensor:
    """a / b rounded toward zero (torch's ``div(rounding_mode="trunc")``); no gradient, as `floor_divide`."""
    a, b = _operands(a, b, "div")
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.trunc(np.true_divide(a.data, b.data))
    return Tensor(q.astype(np.result_type(a.data, b.data), copy=False))


def remainder(a: Any, b: Any) -> Tensor:
    """a - b·⌊a / b⌋ elementwise (the sign of b, as torch's ``%``).  d/da = 1, d/db = -⌊a / b⌋ (float tensors)."""
    a, b = _operands(a, b, "remainder")
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.floor_divide(a.data, b.data)
        return a - b * Tensor(q)
    return Tensor(np.remainder(a.data, b.data))
