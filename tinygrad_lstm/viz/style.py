"""How things look: colours per kind of node, HTML-like labels, the gradient colour scale, the legend.

Only glyphs that the fonts of both renderers (Graphviz and graphviz-pure) draw are used: no ⊙ or ∇. Their
widths beyond ASCII are made up for in text.py.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np

from ..autograd import ScopeEntry
from .text import LAYOUT_FONT, pad_cell

FONT = LAYOUT_FONT  # the font the layout is measured in (see text.py)


class Html(str):
    """An HTML-like label: written into DOT as ``<...>``, unquoted (every other value is quoted)."""

# kind -> (fill, border, shape, extra style, legend text)
KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "input": ("#dbeafe", "#2563eb", "ellipse", "filled", "input"),
    "param": ("#fef3c7", "#d97706", "box", "filled", "parameter"),
    "const": ("#f3f4f6", "#9ca3af", "ellipse", "filled,dashed", "constant"),
    "op": ("#ffffff", "#6b7280", "box", "rounded,filled", "op result"),
    "named": ("#dcfce7", "#16a34a", "box", "rounded,filled", "named (f_t, c_t, …)"),
    "output": ("#fee2e2", "#dc2626", "box", "rounded,filled,bold", "output"),
    "box": ("#ede9fe", "#7c3aed", "box3d", "filled", "module call (collapsed)"),
    "affine": ("#fff7ed", "#d97706", "box", "rounded,filled", "affine map W·[…] + b"),
}

# gradient norm scale: faint (vanished) -> dark red (largest in the picture)
GRAD_COLOURS = ("#e5e7eb", "#fcd34d", "#f97316", "#dc2626", "#7f1d1d")
NO_GRAD_COLOUR = "#d1d5db"
EDGE_COLOUR = "#6b7280"


def fmt_num(x: float) -> str:
    """A number in at most ~8 characters: 0.123, -12.5, 3.2e-04."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)  # "0" for -0.0 too; "inf", "-inf", "nan"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.3g}"
    return f"{x:.1e}"


def fmt_shape(shape: tuple[int, ...]) -> str:
    if not shape:
        return "scalar"
    return f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"


def summary(a: np.ndarray, full_up_to: int = 6) -> str:
    """Small arrays in full, larger ones as mean / min / max."""
    if a.dtype.kind == "b":
        return f"{int(a.sum())} of {a.size} true"
    if a.size <= full_up_to:
        vals = ", ".join(fmt_num(float(v)) for v in a.ravel())
        return vals if a.ndim == 0 else f"[{vals}]"
    a64 = a.astype(np.float64, copy=False)
    return f"mean {fmt_num(float(a64.mean()))} min {fmt_num(float(a64.min()))} max {fmt_num(float(a64.max()))}"


def op_args(op: str, attrs: dict[str, Any]) -> str:
    """A short reminder of an op's arguments: [:, 4:8], axis=1, 6×16."""
    if not attrs:
        return ""
    if op == "GetItem":
        return _index_text(attrs.get("index"))
    if op == "Reshape":
        return "to " + fmt_shape(tuple(attrs.get("shape", ())))
    parts = []
    for k, v in attrs.items():
        if v is None or v is False or k.startswith("_"):  # "_" attrs are engine hints (MatMul's _transpose_of)
            continue
        parts.append(f"{k}={v}")
    return ", ".join(parts)[:28]


def _index_text(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, slice):
            s = "" if i.start is None else str(i.start)
            e = "" if i.stop is None else str(i.stop)
            out.append(f"{s}:{e}" + ("" if i.step in (None, 1) else f":{i.step}"))
        elif isinstance(i, (int, np.integer)):
            out.append(str(int(i)))
        elif i is None:
            out.append("None")
        elif i is Ellipsis:
            out.append("…")
        else:
            out.append("array")
    return "[" + ", ".join(out) + "]"


def _small(text: str, colour: str = "#4b5563") -> str:
    return f'<font point-size="9" color="{colour}">{escape(text)}</font>'


def tensor_label(title: str, step: str | None, op: str | None, args: str, shape: tuple[int, ...], dtype: str,
                 values: str | None, grad: str | None, named_op: bool, note: str | None = None) -> Html:
    """The HTML-like label of one tensor node: title (name or op), op line, shape and dtype, value, gradient."""
    head = f"<b>{escape(title)}</b>" + (f" {_small(f'({step})')}" if step else "")
    lines = [head]
    if named_op and op:
        lines.append(_small(f"= {op}" + (f" {args}" if args else ""), "#374151"))
    elif args:
        lines.append(_small(args, "#374151"))
    lines.append(_small(f"{fmt_shape(shape)} {dtype}"))
    if note:
        lines.append(_small(note, "#6b7280"))
    if values is not None:
        lines.append(_small(values, "#1f2937"))
    if grad is not None:
        lines.append(_small(grad, "#991b1b"))
    return Html("<" + "<br/>".join(lines) + ">")


def box_label(entry: ScopeEntry, step: str | None, ops: int) -> Html:
    name = f" {_small(entry.name)}" if entry.name else ""
    lines = [f"<b>{escape(entry.label)}</b>{name}"]
    if step:
        lines.append(escape(step))
    lines.append(_small(f"{ops} ops"))
    return Html("<" + "<br/>".join(lines) + ">")


def cluster_label(entries: list[ScopeEntry]) -> Html:
    parts = []
    for e in entries:
        if e.kind == "step":
            parts.append(f"<b>{escape(e.label)}</b>")
        else:
            parts.append(f"<b>{escape(e.label)}</b>" + (f" <i>{escape(e.name)}</i>" if e.name else ""))
    return Html("<" + " · ".join(parts) + ">")


def cluster_colours(entries: list[ScopeEntry], depth: int) -> tuple[str, str]:
    """(fill, border): time steps in a faint blue, module calls in greys that darken with nesting."""
    if any(e.kind == "step" for e in entries):
        return "#f0f9ff", "#7dd3fc"
    fills = ("#f9fafb", "#f3f4f6", "#eceef1")
    return fills[min(depth, len(fills) - 1)], "#9ca3af"


class GradScale:
    """Maps gradient norms to edge colours and widths on a log scale: the largest norm in the picture is the
    darkest, and four decades below it (and zero) the faintest."""

    def __init__(self, norms: list[float], decades: float = 4.0) -> None:
        pos = [n for n in norms if n > 0 and math.isfinite(n)]
        self.hi = math.log10(max(pos)) if pos else 0.0
        self.lo = self.hi - decades  # a fixed span below the largest: pictures compare, and faint means small

    def frac(self, norm: float) -> float:
        if norm <= 0 or not math.isfinite(norm):
            return 0.0
        if self.hi - self.lo < 1e-9:
            return 1.0
        return min(1.0, max(0.0, (math.log10(norm) - self.lo) / (self.hi - self.lo)))

    def colour(self, norm: float) -> str:
        f = self.frac(norm) * (len(GRAD_COLOURS) - 1)
        i = min(int(f), len(GRAD_COLOURS) - 2)
        return _mix(GRAD_COLOURS[i], GRAD_COLOURS[i + 1], f - i)

    def width(self, norm: float) -> float:
        return round(0.6 + 3.4 * self.frac(norm), 2)

    def ticks(self, n: int = 5) -> list[float]:
        if self.hi - self.lo < 1e-9:
            return [10 ** self.hi]
        return [10 ** (self.lo + (self.hi - self.lo) * i / (n - 1)) for i in range(n)]


def _mix(a: str, b: str, w: float) -> str:
    ca = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * w):02x}" for x, y in zip(ca, cb))


def _swatch(fill: str, border: str | None, height: int) -> str:
    edge = f'color="{border}" border="1"' if border else 'border="0"'
    return f'<td bgcolor="{fill}" {edge} width="22" height="{height}" fixedsize="true"></td>'


def legend_label(kinds: list[str], scale: GradScale | None, params_hidden: bool = False) -> Html:
    """The legend, an HTML table: a row of swatches for the kinds of node present, and a row for the gradient
    colour scale when shown."""
    items: list[tuple[str | None, str]] = []  # (swatch cell or None, text)
    for k in kinds:
        fill, border, _, _, text = KINDS[k]
        items.append((_swatch(fill, border, 14), pad_cell(escape(text))))
    if params_hidden:
        items.append((None, "<i>parameters not shown</i>"))
    parts = [("<b>Legend</b>", items)]
    if scale is not None:
        grads = [(_swatch(scale.colour(v), None, 8), fmt_num(v)) for v in reversed(scale.ticks())]
        grads.append((_swatch(NO_GRAD_COLOUR, None, 2), "dashed: none recorded"))
        parts.append((pad_cell("<b>‖grad‖ along edges</b>"), grads))
    width = max(2 * len(part) for _, part in parts)  # one grid: pad the shorter row at its end
    rows = []
    for title, part in parts:
        cells = "".join(f'{sw}<td align="left">{text}</td>' if sw else f'<td align="left" colspan="2">{text}</td>'
                        for sw, text in part)
        pad = width - 2 * len(part)
        rows.append(f'<tr><td align="left">{title}</td>{cells}' + (f'<td colspan="{pad}"></td>' if pad else "")
                    + "</tr>")
    return Html('<<table border="0" cellborder="0" cellspacing="2" cellpadding="2" bgcolor="#ffffff">'
                + "".join(rows) + "</table>>")
