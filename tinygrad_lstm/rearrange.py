"""Layout changes with PyTorch's names, composed from differentiable ops (slicing, concat, expand, reshape,
where), so each gradient is the one of its parts: flip, roll, repeat, repeat_interleave, tril, triu, unflatten.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, _one_axis, concat, where


def _dims(x: Tensor, dims: Any, op: str) -> tuple[int, ...]:
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    out = tuple(_one_axis(x, op, d) for d in dims)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dims {dims} repeat an axis")
    return out


def flip(x: Tensor, dims: Any) -> Tensor:
    """The elements in reverse order along each of `dims` (a slice with step -1: the gradient is flipped back)."""
    axes = _dims(x, dims, "flip")
    if x.ndim == 0 or not axes:
        return x.clone()
    return x[tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))]


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements along `dims` by `shifts`, wrapping around (the last `shift` elements move to the front).
    Without dims the tensor is rolled as if flattened, then given its shape back."""
    if dims is None:
        if not isinstance(shifts, numbers.Integral):
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts!r}")
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shifts_t = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    axes = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts_t) != len(axes):
        raise ValueError(f"roll: shifts {shifts!r} and dims {dims!r} must have the same length")
    out = x
    for s, d in zip(shifts_t, axes):
        d = _one_axis(x, "roll", d)
        n = x.shape[d] if x.ndim else 1
        s = int(s) % n if n else 0
        if s and x.ndim:
            lead = (slice(None),) * d
            out = concat([out[lead + (slice(n - s, n),)], out[lead + (slice(0, n - s),)]], axis=d)
    return out if out is not x else x.clone()


def repeat(x: Tensor, sizes: Sequence[int]) -> Tensor:
    """torch's Tensor.repeat (numpy's tile): the whole tensor copied sizes[i] times along axis i; leading sizes
    beyond x's dims add axes. Built as reshape → expand → reshape, so the copies' gradients add up."""
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: got {len(sizes)} sizes {sizes} for a tensor of shape {x.shape}; give at "
                         f"least one per dim ({x.ndim})")
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: sizes must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    spread = tuple(n for pair in ((1, s) for s in shape) for n in pair)
    grown = tuple(n for pair in zip(sizes, shape) for n in pair)
    return x.reshape(spread).expand(grown).reshape(tuple(r * s for r, s in zip(sizes, shape)))


def repeat_interleave(x: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Each element repeated along `dim` (flattened first without a dim): an int repeats all alike; a tensor
    or list gives one count per element of that dim."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    d = _one_axis(x, "repeat_interleave", dim)
    if x.ndim == 0:
        x = x.reshape(1)
    counts = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu" or (counts.size and counts.min() < 0):
        raise ValueError(f"repeat_interleave: repeats must be non-negative integers, got {repeats!r}")
    if counts.ndim == 0 or counts.size == 1:
        r = int(counts.reshape(()))
        wide = x.unsqueeze(d + 1).expand(x.shape[:d + 1] + (r,) + x.shape[d + 1:])
        return wide.reshape(x.shape[:d] + (x.shape[d] * r,) + x.shape[d + 1:])
    if counts.shape != (x.shape[d],):
        raise ValueError(f"repeat_interleave: repeats of shape {counts.shape} must give one count for each of the "
                         f"{x.shape[d]} elements of dim {d}")
    return x[(slice(None),) * d + (np.repeat(np.arange(x.shape[d]), counts),)]


def _triangle(x: Tensor, diagonal: int, op: str) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{op}: needs a tensor with at least 2 dims (a matrix or a batch of them), got shape "
                         f"{x.shape}")
    n, m = x.shape[-2:]
    keep = np.tri(n, m, diagonal, dtype=bool) if op == "tril" else ~np.tri(n, m, diagonal - 1, dtype=bool)
    return where(keep, x, 0)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below `diagonal`), zeros above."""
    return _triangle(x, diagonal, "tril")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above `diagonal`), zeros below."""
    return _triangle(x, diagonal, "triu")


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split axis `dim` into several of `sizes` (one may be -1), the inverse of flatten."""
    d = _one_axis(x, "unflatten", dim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise ValueError("unflatten: sizes must not be empty")
    known = int(np.prod([s for s in sizes if s != -1]))
    n = x.shape[d]
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to {n}, the size of dim {dim} of shape {x.shape}")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return x.reshape(x.shape[:d] + sizes + x.shape[d + 1:])
