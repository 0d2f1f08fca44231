"""The `graph` subcommand: ``python -m tinygrad_lstm graph lstm --steps 3 [--collapse] [--grads]
[--view equations] [-o FILE]``.

The cell runs in a loop of N steps, each inside `time_step(t)`, on a small random input (input 3, hidden 4,
batch 1); the loss is the sum of the last hidden state. LSTMs start with a forget-gate bias of 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..tensor import Tensor
from .renderer import RendererNotFoundError, render
from .scope import time_step

CELLS = ("lstm", "peephole", "gru", "rnn")


def unrolled(cell: str, steps: int, input_size: int = 3, hidden_size: int = 4, batch: int = 1,
             forget_bias: float | None = None) -> tuple[Tensor, Any]:
    """Run `cell` ("lstm", "peephole", "gru", "rnn") for `steps` steps; returns (loss, the cell module).

    `forget_bias` sets the LSTM's forget-gate bias (b_hf), a common initialisation that keeps the cell path
    open; None keeps PyTorch's default initialisation."""
    from .. import manual_seed, nn

    if cell not in CELLS:
        raise ValueError(f"graph: unknown cell {cell!r}; expected one of {', '.join(CELLS)}")
    if steps < 1:
        raise ValueError(f"graph: steps must be at least 1, got {steps}")
    manual_seed(0)
    make = {"lstm": nn.LSTMCell, "peephole": nn.PeepholeLSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}[cell]
    module = make(input_size, hidden_size)
    if forget_bias is not None and cell in ("lstm", "peephole"):
        module.bias_hh.data[hidden_size:2 * hidden_size] = forget_bias
        module.bias_ih.data[hidden_size:2 * hidden_size] = 0.0
    xs = np.random.default_rng(0).standard_normal((steps, batch, input_size)).astype(np.float32)
    h0 = Tensor.zeros(batch, hidden_size).named("h_init")
    state = (h0, Tensor.zeros(batch, hidden_size).named("c_init")) if module.state_is_tuple else h0
    for t in range(steps):
        with time_step(t):
            state = module(Tensor(xs[t], name="x_t"), state)
    h = state[0] if isinstance(state, tuple) else state
    return h.sum().named("loss"), module


def graph_command(cell: str, steps: int, collapse: bool, grads: bool, fmt: str | None, output: str | None,
                  view: str = "ops") -> str:
    """Draw `cell` unrolled `steps` steps into `output` (default
    ``<cell>-<steps>steps[-equations][-collapsed][-grads].<fmt>`` in the current folder) as the op-level graph
    (`view` "ops") or as the cell's equations ("equations"); prints and returns the path written."""
    from . import trace_grads

    loss, module = unrolled(cell, steps, forget_bias=1.0)  # an open forget gate, as in docs/graphs.md
    options: dict[str, Any] = {"rankdir": "LR" if collapse or view == "equations" else "TB", "view": view}
    if collapse and view == "ops":
        options.update(collapse=[type(module).__name__], show_params=False)
    if grads:
        with trace_grads() as tr:
            loss.backward()
        options["show_grads"] = tr
    fmt = fmt or (Path(output).suffix.lstrip(".") if output and Path(output).suffix else "svg")
    if output is None:
        kind = "-equations" if view == "equations" else ("-collapsed" if collapse else "")
        output = f"{cell}-{steps}steps{kind}{'-grads' if grads else ''}.{fmt}"
    path = render(loss, output, fmt, **options)
    fb = ", forget-gate bias 1" if grads and cell in ("lstm", "peephole") else ""
    what = ", as equations" if view == "equations" else (", collapsed" if collapse else "")
    print(f"wrote {path}: {type(module).__name__} unrolled {steps} step{'s' if steps != 1 else ''}"
          f"{what}{', with gradient norms' if grads else ''}{fb}")
    return path


def _run(args: argparse.Namespace) -> int:
    try:
        graph_command(args.cell, args.steps, args.collapse, args.grads, args.format, args.output, args.view)
    except (RendererNotFoundError, ValueError) as e:
        print(f"tinygrad-lstm graph: error: {e}", file=sys.stderr)
        return 1
    return 0


def add_graph_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `graph` subcommand to an argparse subparsers object (its `fn` returns the exit code)."""
    p = subparsers.add_parser("graph", help="draw a cell's computation graph, unrolled over time (svg or png)",
                              description="Draw a recurrent cell's computation graph, unrolled N steps.")
    p.add_argument("cell", choices=CELLS, help=f"the cell to draw: {', '.join(CELLS)}")
    p.add_argument("--steps", type=int, default=3, help="time steps to unroll (default 3)")
    p.add_argument("--collapse", action="store_true", help="draw each step's cell as one box (parameters hidden)")
    p.add_argument("--grads", action="store_true", help="run backward and shade edges by gradient norm")
    p.add_argument("--view", choices=("ops", "equations"), default="ops",
                   help="ops: every recorded op (default); equations: the cell's equations (affine maps folded, "
                        "plumbing hidden; --collapse does not apply)")
    p.add_argument("--format", choices=("svg", "png"), default=None, help="default: from -o's suffix, else svg")
    p.add_argument("-o", "--output", default=None, help="output file (default <cell>-<N>steps....svg)")
    p.set_defaults(fn=_run)
    return p
