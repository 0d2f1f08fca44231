"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts.

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ lstm (LSTM)                     │ (None, 50)             │        10,400 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ dense (Dense)                   │ (None, 1)              │            51 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 10,451 (40.82 KB)
     Trainable params: 10,451 (40.82 KB)
     Non-trainable params: 0 (0.00 B)

An LSTM of u units on n inputs has 4·u·(n + u + 1) parameters (kernel, recurrent_kernel, bias), a GRU
3·u·(n + u + 2), a SimpleRNN u·(n + u + 1), a Dense layer u·(n + 1), an Embedding input_dim·output_dim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers.base import show_shape


def readable_size(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return show_shape(shape)


def rows(model: Any) -> list[tuple[str, str, str]]:
    out = []
    for layer in model.layers:
        params = f"{sum(p.numel() for p in layer.parameters()):,}" if layer.built else "0 (unbuilt)"
        out.append((f"{layer.name} ({type(layer).__name__})", _shape_text(layer.output_shape), params))
    return out


def summary_text(model: Any) -> str:
    table = rows(model)
    w0 = max([31] + [len(r[0]) for r in table])
    w1 = max([22] + [len(r[1]) for r in table])
    w2 = max([13] + [len(r[2]) for r in table])
    widths = (w0 + 2, w1 + 2, w2 + 2)

    def rule(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * w for w in widths) + right

    def row(cells: tuple[str, str, str], bar: str) -> str:
        a, b, c = cells
        return f"{bar} {a:<{w0}} {bar} {b:<{w1}} {bar} {c:>{w2}} {bar}"

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), row(("Layer (type)", "Output Shape", "Param #"), "┃"),
             rule("┡", "╇", "┩", "━")]
    for i, r in enumerate(table):
        if i:
            lines.append(rule("├", "┼", "┤", "─"))
        lines.append(row(r, "│"))
    lines.append(rule("└", "┴", "┘", "─"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    lines += [f" Total params: {trainable + frozen:,} ({readable_size(4 * (trainable + frozen))})",
              f" Trainable params: {trainable:,} ({readable_size(4 * trainable)})",
              f" Non-trainable params: {frozen:,} ({readable_size(4 * frozen)})"]
    return "\n".join(lines)


def print_summary(model: Any, print_fn: Callable[..., Any] | None = None) -> None:
    (print_fn or print)(summary_text(model))


__all__ = ["print_summary", "readable_size", "summary_text"]
