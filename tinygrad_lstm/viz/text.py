"""Text that fits its boxes whatever fonts the viewer has, and a renderer that keeps quiet about it.

Graphviz sizes every box from the text's width in the font the DOT names, but an SVG is drawn later by the
viewer with whatever fonts it has. The bundled renderer (graphviz-pure) knows the widths of a few fonts from
tables, not from font files. So:

* the layout is measured in DejaVu Sans, the widest of the common sans-serif fonts (and the one most Linux
  systems draw "sans-serif" with), and the SVG names a stack of fallbacks no wider than it, so that text fits
  in whichever the viewer finds first: DejaVu Sans, Verdana (its near twin), Arial, Helvetica, sans-serif;
* a PNG is drawn by the renderer itself, with its own Helvetica-metric font: there the layout says Helvetica
  (graphviz-pure draws an unknown family, DejaVu Sans included, in a serif);
* the renderer's tables have no widths for characters beyond ASCII (‖, σ, ×, …, a name in Greek or Chinese): it
  counts each as a space (and says so on stderr). `fit` pads each line of a label with spaces worth the
  difference, from the DejaVu Sans widths below (1 em for a character not listed).

The renderer's warnings about those characters are expected, so its stderr is kept (and shown only when it
fails): `render` captures it, and `draw`'s `Picture` pipes quietly, in Jupyter too.
"""

from __future__ import annotations

import math
import re
from html import unescape
from typing import Any

import graphviz

LAYOUT_FONT = "DejaVu Sans"
SVG_FONTS = "DejaVu Sans,Verdana,Arial,Helvetica,sans-serif"
PNG_FONT = "Helvetica"
SPACE = 0.318  # em: what the renderer counts for any character beyond ASCII (DejaVu Sans' space)
# em widths in DejaVu Sans, the larger of regular and bold (measured from the font files), but · regular: it
# separates the parts of a cluster label, where a pad would shift the label
WIDTHS = {"‖": 0.5, "…": 1.0, "×": 0.838, "σ": 0.779, "·": 0.318, "⊙": 0.838, "−": 0.838, "√": 0.667, "÷": 0.838,
          "⋯": 1.0, "ᵀ": 0.43, "∂": 0.544, "∇": 0.697, "→": 0.838, "←": 0.838, "\u00a0": 0.348}
_TAG = re.compile(r"<[^>]*>")


def shortfall(text: str) -> float:
    """How much wider than the renderer thinks `text` is, in em of its font."""
    return sum(WIDTHS.get(c, 1.0) - SPACE for c in text if ord(c) > 126)


def fit(label: str) -> str:
    """An HTML-like label (``<...>``) with each line padded by spaces for its characters beyond ASCII."""
    if not label.startswith("<") or label.startswith("<<table"):
        return label
    lines = label[1:-1].split("<br/>")
    out = []
    for line in lines:
        missing = shortfall(unescape(_TAG.sub("", line)))
        pad = " " * math.ceil(missing / SPACE / 2) if missing > 0 else ""
        out.append(pad + line + pad)
    return "<" + "<br/>".join(out) + ">"


def pad_cell(text: str) -> str:
    """Plain text for a table cell, padded at its end likewise."""
    missing = shortfall(unescape(_TAG.sub("", text)))
    return text + " " * math.ceil(missing / SPACE) if missing > 0 else text


_FONTNAME = re.compile(r'fontname="?' + re.escape(LAYOUT_FONT) + '"?')


def for_format(source: str, fmt: str) -> str:
    """The DOT source to give the renderer for `fmt`: a PNG is laid out in the renderer's own font."""
    return _FONTNAME.sub(f'fontname="{PNG_FONT}"', source) if fmt == "png" else source


def finish_svg(svg: str) -> str:
    """The SVG with the font stack in place of the one layout font."""
    return svg.replace(f'font-family="{LAYOUT_FONT}"', f'font-family="{SVG_FONTS}"')


class Picture(graphviz.Digraph):
    """A `graphviz.Digraph` that renders quietly (the renderer's warnings about character widths are expected)
    and with the fonts above, inline in Jupyter (`_repr_mimebundle_`, `_repr_svg_`) and through `.pipe()`."""

    def pipe(self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
             neato_no_op: Any = None, quiet: bool = True, *, engine: str | None = None,
             encoding: str | None = None) -> Any:
        fmt = format or self.format
        src = graphviz.Source(for_format(self.source, fmt))
        out = src.pipe(format=fmt, renderer=renderer, formatter=formatter, neato_no_op=neato_no_op, quiet=quiet,
                       engine=engine or self.engine, encoding=encoding)
        if fmt == "svg":
            out = finish_svg(out) if isinstance(out, str) else finish_svg(out.decode()).encode()
        return out

    def render(self, *args: Any, format: str | None = None, quiet: bool = True, **kwargs: Any) -> str:
        fmt = format or self.format
        src = graphviz.Source(for_format(self.source, fmt), filename=self.filename, directory=self.directory,
                              format=fmt, engine=self.engine)
        path = src.render(*args, quiet=quiet, **kwargs)
        if fmt == "svg":
            with open(path, encoding="utf-8") as f:
                svg = f.read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(finish_svg(svg))
        return path

    def _repr_svg_(self) -> str:
        return self.pipe(format="svg", encoding="utf-8")

    def _repr_image_svg_xml(self) -> str:
        return self._repr_svg_()
