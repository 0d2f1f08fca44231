"""Helpers shared by the example scripts: argparse basics, a progress bar, the final RESULT line.

Each example script does::

    from _common import example_parser, progress, result

    parser = example_parser(__doc__)          # --quick, --seed (add your own options)
    args = parser.parse_args(argv)
    for epoch in progress(range(epochs), "train") as bar:
        ...
        bar.set(loss=0.123)
    result(test_accuracy=0.9611)              # prints "RESULT test_accuracy=0.9611"

The last line a script prints is ``RESULT name=value [name=value ...]`` (floats with 4 significant decimals);
`parse_result` reads it back (tests use it).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

# Recurrent nets multiply small matrices (e.g. 32x64 @ 64x256) thousands of times. BLAS threads gain nothing
# there, and on a busy machine they cost a lot: on 2 shared cores a training step measured 8 ms with one
# OpenBLAS thread and 64 ms with two. So the examples use one BLAS thread unless the environment says otherwise
# (this works when _common is imported before numpy; `limit_blas_threads` also covers later calls).
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# the examples run from a checkout without installing: make `import tinygrad_lstm` find the repo's package
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


def limit_blas_threads(n: int = 1) -> None:
    """Limit BLAS to `n` threads in this process, when numpy is already loaded (uses threadpoolctl, which comes
    with scikit-learn, if it is installed; otherwise only the environment variables above apply)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")


def example_parser(doc: str | None, seed: int = 0, prog: str | None = None) -> argparse.ArgumentParser:
    """An ArgumentParser with the script's docstring as help and the shared flags ``--quick`` and ``--seed``
    (`prog`: the name in the usage line, e.g. ``os.path.basename(__file__)``)."""
    lines = (doc or "").strip().splitlines()
    p = argparse.ArgumentParser(prog=prog, description=lines[0] if lines else None,
                                epilog="\n".join(lines[1:]).strip() or None,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a tiny run that finishes in seconds (for tests)")
    p.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
    return p


class progress:
    """Iterate with a one-line progress bar on stderr: ``label [=====>    ] 12/40 1.3s loss=0.4211``.

    Redraws in place on a terminal; when stderr is not a terminal (a pipe, a test) it stays quiet, except for
    the final line when `always_finish` is true. `set(**metrics)` attaches numbers to the line.
    """

    def __init__(self, iterable: Iterable[Any], label: str = "", total: int | None = None, width: int = 24,
                 stream: TextIO | None = None, always_finish: bool = False) -> None:
        self.iterable = iterable
        self.label, self.width = label, width
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.always_finish = always_finish
        self.metrics: dict[str, float] = {}
        self.count, self.start = 0, time.perf_counter()

    def __enter__(self) -> progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live or (self.always_finish and exc[0] is None):
            self._draw(final=True)

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable:
            yield item
            self.count += 1
            if self.live:
                self._draw()

    def set(self, **metrics: float) -> None:
        """Show these numbers on the bar (they replace earlier values of the same name)."""
        self.metrics.update({k: float(v) for k, v in metrics.items()})
        if self.live:
            self._draw()

    def _draw(self, final: bool = False) -> None:
        if self.total:
            done = int(self.width * min(self.count, self.total) / self.total)
            bar = "=" * done + (">" if done < self.width else "") + " " * max(self.width - done - 1, 0)
            where = f"[{bar}] {self.count}/{self.total}"
        else:
            where = f"{self.count}"
        extra = " ".join(f"{k}={format_value(v)}" for k, v in self.metrics.items())
        line = f"{self.label} {where} {time.perf_counter() - self.start:.1f}s {extra}".rstrip()
        self.stream.write(("\r" + line + "\x1b[K") if self.live else line)
        if final:
            self.stream.write("\n")
        self.stream.flush()


def format_value(v: float) -> str:
    """A number as the RESULT line writes it: 4 decimals, or scientific notation when tiny."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    v = float(v)
    return f"{v:.4f}" if v == 0 or abs(v) >= 1e-3 else f"{v:.4e}"


def result(**metrics: float) -> str:
    """Print (and return) the final line ``RESULT name=value ...`` in the order given."""
    if not metrics:
        raise ValueError("result() needs at least one metric")
    line = "RESULT " + " ".join(f"{k}={format_value(v)}" for k, v in metrics.items())
    print(line, flush=True)
    return line


_RESULT = re.compile(r"^RESULT((?: [A-Za-z_][A-Za-z0-9_]*=\S+)+)\s*$")


def parse_result(output: str) -> dict[str, float]:
    """The metrics of the last ``RESULT ...`` line in `output`; ValueError if there is none."""
    for line in reversed(output.strip().splitlines()):
        m = _RESULT.match(line.strip())
        if m:
            return {k: float(v) for k, v in (kv.split("=", 1) for kv in m.group(1).split())}
    raise ValueError("no 'RESULT name=value ...' line in the output")
