"""Trace one call of a function of Tensors into a program: a list of plain-data op records.

Every op call inside the traced function (`autograd.Function.apply`) is written down as

    OpRecord(op=Mul, args=(Ref("op", 3), Ref("in", 2)), attrs={}, shape=(16, 128), dtype=float32, name="c_t")

where an argument is one of the function's inputs (`in`), the output of an earlier op (`op`), or a tensor made
outside the call (`ext`: a parameter, W_hhᵀ, a constant). Nothing else is kept, so a trace can be compared with
another, turned into kernels (`fuse.py`) and replayed on new inputs (`program.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..autograd import trace_calls
from ..tensor import Tensor


class Ref(NamedTuple):
    kind: str  # "in" (an input), "op" (an op's output), "ext" (a tensor from outside)
    index: int


class OpRecord(NamedTuple):
    op: type  # the Function subclass
    args: tuple[Ref, ...]
    attrs: dict
    shape: tuple[int, ...]
    dtype: np.dtype
    name: str | None  # given with .named() inside the function: "f_t"


class Trace:
    """What one call did: `ops` in the order they ran (inputs before outputs), the outside tensors they read,
    and where each output came from."""

    def __init__(self, inputs: Sequence[Tensor], ops: list[OpRecord], externals: list[Tensor],
                 outputs: tuple[Ref, ...], tuple_out: type | None) -> None:
        self.input_shapes = tuple(t.shape for t in inputs)
        self.input_dtypes = tuple(t.dtype for t in inputs)
        self.ops, self.externals, self.outputs = ops, externals, outputs
        self.tuple_out = tuple_out  # tuple or list when the function returned several tensors, else None

    def result(self, outs: list[Tensor]) -> Any:
        """The replayed outputs in the shape the function returned them."""
        return outs[0] if self.tuple_out is None else self.tuple_out(outs)

    @functools.cached_property
    def key(self) -> tuple:
        """The trace's structure (with the value of each one-value constant), without the identity of the outside
        tensors: equal keys plan to the same Group."""
        ops = tuple((o.op, o.args, o.shape, o.dtype.str, o.name, _hashable(o.attrs)) for o in self.ops)
        ext = tuple((t.data.shape, t.data.dtype.str, t.requires_grad,
                     t.data.tobytes() if t.data.size == 1 and not t.requires_grad else None) for t in self.externals)
        return (self.input_shapes, tuple(d.str for d in self.input_dtypes), ops, ext, self.outputs, self.tuple_out)

    def widened_key(self, batch: int) -> tuple:
        """The key of this trace of a call on one row, with every input's and op's leading dimension of 1 read as
        `batch`: what a trace of the same call on `batch` rows keys as, when the function treats every row alike
        (a recurrent step). A function that does not (it reshapes by the batch size, or branches on it) keys
        otherwise, and nn/loop.py then traces it in full: a one-row trace is only a cheaper way to a known key."""
        def wide(shape: tuple[int, ...]) -> tuple[int, ...]:
            return (batch,) + shape[1:] if shape and shape[0] == 1 else shape

        inputs, dtypes, ops, ext, outputs, container = self.key
        return (tuple(wide(s) for s in inputs), dtypes, tuple((o[0], o[1], wide(o[2])) + o[3:] for o in ops),
                ext, outputs, container)

    def matches(self, other: Trace) -> bool:
        """The same ops on the same kinds of inputs, reading the same outside tensors: then replaying this trace
        on the other call's inputs computes what the other call computed."""
        return self.key == other.key and all(_same_external(a, b) for a, b in zip(self.externals, other.externals))


def _same_external(a: Tensor, b: Tensor) -> bool:
    """The same tensor object; or a constant made on the fly (the 1 of `1 - z`), whose value the keys compared. A
    new array of several values each call (a random mask) is not the same: such a function is not replayed."""
    return a is b or (a.data.size == 1 and not a.requires_grad)


def _hashable(a: Any) -> Any:
    if isinstance(a, dict):
        return tuple((k, _hashable(v)) for k, v in sorted(a.items()))
    if isinstance(a, (tuple, list)):
        return tuple(_hashable(v) for v in a)
    if isinstance(a, np.ndarray):
        return ("ndarray", a.shape, a.dtype.str, a.tobytes())
    if isinstance(a, slice):
        return ("slice", a.start, a.stop, a.step)
    if isinstance(a, Tensor):  # an attribute naming a tensor (MatMul's _transpose_of): that same tensor
        return ("tensor", id(a))
    try:
        hash(a)
    except TypeError:
        return ("id", id(a))  # unhashable and unknown: never equal to another trace's
    return a


def trace(fn: Callable[..., Any], *args: Any) -> tuple[Any, Trace | None]:
    """Call ``fn(*args)`` and return its result with the trace of what it computed.

    `args` are Tensors or tuples of Tensors (an LSTM step takes ``(x, (h, c))``); the result must be a Tensor or a
    tuple of Tensors. The trace is None when the call cannot be described by its inputs alone: an input tensor
    passed twice (h₀ and c₀ may be one zeros tensor), or a result that is not made of Tensors.
    """
    inputs = _flatten(args)
    with trace_calls() as calls:
        result = fn(*args)
    if inputs is None or len({id(t) for t in inputs}) != len(inputs):
        return result, None
    outs = _flatten((result,))
    if outs is None:
        return result, None
    refs: dict[int, Ref] = {id(t): Ref("in", k) for k, t in enumerate(inputs)}
    externals: list[Tensor] = []

    def ref_of(t: Tensor) -> Ref:  # a tensor neither an input nor made inside: an outside tensor
        r = refs.get(id(t))
        if r is None:
            r = refs[id(t)] = Ref("ext", len(externals))
            externals.append(t)
        return r

    ops: list[OpRecord] = []
    for cls, parents, attrs, out in calls:  # after the call: names given with `.named()` are there now
        args_refs = tuple(ref_of(p) for p in parents)
        refs[id(out)] = Ref("op", len(ops))
        ops.append(OpRecord(cls, args_refs, attrs, out.data.shape, out.data.dtype, out.name))
    out_refs = tuple(ref_of(t) for t in outs)
    container = type(result) if type(result) in (tuple, list) else None
    return result, Trace(inputs, ops, externals, out_refs, container)


def _flatten(args: Any) -> list[Tensor] | None:
    flat: list[Tensor] = []
    for a in args:
        parts = a if isinstance(a, (tuple, list)) else (a,)
        for p in parts:
            if not isinstance(p, Tensor):
                return None
            flat.append(p)
    return flat
