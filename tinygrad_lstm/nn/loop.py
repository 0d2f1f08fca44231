"""The one time loop of every recurrent layer (nn.RNN/LSTM/GRU and the Keras layers), and its state checks.

    for t in 0 … T-1   (T-1 … 0 in reverse):
        new = step(xs[t], state)                  scope: the time step, then the cell's module call
        where mask[t] is False (a padded step):   new = state          the state is carried over unchanged
        output_t = h of new                       (zeros at masked steps if zero_output, else the carried h)
        state = new

`run` returns the outputs stacked in time order (T, B, H) and the final state. With fusion on (`jit.fusion`, the
numba backend) and a cell whose step compiles (`jit.sequence.compile_step`), the whole loop is one `Recurrence`
op: the loop runs inside numba, no Python per step. Otherwise it runs step by step as written above, each step
replayed fused by a `jit.Stepper` where it can. Both give the same numbers; pictures draw the compiled op as the
loop above (the op keeps `expand`, which runs this loop eagerly for viz/unfuse.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from ..jit import Stepper, fusion_enabled, trace
from ..jit.sequence import Recurrence, SequencePlan, compile_step, compiled_plan, sequences_enabled
from ..tensor import Tensor, stack, where
from .state import check_state

__all__ = ["check_state", "loop", "output_of", "run"]

Step = Callable[[Tensor, Any], Any]


def output_of(state: Any) -> Tensor:
    """The hidden state h_t that a layer emits at each step: the state, or its first component."""
    return state[0] if isinstance(state, tuple) else state


def run(step: Step, xs: Tensor, state: Any, *, mask: np.ndarray | None = None, reverse: bool = False,
        zero_output: bool = True, scope_entry: Callable[[], Any] | None = None,
        compile: bool = True) -> tuple[Tensor, Any]:
    """Run `step` over xs (T, B, ·) from `state` (a Tensor or a tuple); return (outputs (T, B, H), final state).

    `mask` (T, B) marks the real steps; `scope_entry()` makes the cell's module scope entry of one step;
    `compile=False` keeps the loop in Python (a cell that is not a plain function of its inputs and weights)."""
    if mask is not None and mask.all():
        mask = None
    if compile and fusion_enabled() and sequences_enabled() and xs.shape[0] >= 2:
        sp, tr = _plan(step, xs, state)
        if sp is not None:
            return _compiled(sp, tr, step, xs, state, mask, reverse, zero_output, scope_entry)
    return loop(Stepper(step) if compile else step, xs, state, mask, reverse, zero_output, scope_entry)


def loop(step: Step, xs: Tensor, state: Any, mask: np.ndarray | None, reverse: bool, zero_output: bool,
         scope_entry: Callable[[], Any] | None) -> tuple[Tensor, Any]:
    """The loop in Python, one step at a time (the module docstring's)."""
    T = xs.shape[0]
    outputs: list[Tensor | None] = [None] * T
    zero = None
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        at_t = autograd.ScopeEntry("step", f"t={t}", "", t)
        with autograd.scope(at_t, *((scope_entry(),) if scope_entry is not None else ())):
            new = step(xs[t], state)
        h = output_of(new)
        if mask is not None and not mask[t].all():
            with autograd.scope(at_t):
                m = Tensor(mask[t][:, None])
                new = tuple(where(m, a, b) for a, b in zip(new, state)) if isinstance(new, tuple) \
                    else where(m, new, state)
                if zero_output:
                    if zero is None:
                        zero = Tensor(np.zeros((), dtype=h.dtype))
                    h = where(m, h, zero)
                else:
                    h = output_of(new)
        state = new
        outputs[t] = h
    return stack(outputs, axis=0), state


def _plan(step: Step, xs: Tensor, state: Any) -> tuple[SequencePlan | None, Any]:
    """Trace the first step (under no_grad, on copies: nothing is recorded). A step whose structure compiled
    before runs that plan, on the outside tensors of this call's trace; a new one is traced at a second step too
    and compiled only if the two agree (a step that changes from step to step runs as written).

    A trace on all rows costs about one eager step (0.54 ms on config c of benchmarks/lstm_train.py), so the
    first step is traced on one row first: when that trace, read at the batch's size, keys as a step compiled
    before (`Trace.widened_key`), it is all this call needs (0.2 ms on config c)."""
    B = xs.shape[1]
    if B > 1:
        try:
            light = _trace_step(step, xs, state, 0, rows=1)
        except Exception:  # noqa: BLE001 - a step that cannot run on one row (it reshapes by the batch size, say)
            light = None
        known = compiled_plan(light.widened_key(B)) if light is not None else None
        if known is not None:
            return known, light
    first = _trace_step(step, xs, state, 0)
    if first is None:
        return None, None
    known = compiled_plan(first.key)
    if known is not None:
        return known, first
    second = _trace_step(step, xs, state, 1)
    if second is None or not second.matches(first):
        return None, None
    return compile_step(second), second


def _trace_step(step: Step, xs: Tensor, state: Any, t: int, rows: int | None = None) -> Any:
    """The trace of step t on the batch's first `rows` rows (all rows by default)."""
    parts = state if isinstance(state, tuple) else (state,)
    with autograd.no_grad():
        s = tuple(Tensor(p.data[:rows]) for p in parts)
        return trace(step, Tensor(xs.data[t, :rows]), s if isinstance(state, tuple) else s[0])[1]


def _compiled(sp: SequencePlan, tr: Any, step: Step, xs: Tensor, state: Any, mask: np.ndarray | None,
              reverse: bool, zero_output: bool, scope_entry: Callable[[], Any] | None) -> tuple[Tensor, Any]:
    parts = state if isinstance(state, tuple) else (state,)
    T, n = xs.shape[0], len(parts)
    display = _Display(tr, isinstance(state, tuple), mask, reverse, zero_output, scope_entry)
    # a weight given as W_hhᵀ names W_hh (MatMul's `_transpose_of`): the backward multiplies by W_hh itself
    transposes = [tr.ops[sp.products[p].op].attrs.get("_transpose_of") for p in sp.recurrent]
    z = Recurrence.apply(xs, *parts, *[tr.externals[e] for e in sp.ext], plan=sp, mask=mask,
                         zero_out=zero_output, reverse=reverse, display=display, transposes=transposes)
    final = tuple(z[T + k] for k in range(n))
    return z[:T], (final if isinstance(state, tuple) else final[0])


class _Display:
    """What a picture needs to draw a compiled loop as its steps: `expand(params)` runs the Python loop on the
    op's inputs, replaying the traced step op by op (the ops, names and scopes of the eager loop), and returns
    the tensors the op's outputs stand for: [outputs, *final state]. `split` cuts the op's output the same way."""

    def __init__(self, tr: Any, tuple_state: bool, mask: np.ndarray | None, reverse: bool, zero_output: bool,
                 scope_entry: Callable[[], Any] | None) -> None:
        self.trace, self.tuple_state, self.mask, self.reverse = tr, tuple_state, mask, reverse
        self.zero_output, self.scope_entry = zero_output, scope_entry
        self.n_state = len(tr.input_shapes) - 1
        self.entries: list[Any] | None = None  # the steps' cell call entries, made once: every expansion shares them

    def expand(self, params: list[Tensor]) -> list[Tensor]:
        n = self.n_state
        xs, state, ext = params[0], tuple(params[1:1 + n]), params[1 + n:]

        def step(x_t: Tensor, s: Any) -> Any:
            return _replay(self.trace, [x_t, *(s if self.tuple_state else (s,))], ext)

        entry = None
        if self.scope_entry is not None:
            if self.entries is None:
                self.entries = [self.scope_entry() for _ in range(xs.shape[0])]
            entry = iter(self.entries).__next__
        out, final = loop(step, xs, state if self.tuple_state else state[0], self.mask, self.reverse,
                          self.zero_output, entry)
        return [out, *(final if self.tuple_state else (final,))]

    def split(self, g: np.ndarray) -> list[np.ndarray]:
        T = g.shape[0] - self.n_state
        return [g[:T]] + [g[T + k] for k in range(self.n_state)]

    def output_index(self, index: Any, size: int) -> int | None:
        """Which output a GetItem of the op's result takes: z[:T] is 0, z[T + k] is 1 + k."""
        T = size - self.n_state
        if index == slice(None, T, None):
            return 0
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool) and T <= index < size:
            return 1 + int(index) - T
        return None


def _replay(tr: Any, inputs: list[Tensor], ext: list[Tensor]) -> Any:
    """The traced step, op by op, on `inputs` (eager `Function.apply`, names kept). A one-value constant (the 1
    of `1 - z_t`) is a copy per step, as the eager step makes it afresh."""
    env: dict[tuple[str, int], Tensor] = {("in", k): t for k, t in enumerate(inputs)}
    for k, t in enumerate(ext):
        env[("ext", k)] = copy.copy(t) if t.data.size == 1 and not t.requires_grad and t._ctx is None else t
    for i, rec in enumerate(tr.ops):
        t = rec.op.apply(*[env[(r.kind, r.index)] for r in rec.args], **rec.attrs)
        if rec.name:
            t.name = rec.name
        env[("op", i)] = t
    return tr.result([env[(r.kind, r.index)] for r in tr.outputs])
