"""Picking elements by position or by value, with PyTorch's names and semantics: argmax/argmin, max/min along a
dim with their indices, sort, argsort, topk, gather, scatter, scatter_add, masked_fill, nonzero.

The values these return are gathered from the input (`gather`, a `GetItem`), so their gradient flows to the
positions that were picked, exactly as torch's; the indices are int64 tensors without gradient.
"""

from __future__ import annotations

import numbers
from collections import namedtuple
from typing import Any

import numpy as np

from . import ops
from .grad_buffer import broadcasts_to
from .ops.indexing import index_grids
from .tensor import Tensor, _as_tensor, _one_axis, where

# torch.return_types: named (values, indices) pairs that also unpack as tuples
return_types = {name: namedtuple(name, ("values", "indices")) for name in ("max", "min", "sort", "topk")}


def _dim(x: Tensor, dim: Any, op: str) -> int:
    """One axis; a 0-d tensor has the one axis 0 (or -1), as in torch."""
    return _one_axis(x, op, dim)


def _indices(idx: np.ndarray) -> Tensor:
    return Tensor(np.asarray(idx, dtype=np.int64))


def arg_extreme(x: Tensor, dim: int | None, keepdim: bool, op: str) -> Tensor:
    """argmax/argmin: the index of the first largest (smallest) value along `dim`; without a dim, the index into
    the flattened tensor. NaN counts as the extreme, as torch."""
    find = np.argmax if op == "argmax" else np.argmin
    if dim is None:
        if x.data.size == 0:
            raise ValueError(f"{op}: cannot take the {op} of an empty tensor of shape {x.shape}; give a dim")
        i = find(x.data)
        return _indices(np.reshape(i, (1,) * x.ndim) if keepdim else i)
    d = _dim(x, dim, op)
    if x.ndim and x.shape[d] == 0:
        raise ValueError(f"{op}: dim {dim} of a tensor of shape {x.shape} is empty; there is no {op}")
    if x.ndim == 0:
        return _indices(np.zeros((), np.int64))
    return _indices(find(x.data, axis=d, keepdims=keepdim))


def gather(x: Tensor, dim: int, index: Any, op: str = "gather") -> Tensor:
    """`out[i][j][k] = x[index[i][j][k]][j][k]` (dim 0; likewise for other dims), as torch.gather: `index` has
    as many axes as `x`, and no axis larger than x's except along `dim`.   dL/dx: g added at the gathered places."""
    d = _dim(x, dim, op)
    idx = _index_array(index, x, d, op)
    if x.ndim == 0:
        return x.reshape(1)[(idx.reshape(1),)].reshape(())
    return ops.GetItem.apply(x, index=index_grids(idx, d))


def _index_array(index: Any, x: Tensor, d: int, op: str, others: Tensor | None = None) -> np.ndarray:
    """The index as int64 ndarray, checked against torch's rules for gather/scatter."""
    idx = np.asarray(index.data if isinstance(index, Tensor) else index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {idx.dtype}")
    if idx.ndim != x.ndim:
        raise ValueError(f"{op}: index has {idx.ndim} dims (shape {idx.shape}) but the input has {x.ndim} "
                         f"(shape {x.shape}); they must have the same number of dims")
    for a, (ni, nx) in enumerate(zip(idx.shape, x.shape)):
        if a != d and ni > nx:
            raise ValueError(f"{op}: index of shape {idx.shape} is larger than the input of shape {x.shape} "
                             f"on dim {a} (only dim {d} may differ)")
    if others is not None and any(ni > ns for ni, ns in zip(idx.shape, others.shape)):
        raise ValueError(f"{op}: index of shape {idx.shape} is larger than src of shape {others.shape}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min() if idx.min() < 0 else idx.max())
        raise IndexError(f"{op}: index {bad} is out of bounds for dim {d} of size {n} (input shape {x.shape})")
    return idx.astype(np.intp, copy=False)


def scatter(x: Tensor, dim: int, index: Any, src: Any, add: bool, op: str) -> Tensor:
    """A copy of x with src written (scatter) or added (scatter_add) at the places `index` names along `dim`:
    `out[index[i][j]][j] = src[i][j]` for dim 0. `src` is a tensor (gradients flow to it) or a scalar."""
    d = _dim(x, dim, op)
    if isinstance(src, (Tensor, np.ndarray)):
        src_t = _as_tensor(src)
        if src_t.ndim != x.ndim:
            raise ValueError(f"{op}: src of shape {src_t.shape} must have as many dims as the input {x.shape}")
    elif isinstance(src, numbers.Number):
        src_t = None
    else:
        raise TypeError(f"{op}: src must be a tensor or a number, got {type(src).__name__}")
    idx = _index_array(index, x, d, op, src_t)
    if src_t is None:
        src_t = Tensor(np.full(idx.shape, src, dtype=x.dtype))
    elif src_t.dtype != x.dtype:
        src_t = src_t.astype(x.dtype)
    if x.ndim == 0:
        return scatter(x.reshape(1), 0, idx.reshape(1), src_t.reshape(1), add, op).reshape(())
    return ops.Scatter.apply(x, src_t, grids=index_grids(idx, d), add=add)


def extreme_with_indices(x: Tensor, dim: Any, keepdim: bool, op: str) -> tuple[Tensor, Tensor]:
    """max/min along one dim: (values, indices), values differentiable (the gradient goes to the index)."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be one int (the result holds values and indices); for several dims use "
                        f"a{op}(dim={tuple(dim)})")
    idx = arg_extreme(x, dim, True, "arg" + op)
    d = _dim(x, dim, op)
    values = gather(x, d, idx, op)
    if not keepdim and x.ndim:
        values, idx = values.squeeze(d), _indices(np.squeeze(idx.data, d))
    return return_types[op](values, idx)


def sort(x: Tensor, dim: int = -1, descending: bool = False, op: str = "sort") -> tuple[Tensor, Tensor]:
    """Values along `dim` in order, and where each came from; equal values keep their order (a stable sort),
    NaN sorts as the largest (as torch)."""
    d = _dim(x, dim, op)
    if x.ndim == 0:
        return return_types[op](x.clone(), _indices(np.zeros((), np.int64)))
    if descending:  # a stable ascending sort of the reversed axis, reversed back: ties keep their order
        n = x.shape[d]
        idx = n - 1 - np.flip(np.argsort(np.flip(x.data, d), axis=d, kind="stable"), d)
    else:
        idx = np.argsort(x.data, axis=d, kind="stable")
    return return_types[op](gather(x, d, idx, op), _indices(idx))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple[Tensor, Tensor]:
    """The k largest (or smallest) values along `dim`, in order, and their indices."""
    d = _dim(x, dim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not isinstance(k, numbers.Integral) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be between 0 and {n} (the size of dim {dim} of shape {x.shape}), got {k!r}")
    values, idx = sort(x, d, descending=largest, op="topk")
    if x.ndim == 0:
        return return_types["topk"](values, idx)
    cut = (slice(None),) * d + (slice(0, int(k)),)
    return return_types["topk"](values[cut], _indices(idx.data[cut]))


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """x with `value` wherever `mask` (bool, broadcastable to x's shape) is true; the gradient reaches x where
    mask is false, and a tensor `value` (one element) gets the sum of the rest."""
    m = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}")
    if not broadcasts_to(m.shape, x.shape):
        raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to the input's shape {x.shape}")
    if isinstance(value, Tensor) and value.data.size != 1:
        raise ValueError(f"masked_fill: value must be a number or a one-element tensor, got shape {value.shape}")
    if isinstance(value, Tensor):
        value = value.reshape(()) if value.ndim else value
        value = value.astype(x.dtype) if value.dtype != x.dtype else value  # the result keeps x's dtype, as torch
    else:
        value = Tensor(np.asarray(value).astype(x.dtype))
    return where(m, value, x)


def nonzero(x: Tensor, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or with as_tuple one 1-D tensor per dim."""
    where_nz = np.nonzero(x.data) if x.ndim else np.nonzero(x.data.reshape(1))
    if as_tuple:
        return tuple(_indices(i) for i in where_nz)
    return _indices(np.stack(where_nz, axis=1) if x.ndim else np.zeros((int(x.data != 0), 0), np.int64))
