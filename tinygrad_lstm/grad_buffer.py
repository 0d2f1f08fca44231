"""Gradients on their way back during `autograd.backward`: one buffer per tensor, added up as they arrive.

The plain case is all there is to it: an op returns a dense gradient for an input, reduced to the input's shape
(`unbroadcast`), and the buffer adds it to what that input already received. Two kinds of gradient skip work the
dense path would waste, and are only optimisations of it:

- `SliceGrad`: zero except on ``parent[index]`` (from indexing). Added into the buffer's region in place; a tensor
  read one row at a time (x[t] at step t) gets its rows copied into an uninitialised buffer, and only rows that
  never arrive are zeroed at the end: one pass instead of zero-fill, then add.
- `ProductGrad`: ``xᵀ @ g`` left unevaluated (a weight used at every time step). All of a weight's products are
  evaluated at once as one matrix product of the stacked factors when its gradient is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .kernels import active

if TYPE_CHECKING:
    from .tensor import Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` down to `shape`: the gradient of numpy broadcasting (the one place it is done).

    Broadcasting copies an input along new leading axes and along axes of size 1, so each copy's gradient adds up.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of `shape` broadcasts to exactly `target` (a mask or weight applied to an input)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


class SliceGrad:
    """A gradient that is zero except on `parent[index]`: returned by indexing ops so that the chunks of a split
    accumulate into one buffer in place instead of each allocating a full-size zero array."""

    __slots__ = ("index", "value")

    def __init__(self, index: Any, value: np.ndarray) -> None:
        self.index = index
        self.value = value


class ProductGrad:
    """A gradient xᵀ @ g left unevaluated. A weight used at every time step (W_hhᵀ) gets one such product per
    step; the engine adds them up when the weight's gradient is needed, as one matrix product of the stacked
    factors, Σₜ xₜᵀ gₜ = [x₁; …; x_T]ᵀ [g₁; …; g_T]: one large GEMM instead of T small ones."""

    __slots__ = ("x", "g")

    def __init__(self, x: np.ndarray, g: np.ndarray) -> None:
        self.x = x
        self.g = g

    def dense(self) -> np.ndarray:
        return self.x.T @ self.g

    @staticmethod
    def total(products: list[ProductGrad]) -> np.ndarray:
        if len(products) == 1:
            return active().matmul(products[0].x.T, products[0].g)
        x = np.concatenate([p.x for p in products])
        g = np.concatenate([p.g for p in products])
        return active().matmul(x.T, g)


class GradBuffer:
    """One gradient per tensor (keyed by id). Tracks which buffers it owns, since an op may hand the same array to
    several inputs (Add passes g to both): only an owned buffer is ever added into in place."""

    __slots__ = ("grads", "owned", "products", "filled")

    def __init__(self) -> None:
        self.grads: dict[int, np.ndarray] = {}
        self.owned: set[int] = set()
        self.products: dict[int, list[ProductGrad]] = {}  # unevaluated xᵀ @ g terms, summed at pop
        self.filled: dict[int, set[int]] = {}  # buffers written row by row so far: which rows hold values

    def add(self, t: Tensor, g: Any) -> None:
        """Add `g`, a gradient of `t` (dense of a broadcast shape, a SliceGrad or a ProductGrad)."""
        if type(g) is ProductGrad:
            self.products.setdefault(id(t), []).append(g)
        elif isinstance(g, SliceGrad):
            self._add_slice(t, g)
        else:
            self._add_dense(t, g)

    def pop(self, t: Tensor) -> np.ndarray | None:
        """The complete gradient of `t` (None if none arrived); the buffer forgets it."""
        key = id(t)
        if key in self.filled:
            self._complete(key)
        owned = key in self.owned
        self.owned.discard(key)
        g = self.grads.pop(key, None)
        products = self.products.pop(key, None)
        if products is not None:
            p = ProductGrad.total(products).astype(t.data.dtype, copy=False)
            if g is None:
                g = p
            elif owned:
                np.add(g, p, out=g)
            else:
                g = g + p
        return g

    # ----- the plain path: a dense gradient -------------------------------------------------------------------
    def _add_dense(self, t: Tensor, g: Any) -> None:
        key, shape, dtype = id(t), t.data.shape, t.data.dtype
        if key in self.filled:
            self._complete(key)
        if not isinstance(g, np.ndarray) or g.dtype != dtype:
            g = np.asarray(g, dtype=dtype)  # also turns a numpy scalar (an op on 0-d arrays) into an array
        if g.shape != shape:
            g = unbroadcast(g, shape)
        have = self.grads.get(key)
        if have is None:
            self.grads[key] = g
        elif key in self.owned:
            np.add(have, g, out=have)  # ours alone: add in place, no new buffer
        else:
            self.grads[key] = np.add(have, g, out=np.empty(shape, dtype))  # a new buffer (0-d too: no scalar)
            self.owned.add(key)

    # ----- SliceGrad: one region ----------------------------------------------------------------------------
    def _add_slice(self, t: Tensor, g: SliceGrad) -> None:
        key, shape, dtype = id(t), t.data.shape, t.data.dtype
        have = self.grads.get(key)
        index = g.index
        if type(index) is int and (have is None or key in self.filled):  # one row: copy, or add if seen
            self._add_row(key, shape, dtype, index, g.value)
            return
        if key in self.filled:
            self._complete(key)
        if have is None:
            have = np.zeros(shape, dtype=dtype)
        elif key not in self.owned:
            have = np.array(have, dtype=dtype)
        self.grads[key] = have
        self.owned.add(key)
        if _is_advanced(index):
            np.add.at(have, index, g.value)  # repeated indices must add up
        else:
            have[index] += g.value

    def _add_row(self, key: int, shape: tuple[int, ...], dtype: np.dtype, index: int, value: np.ndarray) -> None:
        have = self.grads.get(key)
        if have is None:
            have = self.grads[key] = np.empty(shape, dtype=dtype)
            self.owned.add(key)
            self.filled[key] = set()
        rows = self.filled[key]
        row = index % shape[0]
        if row in rows:
            have[index] += value
        else:
            have[index] = value
            rows.add(row)

    def _complete(self, key: int) -> None:
        """Zero the rows of a row-by-row buffer that no gradient reached; from now on it is an ordinary buffer."""
        rows = self.filled.pop(key)
        have = self.grads[key]
        if len(rows) < have.shape[0]:
            missing = np.ones(have.shape[0], dtype=bool)
            missing[list(rows)] = False
            have[missing] = 0


def _is_advanced(index: Any) -> bool:
    if isinstance(index, tuple):
        return any(isinstance(i, (np.ndarray, list)) for i in index)
    return isinstance(index, (np.ndarray, list))
