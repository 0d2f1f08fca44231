"""The progress line `fit` prints per epoch, in Keras 3's format:

    Epoch 1/10
    32/32 ━━━━━━━━━━━━━━━━━━━━ 1s 12ms/step - accuracy: 0.7352 - loss: 0.5524 - val_accuracy: ... - val_loss: ...

verbose=1 redraws the line after every batch where the output can redraw a line — a terminal, or a Jupyter
notebook (its front-ends apply a carriage return to the output area, which is what Keras relies on too) — and
elsewhere (a file, a pipe, a CI log) prints the finished line of each epoch, as Keras does. verbose=2 prints
just the finished line of each epoch, always.
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


def live(stream: IO[str]) -> bool:
    """Whether `stream` can redraw its last line: a terminal, or the output stream of a Jupyter kernel
    (ipykernel's OutStream reports isatty() False, yet notebook front-ends honour a carriage return)."""
    if getattr(stream, "isatty", lambda: False)():
        return True
    return type(stream).__module__.split(".")[0] == "ipykernel"


class Progbar:
    """One epoch's progress: ``update(step, logs)`` after each batch, ``finish(logs)`` at the end."""

    def __init__(self, target: int, verbose: int = 1, stream: IO[str] | None = None) -> None:
        self.target, self.verbose = target, verbose
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.interactive = verbose == 1 and live(self.stream)
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = 0  # of the last line drawn, to blank its tail where there is no erase-line escape

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

    def _redraw(self, line: str) -> str:
        """Carriage return, the line, then erase what is left of a longer previous line: the terminal's
        erase-to-end escape, or spaces where escapes are not understood (a notebook)."""
        tail = "\033[K" if self.terminal else " " * max(self.width - len(line), 0)
        self.width = len(line)
        return "\r" + line + tail

    def update(self, step: int, logs: dict[str, Any]) -> None:
        if self.interactive:
            self.stream.write(self._redraw(self._line(step, logs, False)))
            self.stream.flush()

    def finish(self, logs: dict[str, Any]) -> None:
        if self.interactive:
            self.stream.write(self._redraw(self._line(self.target, logs, True)) + "\n")
        elif self.verbose in (1, 2):  # the finished line alone: one line per epoch in a log
            self.stream.write(self._line(self.target, logs, True) + "\n")
        self.stream.flush()


def shows(verbose: int) -> bool:
    """Whether a Progbar with this verbosity prints anything (1 and 2 always do, live or a line per epoch)."""
    return verbose in (1, 2)


__all__ = ["Progbar", "format_logs", "live", "shows"]
