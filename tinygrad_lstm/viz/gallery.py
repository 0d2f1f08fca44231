"""The pictures of docs/graphs.md: ``python -m tinygrad_lstm.viz.gallery docs/img`` redraws them all."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .. import Tensor, manual_seed, nn
from .cli import unrolled
from .grads import trace_grads
from .renderer import render


def expression(out: Path) -> list[str]:
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, -1.0], requires_grad=True, name="b")
    c = Tensor([0.5, 0.5], requires_grad=True, name="c")
    y = (a * b + c).sum().named("y")
    with trace_grads() as tr:
        y.backward()
    return [render(y, out / "expression.svg", show_values=True, show_grads=tr)]


def lstm_cell(out: Path) -> list[str]:
    manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32), name="x")
    h, c = Tensor.zeros(2, 4).named("h_prev"), Tensor.zeros(2, 4).named("c_prev")
    h_t, _ = cell(x, (h, c))
    loss = h_t.sum().named("loss")
    return [render(loss, out / f"lstm_cell.{fmt}") for fmt in ("svg", "png")]


def equations(out: Path) -> list[str]:
    """Each cell as its equations (the LSTM's for docs/graphs.md and the LSTM page)."""
    paths = []
    for name, make in (("lstm", nn.LSTMCell), ("gru", nn.GRUCell)):
        manual_seed(0)
        cell = make(3, 4)
        x = Tensor(np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32), name="x_t")
        h = Tensor.zeros(2, 4).named("h_{t-1}")
        state = (h, Tensor.zeros(2, 4).named("c_{t-1}")) if cell.state_is_tuple else h
        new = cell(x, state)
        h_t = new[0] if isinstance(new, tuple) else new
        paths += [render(h_t, out / f"{name}_equations.{fmt}", view="equations") for fmt in ("svg", "png")]
    return paths


def lstm_layer(out: Path) -> list[str]:
    manual_seed(0)
    lstm = nn.LSTM(3, 4)
    x = Tensor(np.random.default_rng(0).standard_normal((3, 1, 3)).astype(np.float32), requires_grad=True,
               name="x")
    output, _ = lstm(x)
    loss = output.sum().named("loss")
    return [render(loss, out / "lstm_unrolled.svg"),
            render(loss, out / "lstm_unrolled_collapsed.svg", collapse=["LSTMCell"], rankdir="LR")]


def grad_flow(out: Path) -> list[str]:
    paths = []
    for cell, fb in (("rnn", None), ("lstm", 1.0)):
        loss, module = unrolled(cell, 10, forget_bias=fb)
        with trace_grads() as tr:
            loss.backward()
        for fmt in ("svg", "png"):
            paths.append(render(loss, out / f"grad_flow_{cell}.{fmt}", show_grads=tr, rankdir="LR",
                                collapse=[type(module).__name__], show_params=False))
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/img")
    for make in (expression, lstm_cell, equations, lstm_layer, grad_flow):
        for p in make(out):
            print(f"{p}  {Path(p).stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
