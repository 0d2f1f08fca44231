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


def connections(model: Any) -> dict[str, str] | None:
    """Per layer, the outputs its calls read ("lstm[0][0], dense[0][0]"), for a functional model whose layers
    do not simply form a chain (Keras adds a "Connected to" column then); None otherwise."""
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return None
    readers: dict[int, int] = {}
    for node in nodes:
        for t in node.inputs:
            readers[id(t)] = readers.get(id(t), 0) + 1
    chain = len(model.inputs) == 1 and len(model.outputs) == 1 and all(len(n.inputs) <= 1 for n in nodes) and \
        all(v == 1 for v in readers.values())
    if chain:
        return None
    text: dict[str, list[str]] = {}
    for node in nodes:
        text.setdefault(node.layer.name, []).extend(
            f"{t.node.layer.name}[{t.node.layer._inbound_nodes.index(t.node)}][{t.index}]" for t in node.inputs)
    return {name: ", ".join(parts) or "-" for name, parts in text.items()}


def rows(model: Any) -> list[tuple[str, ...]]:
    links = connections(model)
    out = []
    for layer in model.layers:
        params = f"{sum(p.numel() for p in layer.parameters()):,}" if layer.built else "0 (unbuilt)"
        row = (f"{layer.name} ({type(layer).__name__})", _shape_text(layer.output_shape), params)
        out.append(row if links is None else row + (links.get(layer.name, "-"),))
    return out


def summary_text(model: Any) -> str:
    table = rows(model)
    header = ("Layer (type)", "Output Shape", "Param #", "Connected to")[:len(table[0]) if table else 3]
    mins = (31, 22, 13, 17)
    widths = [max([mins[i]] + [len(r[i]) for r in table]) for i in range(len(header))]

    def rule(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells: tuple[str, ...], bar: str) -> str:
        parts = [f"{c:>{w}}" if i == 2 else f"{c:<{w}}" for i, (c, w) in enumerate(zip(cells, widths))]
        return bar + " " + f" {bar} ".join(parts) + " " + bar

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), row(header, "┃"), rule("┡", "╇", "┩", "━")]
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
