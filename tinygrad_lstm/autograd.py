"""Reverse-mode autograd: the `Function` base class, grad mode, and the backward pass.

Every op is a `Function` subclass with a `forward` on ndarrays and a `backward` that turns the gradient of the
output into gradients of the inputs (the local chain rule). `Function.apply` runs the forward and, when any input
needs a gradient, records the call as a graph node: the Function instance itself, holding plain data —

    op     type(node).__name__          e.g. "Mul"
    parents  the input Tensors
    attrs    the non-tensor arguments  e.g. {"axis": 1, "keepdims": False}
    shape, dtype  of the output
    scope    the module calls (and time step) active when it ran, for graph pictures

`backward` walks the graph in reverse topological order, found without recursion, so a chain of 100,000 ops works.
Gradients are reduced back to each input's shape (undoing numpy broadcasting) in one place: `unbroadcast`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .kernels import active

if TYPE_CHECKING:
    from .tensor import Tensor


class _GradMode:
    enabled = True
    scope: tuple = ()  # the module-call stack, captured by every recorded node
    tracer: list | None = None  # while `jit.trace` runs a function: every op call, recorded or not


_mode = _GradMode()


def is_grad_enabled() -> bool:
    return _mode.enabled


class _SetGrad:
    """Sets whether ops are recorded: a context manager, and a decorator with or without parentheses."""

    enabled: bool

    def __new__(cls, fn: Callable | None = None):  # type: ignore[misc]
        self = super().__new__(cls)
        self._prev = []
        return self(fn) if fn is not None else self  # bare decorator: @no_grad

    def __init__(self, fn: Callable | None = None) -> None:
        pass

    def __enter__(self) -> None:
        self._prev.append(_mode.enabled)
        _mode.enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._prev.pop()

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapped


class no_grad(_SetGrad):
    """Record nothing inside: ``with no_grad(): ...``, or as a decorator, ``@no_grad()`` or ``@no_grad``."""

    enabled = False


class enable_grad(_SetGrad):
    """Record ops again inside a `no_grad` block (context manager or decorator)."""

    enabled = True


class inference_mode(no_grad):  # noqa: N801 - torch's name
    """torch's inference_mode: here the same as `no_grad` (record nothing inside)."""


class set_grad_enabled:  # noqa: N801 - torch's name
    """``set_grad_enabled(False)`` switches recording off now; as a context manager (``with
    set_grad_enabled(training): ...``) the previous mode comes back at the end of the block."""

    def __init__(self, mode: bool) -> None:
        self.prev = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self.prev


class ScopeEntry(NamedTuple):
    """One level of the scope stack that recorded nodes carry: a module call or a time step."""

    kind: str  # "module" or "step"
    label: str  # the module's class name ("LSTMCell") or "t=3"
    name: str  # the module's dotted path ("lstm.cell_l0"), "" if unknown
    call: int  # unique per call, so that two calls of one module are told apart


_calls = [0]


def new_call_id() -> int:
    _calls[0] += 1
    return _calls[0]


class scope:
    """``with scope(label, ...)``: tag every node recorded inside with the labels (a time step, a module call)
    for the graph renderer. A class rather than a generator: recurrent layers enter two per time step."""

    __slots__ = ("labels", "prev")

    def __init__(self, *labels: Any) -> None:
        self.labels = labels

    def __enter__(self) -> None:
        self.prev = _mode.scope
        _mode.scope = self.prev + self.labels

    def __exit__(self, *exc: object) -> None:
        _mode.scope = self.prev


def current_scope() -> tuple:
    return _mode.scope


# ---------------------------------------------------------------------------------------------------------------
# Function: one op's forward next to its derivative
# ---------------------------------------------------------------------------------------------------------------


_Tensor: Any = None  # set by tensor.py once Tensor exists (autograd cannot import it: tensor imports autograd)
_new_tensor = object.__new__


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


class Function:
    """Base class of every op. Subclasses define

        forward(self, *arrays, **attrs) -> ndarray       arrays are the inputs' .data
        backward(self, grad) -> ndarray | tuple           one gradient per input (None where not needed)

    and may stash what backward needs with `save_for_backward`. The instance doubles as the graph node.
    """

    __slots__ = ("parents", "attrs", "saved_tensors", "needs_input_grad", "shape", "dtype", "scope", "freed")

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved_tensors = arrays

    @property
    def op(self) -> str:
        return type(self).__name__

    def forward(self, *args: Any, **attrs: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{self.op} has no backward")

    @classmethod
    def apply(cls, *parents: Tensor, **attrs: Any) -> Tensor:
        """Run the forward on the parents' data; record the node if a gradient will be needed."""
        node = cls()
        try:  # free unless something raises
            if len(parents) == 2:  # the common cases spelled out: this runs once per op, so it is kept lean
                a, b = parents
                needs = (a.requires_grad, b.requires_grad)
                data = node.forward(a.data, b.data, **attrs)
            elif len(parents) == 1:
                needs = (parents[0].requires_grad,)
                data = node.forward(parents[0].data, **attrs)
            else:
                needs = tuple([p.requires_grad for p in parents])
                data = node.forward(*[p.data for p in parents], **attrs)
        except (ValueError, TypeError) as e:
            err = _op_error(cls, parents, e)
            if err is None:
                raise
            raise err from e
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        out = _new_tensor(_Tensor)
        out.data = data
        out.grad = None
        out.name = None
        out._retains_grad = False
        if True in needs and _mode.enabled:
            out.requires_grad = True
            node.needs_input_grad = needs
            node.parents = parents
            node.attrs = attrs
            node.shape = data.shape
            node.dtype = data.dtype
            node.scope = _mode.scope
            node.freed = False
            out._ctx = node
        else:
            out.requires_grad = False
            out._ctx = None
        if _mode.tracer is not None:
            _mode.tracer.append((cls, parents, attrs, out))
        return out

    def __repr__(self) -> str:
        attrs = ", ".join(f"{k}={v!r}" for k, v in getattr(self, "attrs", {}).items())
        return f"<{self.op}{'(' + attrs + ')' if attrs else ''} -> {getattr(self, 'shape', '?')}>"


def _op_error(cls: type, parents: tuple, e: Exception) -> Exception | None:
    """A numpy/kernel error from a forward, to re-raise naming the op and its inputs (None: it already does)."""
    name, msg = cls.__name__.lower(), str(e).strip()
    if msg.startswith(name + ":"):
        return None
    inputs = ", ".join(f"{p.data.dtype} {p.data.shape}" for p in parents)
    return (ValueError if isinstance(e, ValueError) else TypeError)(f"{name}: {msg} (inputs: {inputs})")


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


# ---------------------------------------------------------------------------------------------------------------
# The backward pass
# ---------------------------------------------------------------------------------------------------------------


def toposort(root: Tensor) -> list[Tensor]:
    """Tensors reachable from `root` through recorded nodes, inputs before outputs. Iterative depth-first search."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        node = t._ctx
        if node is not None:
            for p in node.parents:
                if p.requires_grad and id(p) not in visited:
                    stack.append((p, False))
    return order


class _GradBuffer:
    """Gradients on their way back, one per tensor. Tracks which buffers it owns, since an op may hand the same
    array to several inputs (Add passes g to both): only an owned buffer is ever added into in place.

    A tensor read one row at a time (a layer's projected inputs, x[t] at step t) gets its gradient row by row:
    each row is copied into an uninitialised buffer when it first arrives, and only the rows that never arrive are
    zeroed, at the end (`filled`): one pass over the buffer instead of zero-fill, then add."""

    __slots__ = ("grads", "owned", "products", "filled")

    def __init__(self) -> None:
        self.grads: dict[int, np.ndarray] = {}
        self.owned: set[int] = set()
        self.products: dict[int, list[ProductGrad]] = {}  # unevaluated xᵀ @ g terms, summed at pop
        self.filled: dict[int, set[int]] = {}  # buffers written row by row so far: which rows hold values

    def _complete(self, key: int) -> None:
        """Zero the rows of a row-by-row buffer that no gradient reached; from now on it is an ordinary buffer."""
        rows = self.filled.pop(key)
        have = self.grads[key]
        if len(rows) < have.shape[0]:
            missing = np.ones(have.shape[0], dtype=bool)
            missing[list(rows)] = False
            have[missing] = 0

    def pop(self, t: Tensor) -> np.ndarray | None:
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

    def add(self, t: Tensor, g: Any) -> None:
        key, shape, dtype = id(t), t.data.shape, t.data.dtype
        if type(g) is ProductGrad:
            self.products.setdefault(key, []).append(g)
            return
        have = self.grads.get(key)
        if isinstance(g, SliceGrad):
            index = g.index
            if type(index) is int and (have is None or key in self.filled):  # one row: copy, or add if seen
                if have is None:
                    have = self.grads[key] = np.empty(shape, dtype=dtype)
                    self.owned.add(key)
                    self.filled[key] = set()
                rows = self.filled[key]
                if index % shape[0] in rows:
                    have[index] += g.value
                else:
                    have[index] = g.value
                    rows.add(index % shape[0])
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
            return
        if key in self.filled:
            self._complete(key)
        if not isinstance(g, np.ndarray) or g.dtype != dtype:
            g = np.asarray(g, dtype=dtype)
        if g.shape != shape:
            g = unbroadcast(g, shape)
        if have is None:
            self.grads[key] = g
        elif key in self.owned:
            np.add(have, g, out=have)  # ours alone: add in place, no new buffer
        else:
            self.grads[key] = have + g
            self.owned.add(key)


def _is_advanced(index: Any) -> bool:
    if isinstance(index, tuple):
        return any(isinstance(i, (np.ndarray, list)) for i in index)
    return isinstance(index, (np.ndarray, list))


class GradObserver:
    """Watches a backward pass (the graph renderer uses one to show gradient norms on nodes and edges).

    Register with `observe_grads`; both methods get the gradient before it is reduced to the input's shape
    (edge gradients may be `SliceGrad`s: the gradient of the selected region only)."""

    def tensor_grad(self, t: Tensor, grad: np.ndarray) -> None:
        """`grad` = dL/dt, complete (all uses of t added up)."""

    def edge_grad(self, node: Function, k: int, parent: Tensor, grad: Any) -> None:
        """`grad` = the part of dL/d parent that flows back through input `k` of `node`."""


_observers: list[GradObserver] = []


@contextmanager
def observe_grads(observer: GradObserver) -> Iterator[GradObserver]:
    """Call `observer` during every backward pass inside the block."""
    _observers.append(observer)
    try:
        yield observer
    finally:
        _observers.remove(observer)


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False) -> None:
    """Fill `.grad` of the leaves (and of tensors that called `retain_grad`) with d root / d tensor."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no graph "
            "(create inputs with requires_grad=True, and do not compute it under no_grad())"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for a scalar output, but the output has shape "
                f"{root.data.shape}; pass grad= of that shape (e.g. Tensor.ones_like(out)) or reduce it first"
            )
        g0 = np.ones(root.data.shape, dtype=root.data.dtype)
    else:
        g0 = np.asarray(grad.data if hasattr(grad, "data") and not isinstance(grad, np.ndarray) else grad)
        if g0.shape != root.data.shape:
            raise RuntimeError(
                f"backward: grad has shape {g0.shape} but the output has shape {root.data.shape}; they must match"
            )
        g0 = g0.astype(root.data.dtype, copy=True)

    order = toposort(root)
    grads = _GradBuffer()
    grads.grads[id(root)] = g0
    for t in reversed(order):
        g = grads.pop(t)
        if g is None:
            continue
        for ob in _observers:
            ob.tensor_grad(t, g)
        node = t._ctx
        if node is None or t._retains_grad:
            t.grad = g.copy() if t.grad is None else t.grad + g
        if node is None:
            continue
        if node.freed:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time (op {node.op}); its saved values "
                "were freed after the first backward. Pass retain_graph=True to the first backward() to keep them."
            )
        in_grads = node.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for k, (p, need, pg) in enumerate(zip(node.parents, node.needs_input_grad, in_grads)):
            if need and pg is not None:
                for ob in _observers:
                    ob.edge_grad(node, k, p, pg.dense() if type(pg) is ProductGrad else pg)
                grads.add(p, pg)
        if not retain_graph:
            node.saved_tensors = None
            node.freed = True
