"""The progress line `fit` prints per epoch, in Keras 3's format:

    Epoch 1/10
    32/32 ━━━━━━━━━━━━━━━━━━━━ 1s 12ms/step - accuracy: 0.7352 - loss: 0.5524 - val_accuracy: ... - val_loss: ...

verbose=1 redraws the line after every batch, only on a terminal (quiet when output goes to a file or a pipe);
verbose=2 prints just the finished line of each epoch, always.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

BAR_WIDTH = 20


def format_value(v: float) -> str:
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.4e}"


def format_time(seconds: float) -> str:
    return f"{seconds:.0f}s"


def format_per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_logs(logs: dict[str, Any]) -> str:
    return "".join(f" - {k}: {format_value(float(v))}" for k, v in logs.items())


class Progbar:
    """One epoch's progress: ``update(step, logs)`` after each batch, ``finish(logs)`` at the end."""

    def __init__(self, target: int, verbose: int = 1, stream: IO[str] | None = None) -> None:
        self.target, self.verbose = target, verbose
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.interactive = verbose == 1 and bool(getattr(self.stream, "isatty", lambda: False)())

    def _line(self, step: int, logs: dict[str, Any], done: bool) -> str:
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(step, 1)
        width = len(str(self.target))
        if self.verbose == 2:
            return f"{self.target}/{self.target} - {format_time(elapsed)} - {format_per_step(per_step)}" + \
                format_logs(logs)
        filled = int(BAR_WIDTH * step / max(self.target, 1))
        bar = "━" * filled + "─" * (BAR_WIDTH - filled)
        when = format_time(elapsed if done else per_step * (self.target - step))
        return f"{step:>{width}}/{self.target} {bar} {when} {format_per_step(per_step)}" + format_logs(logs)

    def update(self, step: int, logs: dict[str, Any]) -> None:
        if self.interactive:
            self.stream.write("\r" + self._line(step, logs, False) + "\033[K")
            self.stream.flush()

    def finish(self, logs: dict[str, Any]) -> None:
        if self.interactive:
            self.stream.write("\r" + self._line(self.target, logs, True) + "\033[K\n")
        elif self.verbose == 2:
            self.stream.write(self._line(self.target, logs, True) + "\n")
        self.stream.flush()


def shows(verbose: int, stream: IO[str] | None = None) -> bool:
    """Whether a Progbar with this verbosity prints anything."""
    stream = stream or sys.stdout
    return verbose == 2 or (verbose == 1 and bool(getattr(stream, "isatty", lambda: False)()))


__all__ = ["Progbar", "format_logs", "shows"]
