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
Gradients are added up per tensor in a `GradBuffer` (grad_buffer.py), which also reduces them back to each input's
shape (undoing numpy broadcasting) in one place: `unbroadcast`.

Two safety nets, both free when nothing uses them: a *version counter* (a tensor changed in place after an op saved
it for backward makes backward raise, as PyTorch), and *anomaly detection* (`detect_anomaly`: the first op whose
output or gradient holds NaN or Inf raises, naming the op and where the user's code made it).

Public seams for the tools built on the engine (jit, viz): `trace_calls` (every op call of a block, recorded or
not), `at_scope` (record under a given scope) and `observe_grads` (watch the gradients of backward passes).
"""

from __future__ import annotations

import bisect
import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .grad_buffer import GradBuffer, ProductGrad, SliceGrad, unbroadcast

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "Function", "GradBuffer", "GradObserver", "ProductGrad", "ScopeEntry", "SliceGrad", "at_scope", "backward",
    "bump_version", "changed_since", "current_scope", "detect_anomaly", "enable_grad", "inference_mode",
    "is_anomaly_enabled", "is_grad_enabled", "new_call_id", "no_grad", "observe_grads", "scope",
    "set_detect_anomaly", "set_grad_enabled", "toposort", "trace_calls", "unbroadcast", "version",
]


class _GradMode:
    enabled = True
    scope: tuple = ()  # the module-call stack, captured by every recorded node
    tracer: list | None = None  # inside `trace_calls`: every op call, recorded or not
    anomaly = False  # inside `detect_anomaly`
    watched = False  # tracer or anomaly: the one flag `Function.apply` tests for both
    epoch = 0  # how many in-place changes of tensors there have been (the clock of the version counter)


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


@contextmanager
def at_scope(entries: tuple) -> Iterator[None]:
    """Record the ops inside under exactly `entries` (not appended to the current scope, as `scope` does): to run
    ops again as if inside the module call and time step a node came from (`node.scope`)."""
    prev, _mode.scope = _mode.scope, tuple(entries)
    try:
        yield
    finally:
        _mode.scope = prev


@contextmanager
def trace_calls() -> Iterator[list]:
    """Every op call inside, recorded in the graph or not, appended to the yielded list as
    ``(op class, parents, attrs, out)`` in the order they ran: what `jit.trace` builds a program from. Nested
    blocks do not share: the calls inside an inner block go to its list only."""
    calls: list = []
    prev, _mode.tracer = _mode.tracer, calls
    _watch()
    try:
        yield calls
    finally:
        _mode.tracer = prev
        _watch()


def _watch() -> None:
    _mode.watched = _mode.tracer is not None or _mode.anomaly


# ---------------------------------------------------------------------------------------------------------------
# Anomaly detection
# ---------------------------------------------------------------------------------------------------------------


def is_anomaly_enabled() -> bool:
    return _mode.anomaly


def set_detect_anomaly(mode: bool) -> None:
    """Switch anomaly detection on or off for the rest of the process (see `detect_anomaly`)."""
    _mode.anomaly = bool(mode)
    _watch()


class detect_anomaly:
    """``with detect_anomaly(): ...``: the first op whose forward output or backward gradient holds NaN or Inf
    raises a `FloatingPointError` naming the op, its input shapes and the line of the user's code that called
    it. Slower (every array is checked); off by default, and then it costs nothing. PyTorch's name.

    ``check_nan=False`` switches it off inside a `detect_anomaly` block (as torch's argument)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        self._prev.append(_mode.anomaly)
        set_detect_anomaly(self.check_nan)

    def __exit__(self, *exc: object) -> None:
        set_detect_anomaly(self._prev.pop())


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_ENGINE = tuple(os.path.join(_PACKAGE, f) for f in ("autograd.py", "tensor.py", "ops" + os.sep))


def _call_site() -> tuple[str, int, str]:
    """(file, line, function) of the code that called the op: the first frame outside this package, else (the
    package's own code, e.g. the demo) the first frame outside the engine (autograd, tensor, ops)."""
    frame = sys._getframe(2)
    inner = None
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith(_PACKAGE):
            return path, frame.f_lineno, frame.f_code.co_name
        if inner is None and not path.startswith(_ENGINE):
            inner = (path, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return inner or ("<unknown>", 0, "")


def _where(site: tuple[str, int, str] | None) -> str:
    if site is None:
        return "(made outside detect_anomaly: where is unknown)"
    path, line, fn = site
    return f"created at {path}:{line} in {fn}()"


def _bad(a: Any) -> str | None:
    """'nan' or 'inf' if the floating array `a` holds one, else None."""
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or np.isfinite(a).all():
        return None
    return "nan" if np.isnan(a).any() else "inf"


def _check_forward(cls: type, parents: tuple, out: Tensor) -> None:
    site = _call_site()
    if out._ctx is not None:
        out._ctx.site = site
    bad = _bad(out.data)
    if bad is not None and not any(_bad(p.data) for p in parents):  # the first op to make it, not its users
        raise FloatingPointError(
            f"detect_anomaly: {cls.__name__} returned {bad} values in its output (inputs: {_shapes(parents)}); "
            f"{_where(site)}")


def _check_backward(node: Function, in_grads: tuple) -> None:
    for k, pg in enumerate(in_grads):
        value = pg.value if type(pg) is SliceGrad else pg.dense() if type(pg) is ProductGrad else pg
        bad = _bad(value)
        if bad is not None:
            raise FloatingPointError(
                f"detect_anomaly: the backward of {node.op} returned {bad} values in the gradient of its input "
                f"{k} (inputs: {_shapes(node.parents)}); the {node.op} was {_where(getattr(node, 'site', None))}")


def _shapes(parents: tuple) -> str:
    return ", ".join(f"{p.data.dtype} {p.data.shape}" for p in parents)


# ---------------------------------------------------------------------------------------------------------------
# The version counter: in-place changes of tensors an op saved
# ---------------------------------------------------------------------------------------------------------------


def bump_version(t: Tensor) -> None:
    """Record that `t`'s data was changed in place (setitem, an optimizer step, an in-place op). A backward that
    needs the old values (an op saved them) then raises instead of silently using the new ones."""
    _mode.epoch += 1
    mods = getattr(t, "_mods", None)
    if mods is None:
        t._mods = [_mode.epoch]
    else:
        mods.append(_mode.epoch)


def version(t: Tensor) -> int:
    """How many times `t` was changed in place (torch's ``t._version``)."""
    mods = getattr(t, "_mods", None)
    return len(mods) if mods else 0


def changed_since(t: Tensor, node: Function) -> bool:
    """Whether `t` was changed in place after `node` was recorded."""
    mods = getattr(t, "_mods", None)
    return bool(mods) and mods[-1] > node.epoch


def _check_versions(node: Function, out: Tensor) -> None:
    """Raise if a tensor whose data `node` saved for backward (an input, or its output) changed in place since,
    directly or through the tensor it is a view of (W.T is a view of W: changing W changes what MatMul saved)."""
    saved = [a for s in (getattr(node, "saved_tensors", None) or ()) for a in (s if isinstance(s, list) else (s,))
             if isinstance(a, np.ndarray)]  # an op may save a list of arrays (Recurrence: its weights)
    for k, t in [*enumerate(node.parents), ("output", out)]:
        if not any(np.may_share_memory(t.data, a) for a in saved):
            continue
        base = t
        while not changed_since(base, node) and base._ctx is not None and base._ctx.parents \
                and np.may_share_memory(base.data, base._ctx.parents[0].data):
            base = base._ctx.parents[0]  # a view: its memory is its input's
        if changed_since(base, node):
            seen = bisect.bisect_right(base._mods, node.epoch)
            what = f"input {k}" if k != "output" else "output"
            via = "" if base is t else f", a view of a {base.data.dtype} {base.data.shape} tensor"
            raise RuntimeError(
                f"backward: one of the tensors {node.op} saved for its gradient ({what}, {t.data.dtype} "
                f"{t.data.shape}{via}) was changed in place after {node.op} used it: it is at version "
                f"{len(base._mods)}; {node.op} saw version {seen}. Change a copy instead (Tensor(t.data.copy())), "
                "or compute the forward again after the change.")


# ---------------------------------------------------------------------------------------------------------------
# Function: one op's forward next to its derivative
# ---------------------------------------------------------------------------------------------------------------


_Tensor: Any = None  # set by tensor.py once Tensor exists (autograd cannot import it: tensor imports autograd)
_new_tensor = object.__new__


class Function:
    """Base class of every op. Subclasses define

        forward(self, *arrays, **attrs) -> ndarray       arrays are the inputs' .data
        backward(self, grad) -> ndarray | tuple           one gradient per input (None where not needed)

    and may stash what backward needs with `save_for_backward`. The instance doubles as the graph node.
    """

    __slots__ = ("parents", "attrs", "saved_tensors", "needs_input_grad", "shape", "dtype", "scope", "freed",
                 "epoch", "site")

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
            node.epoch = _mode.epoch  # in-place changes after this one are caught by backward
            out._ctx = node
        else:
            out.requires_grad = False
            out._ctx = None
        if _mode.watched:  # a trace or anomaly detection is on: off the common path
            if _mode.tracer is not None:
                _mode.tracer.append((cls, parents, attrs, out))
            if _mode.anomaly:
                _check_forward(cls, parents, out)
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
def observe_grads(observer: GradObserver, exclusive: bool = False) -> Iterator[GradObserver]:
    """Call `observer` during every backward pass inside the block. `exclusive`: only it (observers of blocks
    around this one are paused inside: a backward run for a picture is not part of the user's)."""
    saved = _observers[:]
    if exclusive:
        _observers.clear()
    _observers.append(observer)
    try:
        yield observer
    finally:
        _observers[:] = saved


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
    grads = GradBuffer()
    grads.grads[id(root)] = g0
    for t in reversed(order):
        g = grads.pop(t)
        if g is None:
            continue
        for ob in _observers:
            ob.tensor_grad(t, g)
        node = t._ctx
        if node is None or t._retains_grad:
            t.grad = g.copy() if t.grad is None else np.add(t.grad, g, out=np.empty(g.shape, g.dtype))
        if node is None:
            continue
        if node.freed:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time (op {node.op}); its saved values "
                "were freed after the first backward. Pass retain_graph=True to the first backward() to keep them."
            )
        if _mode.epoch > node.epoch:  # something changed in place since the node was made: was it saved here?
            _check_versions(node, t)
        in_grads = node.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if _mode.anomaly:
            _check_backward(node, in_grads)
        for k, (p, need, pg) in enumerate(zip(node.parents, node.needs_input_grad, in_grads)):
            if need and pg is not None:
                for ob in _observers:
                    ob.edge_grad(node, k, p, pg.dense() if type(pg) is ProductGrad else pg)
                grads.add(p, pg)
        if not retain_graph:
            node.saved_tensors = None
            node.freed = True
