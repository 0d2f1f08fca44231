"""The command-line tool: `tinygrad-lstm demo | gradcheck CELL | bench`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

CELLS = ("lstm", "peephole", "gru", "rnn")


def demo(args: argparse.Namespace) -> int:
    """Autograd by hand and by machine, an LSTM trained on real digits, and the pictures that explain it."""
    from .demo import run

    acc = run(args.out, epochs=args.epochs)
    return 0 if acc == acc else 1  # nan: the data was missing


def gradcheck_cmd(args: argparse.Namespace) -> int:
    """gradcheck one cell's input, state and parameter gradients in float64."""
    from . import Tensor, gradcheck, manual_seed, nn
    from .gradcheck import gradient_errors

    manual_seed(0)
    make = {"lstm": nn.LSTMCell, "peephole": nn.PeepholeLSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}[args.cell]
    cell = make(args.input_size, args.hidden_size, dtype=np.float64)
    rs = np.random.default_rng(0)
    x = Tensor(rs.standard_normal((args.batch, args.input_size)), requires_grad=True, name="x")
    h = Tensor(rs.standard_normal((args.batch, args.hidden_size)), requires_grad=True, name="h")
    c = Tensor(rs.standard_normal((args.batch, args.hidden_size)), requires_grad=cell.state_is_tuple, name="c")

    def fn(x, h, c, *ps):
        return _call_with(cell, ps, x, (h, c) if cell.state_is_tuple else h)

    inputs = [x, h, c] + [Tensor(p.data.copy(), requires_grad=True, name=n) for n, p in cell.named_parameters()]
    names = [t.name for t in inputs if t.requires_grad]
    ok = gradcheck(fn, inputs, raise_exception=False)
    print(f"gradcheck {type(cell).__name__}({args.input_size}, {args.hidden_size}), batch {args.batch}, float64: "
          f"{'ok' if ok else 'FAILED'} for {', '.join(names)}")
    print("  largest |autograd - finite differences|, absolute and relative to the largest gradient element:")
    shapes = {t.name: t.shape for t in inputs}
    for name, (abs_err, rel_err) in gradient_errors(fn, inputs).items():
        print(f"    {name:<10} {str(shapes.get(name, '')):<8} {abs_err:9.2e}  {rel_err:9.2e}")
    return 0 if ok else 1


def _call_with(cell, values, x, state):
    """Run `cell` with its parameters temporarily replaced by the given tensors (so gradcheck sees them)."""
    mods = [(n, p) for n, p in cell._parameters.items()]
    for (n, _), v in zip(mods, values):
        object.__setattr__(cell, n, v)
    try:
        return cell(x, state)
    finally:
        for n, p in mods:
            object.__setattr__(cell, n, p)


def _examples_dir() -> str:
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _example_names() -> list[str]:
    import os

    d = _examples_dir()
    if not os.path.isdir(d):
        return []
    return sorted(f[:-3] for f in os.listdir(d) if f.endswith(".py") and not f.startswith("_"))


def train(args: argparse.Namespace) -> int:
    """Run examples/<name>.py with the remaining arguments (e.g. `train digits_lstm --quick`)."""
    import os
    import runpy

    names = _example_names()
    name = args.example[:-3] if args.example.endswith(".py") else args.example
    if name not in names:
        where = _examples_dir()
        known = ", ".join(names) if names else f"none found (the scripts live in {where} of a source checkout)"
        print(f"tinygrad-lstm train: unknown example {args.example!r}; known: {known}", file=sys.stderr)
        return 2
    path = os.path.join(_examples_dir(), name + ".py")
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path, *args.rest]
    sys.path.insert(0, _examples_dir())  # as `python examples/NAME.py` would: the scripts share _common.py
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


def bench(args: argparse.Namespace) -> int:
    import importlib

    for mod in ("benchmarks.ops", "benchmarks.lstm_train"):
        try:
            main = importlib.import_module(mod).main
        except ImportError:
            print(f"{mod} is part of the source checkout: run `make bench` there", file=sys.stderr)
            return 1
        main([])  # its defaults, not this command line's arguments
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tinygrad-lstm", description="Learn, teach and experiment with LSTMs.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser("demo", help="autograd worked example, an LSTM trained on digits, pictures in demo_out/")
    d.add_argument("--out", default="demo_out", help="folder for the pictures (default demo_out)")
    d.add_argument("--epochs", type=int, default=12, help="training epochs over the digits (default 12)")
    d.set_defaults(fn=demo)
    g = sub.add_parser("gradcheck", help="check a cell's gradients against finite differences")
    g.add_argument("cell", choices=CELLS, help=f"the cell to check: {', '.join(CELLS)}")
    g.add_argument("--input-size", type=int, default=3, help="features of the input x (default 3)")
    g.add_argument("--hidden-size", type=int, default=4, help="units of the hidden state (default 4)")
    g.add_argument("--batch", type=int, default=2, help="rows in the batch (default 2)")
    g.set_defaults(fn=gradcheck_cmd)
    from .viz.cli import add_graph_parser

    add_graph_parser(sub)
    t = sub.add_parser("train", help="run an example training script: train EXAMPLE [its options]",
                       description="Run examples/EXAMPLE.py; the options after EXAMPLE go to the script "
                                   f"(e.g. --quick, --help). Examples: {', '.join(_example_names()) or 'none'}")
    t.add_argument("example", help="the script's name, e.g. digits_lstm")
    t.add_argument("rest", nargs=argparse.REMAINDER, help="options for the script (its --help lists them)")
    t.set_defaults(fn=train)
    sub.add_parser("bench", help="benchmark tables against numpy and PyTorch").set_defaults(fn=bench)
    args = ap.parse_args(argv)
    if not getattr(args, "fn", None):
        ap.print_help()
        return 0
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
