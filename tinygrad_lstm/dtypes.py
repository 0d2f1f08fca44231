"""PyTorch's type promotion, in one place: which dtype an op on mixed operands computes in.

Operands fall into three groups, and a group only takes part when it is of a higher *category*
(bool < integer < floating) than the groups before it:

1. tensors with at least one axis (and numpy arrays with one),
2. 0-d tensors (and 0-d arrays),
3. Python and numpy scalars ("wrapped numbers"): a float counts as the default float dtype (float32), an int as
   int64, a bool as bool.

So ``float32 tensor * np.sqrt(2.0)`` stays float32 (a scalar never upcasts a tensor of its own category),
``float32 tensor + 0-d float64 tensor`` is float32, ``int64 tensor * 2.5`` is float32, and two tensors with axes
promote as numpy does, except that integer with floating gives the floating type (``int64 + float32`` is
float32, not numpy's float64). True division and the float functions (exp, log, …) of integers give the
default float dtype. Matrix products refuse an integer or bool operand beside another dtype (as torch; torch also
refuses float32 with float64, which we promote: see `check_matmul`).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)  # torch.get_default_dtype()
_BOOL, _INT64 = np.dtype(bool), np.dtype(np.int64)


def category(dt: np.dtype) -> int:
    """0 bool, 1 integer, 2 floating (the order in which a dtype can lift another group's)."""
    return 2 if dt.kind == "f" else 0 if dt.kind == "b" else 1


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: numpy's rule, except that integer or bool with floating gives the floating type."""
    if a.kind == "f" and b.kind != "f":
        return a
    if b.kind == "f" and a.kind != "f":
        return b
    return np.promote_types(a, b)


def _group(x: Any) -> tuple[int, np.dtype]:
    """(group, dtype) of one operand: 0 an array with axes, 1 a 0-d array, 2 a Python or numpy scalar."""
    if isinstance(x, np.ndarray):
        return (0 if x.ndim else 1), x.dtype
    if isinstance(x, (bool, np.bool_)):
        return 2, _BOOL
    if isinstance(x, (numbers.Integral, np.integer)):
        return 2, _INT64
    if isinstance(x, (numbers.Real, np.floating)):
        return 2, DEFAULT_FLOAT
    raise TypeError(f"expected a tensor, an array or a real number, got {type(x).__name__}")


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A lower group counts only if it is of a higher category (torch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or category(higher) >= category(lower):
        return higher
    return promote_types(higher, lower)


def result_type(*operands: Any, floating: bool = False) -> np.dtype:
    """The dtype torch computes ``op(*operands)`` in; operands are ndarrays (a Tensor's ``.data``) or scalars.

    `floating=True` for ops whose result is always floating (true division, exp, …): an integer or bool result
    becomes the default float dtype."""
    groups: list[np.dtype | None] = [None, None, None]
    for x in operands:
        g, dt = _group(x)
        groups[g] = dt if groups[g] is None else promote_types(groups[g], dt)
    dt = _combine(groups[0], _combine(groups[1], groups[2]))
    assert dt is not None, "result_type needs at least one operand"
    return DEFAULT_FLOAT if floating and dt.kind != "f" else dt


def float_type(dt: np.dtype) -> np.dtype:
    """The dtype a float function (exp, tanh, …) of a `dt` tensor computes in: `dt` if floating, else the
    default float dtype (torch.exp of an int64 tensor is float32)."""
    return dt if dt.kind == "f" else DEFAULT_FLOAT


def check_matmul(a: np.dtype, b: np.dtype) -> None:
    """Matrix products of two dtypes: torch refuses them all. We refuse a non-floating operand beside another
    dtype (an int64 input to a float32 layer is a bug), but let float32 and float64 promote as elementwise ops
    do: feeding float64 numpy data to a float32 model is common here and gives the float64 result numpy gives."""
    if a != b and (a.kind != "f" or b.kind != "f"):
        raise TypeError(f"matmul: both operands must have the same dtype, got {a} and {b} (convert one with "
                        f".astype(), e.g. x.float() for float32 or x.double() for float64)")
