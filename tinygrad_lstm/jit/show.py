"""`show`: print the kernels a recurrent cell compiles into, so that a student can read what their cell became.

The generated code names its variables after the tensors the cell named (`i_t`, `f_t`, `c_t`, ...); their
adjoints (the gradients flowing back) are `d_i_t`, `d_c_t`, ... Loaded inputs are `x<k>` = param `p<k>`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.cells import RNNCellBase
from ..tensor import Tensor
from .fuse import Group, plan
from .trace import Ref, Trace, trace


def show(layer_or_cell: Any, batch: int = 2, dtype: Any = np.float32, file: Any = None) -> str:
    """Print (to `file`, default stdout) and return the source of the fused forward and backward kernels of a
    cell's step: an `nn` cell (LSTMCell, GRUCell, RNNCell, PeepholeLSTMCell or your own RNNCellBase subclass), an
    `nn.LSTM`/`GRU`/`RNN` layer (its first cell) or a built Keras recurrent layer.

    >>> from tinygrad_lstm import nn, jit
    >>> src = jit.show(nn.LSTMCell(3, 4), file=open(os.devnull, "w"))   # doctest: +SKIP
    """
    cell = _cell_of(layer_or_cell)
    tr, group = _plan_step(cell, batch, np.dtype(dtype))
    text = _describe(tr, group) if group is not None else (
        f"# {type(cell).__name__}: nothing to fuse; its step runs op by op\n")
    print(text, file=file)
    return text


def _cell_of(obj: Any) -> RNNCellBase:
    if isinstance(obj, RNNCellBase):
        return obj
    cells = getattr(obj, "cells", None)
    if cells:
        return cells[0][0]
    cell = getattr(obj, "cell", None)
    if isinstance(cell, RNNCellBase):
        return cell
    if hasattr(obj, "cell"):
        raise ValueError(f"show: {type(obj).__name__} has no cell yet: call the layer (or build it) once first")
    raise TypeError(f"show: expected a recurrent cell or layer, got {type(obj).__name__}")


def _plan_step(cell: RNNCellBase, batch: int, dtype: np.dtype) -> tuple[Trace, Group | None]:
    """Trace one step of the cell on zeros (the way a layer's loop runs it) and plan its fused group."""
    xw = Tensor(np.zeros((batch, cell.num_gates * cell.hidden_size), dtype), requires_grad=True)
    state = cell.initial_state(batch, dtype)
    state = tuple(s.requires_grad_() for s in state) if isinstance(state, tuple) else state.requires_grad_()
    with cell.unrolling():
        _, tr = trace(cell.step, xw, state)
    return tr, (plan(tr) if tr is not None else None)


def _describe(tr: Trace, group: Group) -> str:
    lines = [f"# {len(group.members)} elementwise ops on a {group.grid[0]} x {group.grid[1]} grid, fused; params:"]
    for k, (ref, shape) in enumerate(zip(group.params, group.param_shapes)):
        lines.append(f"#   p{k} {shape}: {_what(tr, ref)}")
    lines.append("# outputs: " + ", ".join(f"out{k} = {n or '?'}" for k, n in enumerate(group.names)))
    return "\n".join(lines) + "\n\n" + group.source


def _what(tr: Trace, ref: Ref) -> str:
    if ref.kind == "in":
        return ["the projected input xw_t (x_t W_ihᵀ + b)", "the state h_{t-1}", "the state c_{t-1}"][min(ref.index, 2)]
    if ref.kind == "op":
        rec = tr.ops[ref.index]
        return f"{rec.name or 'the result of a ' + rec.op.__name__}, computed before the group (h_{{t-1}} W_hhᵀ)" \
            if rec.op.__name__ == "MatMul" else f"{rec.name or rec.op.__name__}, computed before the group"
    t = tr.externals[ref.index]
    return f"{t.name or 'a tensor from outside the step'} {t.shape}"
