"""Replay a traced step on new inputs: the unfused ops one by one, then the fused group as one `Fused` op.

`Stepper` is what a recurrent layer's loop calls instead of `cell.step`: the first step runs the cell's own
forward (eager, op by op) while being traced; the second is traced too, and when the two traces agree it and every
later step replay the trace with the elementwise part fused. Same values, same gradients (autograd still records
every replayed op), a quarter of the graph nodes per step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..ops.movement import GetItem
from ..tensor import Tensor
from .fuse import Group, plan
from .fused import Fused
from .trace import Ref, Trace, trace

_state = {"enabled": os.environ.get("TINYGRAD_LSTM_FUSE", "1").strip() not in ("0", "false", "no", "off")}


def fusion_enabled() -> bool:
    """Whether recurrent layers fuse their cells' elementwise ops (on the numba backend). Default on;
    ``TINYGRAD_LSTM_FUSE=0`` or ``with fusion(False):`` runs every op eagerly."""
    from ..kernels import get_backend

    return _state["enabled"] and get_backend() == "numba"


@contextmanager
def fusion(enabled: bool) -> Iterator[None]:
    """``with fusion(False): ...`` runs recurrent layers op by op (the reference the fused kernels are checked
    against); ``fusion(True)`` turns fusion back on inside."""
    prev, _state["enabled"] = _state["enabled"], enabled
    try:
        yield
    finally:
        _state["enabled"] = prev


class CompiledStep:
    """A trace ready to replay: `pre` are the unfused ops (a matmul, …) in their order, then `group` fused.

    Values live in numbered slots (inputs, then outside tensors, then op outputs), so a replay is a loop over
    (op, argument slots, attrs) records: the recorded ops as plain data."""

    def __init__(self, tr: Trace, group: Group | None) -> None:
        self.trace, self.group = tr, group
        n_in, n_ext = len(tr.input_shapes), len(tr.externals)
        base = {"in": 0, "ext": n_in, "op": n_in + n_ext}

        def slot(r: Ref) -> int:
            return base[r.kind] + r.index

        members = set(group.members) if group else set()
        self.pre = [(rec.op, [slot(r) for r in rec.args], rec.attrs, rec.name, base["op"] + i)
                    for i, rec in enumerate(tr.ops) if i not in members]
        self.fused_args = [slot(r) for r in group.params] if group else []
        self.fused_outs = [(base["op"] + i, tr.ops[i].name) for i in group.outputs] if group else []
        self.outputs = [slot(r) for r in tr.outputs]
        self.fixed = list(tr.externals) + [None] * len(tr.ops)

    def __call__(self, inputs: list[Tensor]) -> list[Tensor]:
        env = inputs + self.fixed
        for op, args, attrs, name, out in self.pre:
            t = env[out] = op.apply(*[env[a] for a in args], **attrs)
            t.name = name
        if self.group is not None:
            z = Fused.apply(*[env[a] for a in self.fused_args], group=self.group)
            if len(self.fused_outs) == 1:
                out, z.name = self.fused_outs[0]
                env[out] = z
            else:
                for k, (out, name) in enumerate(self.fused_outs):
                    t = env[out] = GetItem.apply(z, index=k)
                    t.name = name
        return [env[o] for o in self.outputs]


class Stepper:
    """``stepper(x, state)`` computes ``fn(x, state)``: eagerly while tracing, then by replaying the trace.

    Make one per sequence (the trace refers to the tensors the step reads from outside, such as W_hhᵀ, which a
    layer makes once per sequence). Steps whose shapes differ from the trace's run eagerly.
    """

    max_traces = 3  # give up (and stop tracing) when this many traces never agreed

    def __init__(self, fn: Callable[..., Any], enabled: bool | None = None) -> None:
        self.fn = fn
        self.active = fusion_enabled() if enabled is None else enabled
        self.compiled: CompiledStep | None = None
        self._prev: Trace | None = None
        self._traces = 0

    def __call__(self, x: Tensor, state: Any) -> Any:
        flat = [x, *state] if isinstance(state, (tuple, list)) else [x, state]
        compiled = self.compiled
        if compiled is not None:
            if tuple(t.data.shape for t in flat) == compiled.trace.input_shapes:
                return compiled.trace.result(compiled(flat))
            return self.fn(x, state)
        if not self.active:
            return self.fn(x, state)
        result, tr = trace(self.fn, x, state)
        self._traces += 1
        if tr is not None and self._prev is not None and tr.matches(self._prev):
            # two consecutive steps did the same ops on the same outside tensors: replay from this step on (this
            # step too, so that the first traced step is the only eager one and every call gives the same numbers)
            if tr.key not in _plans:
                _plans[tr.key] = plan(tr)
            if _plans[tr.key] is None:
                self.active = False  # nothing to fuse: eager it stays
            else:
                self.compiled = CompiledStep(tr, _plans[tr.key])
                return tr.result(self.compiled(flat))
        if self._traces >= self.max_traces:
            self.active = False
        self._prev = tr
        return result


# Planned groups (kernels compiled) by trace structure, so that later sequences skip planning; None where the
# structure has nothing to fuse.
_plans: dict[tuple, Group | None] = {}
