"""Recording gradient norms during a backward pass, for the pictures' backward view.

After `backward()` only leaves (and tensors that called `retain_grad`) keep `.grad`; the gradients of
intermediates — the ones that show a gradient vanishing through time — are gone. A `GradTrace` watches the
backward pass (it is an `autograd.GradObserver`) and keeps one float per tensor and per edge, not the arrays
(a module call's partial sum for the collapsed view lives only until that tensor's own gradient is complete).
The one exception: the gradient of each `jit.Fused` op's output is kept whole, so that a picture can show the
ops it fuses one by one with their own gradients (computed from it when drawn, see unfuse.py):

    with viz.trace_grads() as tr:
        loss.backward()
    viz.to_dot(loss, show_grads=tr)       # or show_grads=True: the most recent trace

Entries are keyed by `id()` and checked against a weak reference, so a recycled id never returns a stale norm.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..autograd import Function, GradObserver, SliceGrad, observe_grads, unbroadcast
from ..jit.fused import Fused
from ..jit.sequence import Recurrence
from ..tensor import Tensor


def _dense(parent: Tensor, grad: Any) -> np.ndarray:
    """An edge gradient as an array of the parent's shape (a SliceGrad scattered, a broadcast one reduced)."""
    if isinstance(grad, SliceGrad):
        full = np.zeros(parent.data.shape, dtype=parent.data.dtype)
        np.add.at(full, grad.index, grad.value)
        return full
    return unbroadcast(np.asarray(grad), parent.data.shape)


def _norm(a: np.ndarray) -> float:
    return float(np.linalg.norm(a.astype(np.float64, copy=False).ravel()))


def _edge_norm(parent: Tensor, grad: Any) -> float:
    """‖an edge gradient, as it lands on the parent‖, without a parent-sized array for a plain slice."""
    if isinstance(grad, SliceGrad):
        index = grad.index if isinstance(grad.index, tuple) else (grad.index,)
        if not any(isinstance(i, (np.ndarray, list)) for i in index):  # no repeated elements: nothing adds up
            return _norm(np.asarray(grad.value))
    return _norm(_dense(parent, grad))


def _produced_in(t: Tensor, call: int) -> bool:
    node = t._ctx
    return node is not None and any(e.kind == "module" and e.call == call for e in node.scope)


class GradTrace(GradObserver):
    """Gradient norms seen during backward: per tensor (dL/dt), per edge (dL/d parent through one input of one
    op) and per module call (the total gradient a call sends back to each tensor it reads from outside, for the
    collapsed view). Use through `trace_grads()`; query with `tensor_norm`, `edge_norm`, `call_input_norm`."""

    def __init__(self) -> None:
        self._tensor: dict[int, tuple[weakref.ref, float]] = {}
        self._edge: dict[tuple[int, int], tuple[weakref.ref, float]] = {}
        self._call: dict[tuple[int, int], tuple[weakref.ref, float]] = {}
        # Per-call sums still being added up: (id(parent), call) -> [parent ref, first gradient as given and its
        # norm, or a float64 sum and None]. Closed when the parent's own gradient is complete (`tensor_grad`).
        self._open: dict[tuple[int, int], list[Any]] = {}
        self._open_of: dict[int, list[tuple[int, int]]] = {}
        # dL/dz of each Fused op's output z, whole (the only arrays kept): a picture expands the fused ops and
        # runs their backward from it (unfuse.py). About the size of the hidden states, one copy per step.
        self._fused: dict[int, tuple[weakref.ref, np.ndarray]] = {}

    # ----- GradObserver ------------------------------------------------------------------------------------------
    def tensor_grad(self, t: Tensor, grad: np.ndarray) -> None:
        self._tensor[id(t)] = (weakref.ref(t), _norm(np.asarray(grad)))
        if isinstance(t._ctx, (Fused, Recurrence)):
            self._fused[id(t)] = (weakref.ref(t), np.array(grad, copy=True))
        self._close(self._open_of.pop(id(t), ()))

    def edge_grad(self, node: Function, k: int, parent: Tensor, grad: Any) -> None:
        norm = _edge_norm(parent, grad)
        self._edge[(id(node), k)] = (weakref.ref(parent), norm)
        for e in node.scope:  # the gradient crossing into each enclosing module call from outside it
            if e.kind != "module" or _produced_in(parent, e.call):
                continue
            key = (id(parent), e.call)
            have = self._open.get(key)
            if have is None:  # usually the only one: keep it as it is, no copy
                self._open[key] = [weakref.ref(parent), grad, norm]
                self._open_of.setdefault(id(parent), []).append(key)
                continue
            if have[2] is not None:
                have[1], have[2] = np.array(_dense(parent, have[1]), dtype=np.float64), None
            have[1] += _dense(parent, grad)

    def _close(self, keys: Any) -> None:
        for key in keys:
            ref, value, norm = self._open.pop(key)
            self._call[key] = (ref, norm if norm is not None else _norm(value))

    def finish(self) -> None:
        """Close the sums still open (a backward that stopped early) and drop their arrays."""
        self._close(list(self._open))
        self._open_of.clear()

    # ----- queries -----------------------------------------------------------------------------------------------
    def tensor_norm(self, t: Tensor) -> float | None:
        """‖dL/dt‖, or None if backward did not reach `t` while traced."""
        hit = self._tensor.get(id(t))
        return hit[1] if hit is not None and hit[0]() is t else None

    def edge_norm(self, node: Function, k: int, parent: Tensor) -> float | None:
        """‖gradient flowing back from `node` into its input `k` (= `parent`)‖."""
        hit = self._edge.get((id(node), k))
        return hit[1] if hit is not None and hit[0]() is parent else None

    def call_input_norm(self, parent: Tensor, call: int) -> float | None:
        """‖total gradient that module call `call` sends back to `parent`‖ (summed over all its uses inside)."""
        self.finish()
        hit = self._call.get((id(parent), call))
        return hit[1] if hit is not None and hit[0]() is parent else None

    def fused_grad(self, z: Tensor) -> np.ndarray | None:
        """dL/dz for the output `z` of a `jit.Fused` op (its outputs stacked, when it has several), or None."""
        hit = self._fused.get(id(z))
        return hit[1] if hit is not None and hit[0]() is z else None

    def covers(self, tensors: list[Tensor]) -> bool:
        """Whether this trace saw a gradient for any of `tensors`."""
        return any(self.tensor_norm(t) is not None for t in tensors)

    def __len__(self) -> int:
        return len(self._tensor)

    def __repr__(self) -> str:
        return f"<GradTrace: {len(self._tensor)} tensors, {len(self._edge)} edges>"


class LeafGrads:
    """The fallback when no trace covers a graph: the norms of the `.grad` that tensors kept (leaves and
    `retain_grad` tensors); edges are unknown."""

    def tensor_norm(self, t: Tensor) -> float | None:
        return None if t.grad is None else _norm(np.asarray(t.grad))

    def edge_norm(self, node: Function, k: int, parent: Tensor) -> float | None:
        return None

    def call_input_norm(self, parent: Tensor, call: int) -> float | None:
        return None


_last: list[GradTrace] = []  # the most recent finished trace, for show_grads=True


@contextmanager
def trace_grads() -> Iterator[GradTrace]:
    """Record gradient norms of every backward pass inside the block: ``with trace_grads() as tr: loss.backward()``.

    The trace also becomes the one `show_grads=True` uses."""
    tr = GradTrace()
    try:
        with observe_grads(tr):
            yield tr
    finally:
        tr.finish()
        _last[:] = [tr]


def last_trace() -> GradTrace | None:
    """The trace of the most recent `trace_grads()` block, if any."""
    return _last[0] if _last else None
