"""Teaching pictures: the vanishing-gradient picture (computed, not drawn by hand) and training curves.

- `gradient_flow(model_or_cell, x)`: ‖dL/dh_t‖ for every step t, measured by backpropagating a loss on the last
  step through the recurrence (the tensors h_t keep their gradients with `retain_grad`).
- `plot_gradient_flow({"RNN": norms, "LSTM": norms}, "flow.png")`: those norms against the distance from the loss,
  on a log scale, where a vanilla RNN's line falls off a cliff and an LSTM's stays up.
- `plot_history(history, "curves.png")`: loss / accuracy curves of any training run.

Without a path the plotting functions return the matplotlib Figure (a notebook shows it inline; `fig.savefig`
writes it anywhere later); with a path they write a PNG there and return the path. The pictures need matplotlib
(the ``examples`` extra); `gradient_flow` needs only numpy. PNGs are written atomically (a temporary file, then
`os.replace`), so a half-written picture never appears, with the permissions `open` would give them.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .autograd import enable_grad
from .nn.cells import RNNCellBase
from .nn.module import Module
from .nn.recurrent import RNNBase
from .tensor import Tensor

PathLike = str | os.PathLike[str]
COLORS = {"RNN": "#d62728", "LSTM": "#1f77b4", "GRU": "#2ca02c"}  # the same model keeps its colour everywhere


# ---------------------------------------------------------------------------------------------------------------
# gradient flow
def _cells_of(model_or_cell: Any) -> list[RNNCellBase]:
    """The cells to step through, bottom layer first: a cell itself, a (unidirectional) nn.RNN/LSTM/GRU layer's
    cells, or those of the first recurrent layer or cell found inside any Module (a Keras model included)."""
    if isinstance(model_or_cell, RNNCellBase):
        return [model_or_cell]
    if isinstance(model_or_cell, RNNBase):
        if model_or_cell.bidirectional:
            raise ValueError("gradient_flow: a bidirectional layer has no single direction of time; pass a "
                             "unidirectional layer or a cell")
        return [row[0] for row in model_or_cell.cells]
    if isinstance(model_or_cell, Module):
        for m in model_or_cell.modules():
            if m is not model_or_cell and isinstance(m, (RNNBase, RNNCellBase)):
                return _cells_of(m)
    raise TypeError(f"gradient_flow: expected a recurrent cell, an nn.RNN/LSTM/GRU layer or a Module that contains "
                    f"one, got {type(model_or_cell).__name__}")


def gradient_flow(model_or_cell: Any, x: Any, loss_fn: Callable[[Tensor], Tensor] | None = None, *,
                  batch_first: bool = True) -> np.ndarray:
    """‖dL/dh_t‖ for t = 0 … T-1: how much of the loss's gradient reaches each step's hidden state.

    The cell(s) of `model_or_cell` run step by step over `x` (batch, T, features) — or (T, batch, features) with
    ``batch_first=False``, or one sequence (T, features) — keeping every top-layer h_t. L is `loss_fn(h_T)` on the
    last step's hidden state (default: the sum of its units, so dL/dh_T is all ones); after L.backward() the
    gradient of each h_t holds everything that flows back to step t through the recurrence. Returns, per t, the
    L2 norm over the hidden units averaged over the batch: shape (T,). Index T-1 is next to the loss; index 0 is
    T-1 steps away from it.

    The parameters' `.grad` are left as they were. For an LSTM the measured state is h_t (its c_t path is included
    in what reaches h_t through the gates).
    """
    cells = _cells_of(model_or_cell)
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if arr.ndim == 2:
        arr = arr[None] if batch_first else arr[:, None]
    if arr.ndim != 3:
        raise ValueError(f"gradient_flow: expected x of shape (batch, T, features), got {arr.shape}")
    if not batch_first:
        arr = arr.transpose(1, 0, 2)
    arr = arr.astype(cells[0].weight_ih.dtype, copy=False)
    B, T = arr.shape[0], arr.shape[1]
    params = [p for c in cells for p in c.parameters()]
    saved = [p.grad for p in params]
    try:
        with enable_grad():
            states = [c.initial_state(B, arr.dtype) for c in cells]
            hs: list[Tensor] = []
            for t in range(T):
                inp = Tensor(arr[:, t])
                for k, cell in enumerate(cells):
                    states[k] = cell.step(cell.project_input(inp), states[k])
                    inp = RNNCellBase.output(states[k])
                inp.retain_grad()
                hs.append(inp)
            loss = loss_fn(hs[-1]) if loss_fn is not None else hs[-1].sum()
            loss.backward()
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    return np.array([np.linalg.norm(h.grad.reshape(B, -1), axis=1).mean() if h.grad is not None else 0.0
                     for h in hs])


# ---------------------------------------------------------------------------------------------------------------
# drawing
def new_figure(**kw: Any) -> Any:
    """A matplotlib Figure (no pyplot, no global state, no display needed); ImportError naming the extra if
    matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('tinygrad_lstm.plots needs matplotlib, which is in the examples extra: pip install -e '
                          '".[examples]"  (or pip install tinygrad_lstm[examples])') from None
    return Figure(**kw)


def _png(fig: Any, dpi: int = 120) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def save_figure(fig: Any, path: PathLike, dpi: int = 120) -> str:
    """Write a matplotlib Figure as PNG to `path` atomically (temporary file in the same folder, then
    os.replace), with an ordinary file's permissions (readable by all under the usual umask); return the path."""
    from .viz.renderer import _write_atomic  # the one atomic writer: graph pictures are written the same way

    path = os.fspath(path)
    _write_atomic(Path(path), _png(fig, dpi))
    return path


def _displayable_in_ipython() -> None:
    """In Jupyter, a Figure made without pyplot shows as text ("<Figure size ...>") until matplotlib's inline
    backend has been loaded. When running under IPython and no image formatter knows Figures yet, register a PNG
    one, as ``%matplotlib inline`` would; a user's own choice (svg, retina) is left alone."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    for mime in ("image/png", "image/svg+xml"):
        try:
            formatters[mime].lookup_by_type(Figure)
            return
        except KeyError:
            pass
    formatters["image/png"].for_type(Figure, lambda fig: _png(fig, dpi=100))


def _finish(fig: Any, path: PathLike | None) -> Any:
    """The Figure itself when no path is given (Jupyter shows it inline), else the path it was written to."""
    if path is None:
        _displayable_in_ipython()
        return fig
    return save_figure(fig, path)


def plot_gradient_flow(norms: Mapping[str, Sequence[float] | np.ndarray], path: PathLike | None = None, *,
                       title: str = "How far back does the gradient reach?", normalize: bool = True) -> Any:
    """Draw ‖dL/dh_t‖ of each model against the number of steps between t and the loss, on a log scale.

    `norms` maps a label ("RNN", "LSTM", ...) to `gradient_flow`'s output. With `normalize` each curve is divided
    by its value at the last step, so the lines start at 1 and show only the decay. Returns the matplotlib Figure
    when `path` is None, else writes a PNG to `path` and returns the path."""
    if not norms:
        raise ValueError("plot_gradient_flow: no curves given")
    fig = new_figure(figsize=(8, 4.8))
    from matplotlib.ticker import MaxNLocator

    ax = fig.add_subplot()
    floor = np.inf
    for label, n in norms.items():
        n = np.asarray(n, dtype=np.float64)
        y = n / n[-1] if normalize and n[-1] > 0 else n
        distance = np.arange(len(n))[::-1]  # h_{T-1} is 0 steps from the loss
        y = np.maximum(y, 1e-30)  # zeros (an underflowed gradient) stay on the log axis
        floor = min(floor, y.min())
        ax.plot(distance, y, lw=2.5, label=label, color=COLORS.get(label))
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("steps between h_t and the loss   (T-1-t)", fontsize=12)
    ax.set_ylabel("‖dL/dh_t‖" + ("  relative to the last step" if normalize else ""), fontsize=12)
    ax.set_title(title, fontsize=14)
    ax.grid(True, which="major", alpha=0.4)
    ax.legend(fontsize=12)
    if normalize and floor < 1e-12:
        ax.set_ylim(bottom=max(floor, 1e-30) / 3)
    ax.tick_params(labelsize=11)
    return _finish(fig, path)


def _history_dict(history: Any) -> dict[str, list[float]]:
    h = getattr(history, "history", history)  # a Keras History, or its dict
    if not isinstance(h, Mapping):
        raise TypeError(f"plot_history: expected a History, or a dict of lists, got {type(history).__name__}")
    out = {str(k): [float(v) for v in np.asarray(vals, dtype=np.float64).reshape(-1)] for k, vals in h.items()}
    out = {k: v for k, v in out.items() if v}
    if not out:
        raise ValueError("plot_history: the history is empty")
    return out


def plot_history(history: Any, path: PathLike | None = None, *, title: str | None = None, xlabel: str = "epoch",
                 log_loss: bool = False) -> Any:
    """Draw the curves of a training run: a Keras ``History`` (``model.fit``'s return), its ``.history`` dict, or
    any dict of lists from a hand-written loop (``{"loss": [...], "val_loss": [...], "accuracy": [...]}``).

    Curves are grouped by metric: ``loss`` with ``val_loss`` in one panel, ``accuracy`` with ``val_accuracy`` in the
    next, and so on (training solid, validation dashed). `log_loss` puts loss panels on a log scale. Returns the
    matplotlib Figure when `path` is None (a notebook shows it inline), else writes a PNG to `path` and returns
    the path."""
    h = _history_dict(history)
    groups: dict[str, list[str]] = {}
    for k in h:
        base = k[4:] if k.startswith("val_") else k
        groups.setdefault(base, []).append(k)
    names = sorted(groups, key=lambda b: (b != "loss", list(h).index(groups[b][0])))
    fig = new_figure(figsize=(5.2 * len(names), 4.2), layout="constrained")
    from matplotlib.ticker import MaxNLocator

    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, base in zip(axes, names):
        for k in sorted(groups[base], key=lambda s: s.startswith("val_")):
            vals = h[k]
            x = np.arange(1, len(vals) + 1)
            val = k.startswith("val_")
            ax.plot(x, vals, lw=2.2, ls="--" if val else "-", marker="o" if len(vals) <= 30 else None, ms=4,
                    label="validation" if val else "training", color="#ff7f0e" if val else "#1f77b4")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(base, fontsize=13)
        ax.set_xlabel(xlabel, fontsize=11)
        if log_loss and "loss" in base and min(min(h[k]) for k in groups[base]) > 0:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.4)
        ax.legend(fontsize=10)
    if title:
        fig.suptitle(title, fontsize=14)
    return _finish(fig, path)


__all__ = ["COLORS", "gradient_flow", "new_figure", "plot_gradient_flow", "plot_history", "save_figure"]
