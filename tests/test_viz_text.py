"""Text in the pictures: it fits its boxes in the fonts a viewer may draw it with, and rendering is quiet."""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lstm import Tensor, manual_seed, nn, viz
from tinygrad_lstm.viz import text
from tinygrad_lstm.viz.cli import unrolled

pytestmark = pytest.mark.skipif(viz.find_renderer() is None, reason="no dot / graphviz-pure binary")
ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
NUM = re.compile(r"-?\d+(?:\.\d+)?")
ODD = "σ_t × ‖g‖ … 隐藏 🙂"  # characters beyond the renderer's width tables


def pictures() -> dict[str, str]:
    """SVGs whose labels hold most of what labels can: gates, values, gradient norms, steps, unicode names."""
    out = {}
    manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32), name="x_t")
    h, c = Tensor.zeros(2, 4).named("h_{t-1}"), Tensor.zeros(2, 4).named(ODD)
    h_t, _ = cell(x, (h, c))
    loss = h_t.sum().named("loss")
    with viz.trace_grads() as tr:
        loss.backward()
    for view in ("ops", "equations"):
        out[view] = viz.to_dot(loss, show_grads=tr, show_values=True, view=view)
    loss, _ = unrolled("gru", 12, forget_bias=1.0)
    with viz.trace_grads() as tr:
        loss.backward()
    out["collapsed"] = viz.to_dot(loss, show_grads=tr, collapse=["GRUCell"], show_params=False, rankdir="LR")
    svgs = {}
    for name, dot in out.items():
        proc = subprocess.run([viz.find_renderer(), "-Tsvg"], input=text.for_format(dot, "svg").encode(),
                              capture_output=True, check=True)
        svgs[name] = text.finish_svg(proc.stdout.decode())
    return svgs


def texts_in_boxes(svg: str):
    """(text, font-size, bold, x, anchor, y, box) for every text of every node and cluster; box is
    ("poly", left, right) or ("ellipse", cx, cy, rx, ry)."""
    root = ET.fromstring(svg)
    for g in root.iter(SVG + "g"):
        if g.get("class") not in ("node", "cluster"):
            continue
        shape = next((e for e in g if e.tag in (SVG + "polygon", SVG + "path", SVG + "ellipse")), None)
        if shape is None:
            continue
        if shape.tag == SVG + "ellipse":
            box = ("ellipse", *(float(shape.get(k)) for k in ("cx", "cy", "rx", "ry")))
        else:
            nums = [float(v) for v in NUM.findall(shape.get("points") or shape.get("d"))]
            box = ("poly", min(nums[0::2]), max(nums[0::2]))
        for t in g.iter(SVG + "text"):
            yield (t.text or "", float(t.get("font-size")), t.get("font-weight") == "bold", float(t.get("x")),
                   t.get("text-anchor"), float(t.get("y")), box)


def extent(s: str, size: float, bold: bool, x: float, anchor: str, width) -> tuple[float, float]:
    """(left, width) of the visible glyphs of a text: padding spaces (text.fit's) are not drawn."""
    ink = s.strip(" \xa0")
    if not ink:
        return x, 0.0
    w = width(ink, size, bold)
    if anchor == "middle":  # padded evenly: the ink stays centred
        return x - w / 2, w
    lead = s[: len(s) - len(s.lstrip(" \xa0"))]
    lead = width(f"|{lead}|", size, bold) - width("||", size, bold) if lead else 0.0
    return (x + lead, w) if anchor == "start" else (x - width(s, size, bold) + lead, w)


def check_fit(svg: str, width) -> list[str]:
    """The texts that stick out of their box when each is `width(text, size, bold)` points wide."""
    bad = []
    for s, size, bold, x, anchor, y, box in texts_in_boxes(svg):
        left, w = extent(s, size, bold, x, anchor, width)
        if w == 0:
            continue
        if box[0] == "poly":
            lo, hi = box[1], box[2]
        else:
            _, cx, cy, rx, ry = box
            half = rx * np.sqrt(max(0.0, 1 - ((y - size / 3 - cy) / ry) ** 2))  # the chord at the text's middle
            lo, hi = cx - half, cx + half
        if left < lo - 0.5 or left + w > hi + 0.5:
            bad.append(f"{s!r} ({size}pt{' bold' if bold else ''}): {left:.1f}..{left + w:.1f} in {lo:.1f}..{hi:.1f}")
    return bad


def legend_overlaps(svg: str, width) -> list[str]:
    """Legend texts that run into the swatch or text after them on their row (a word cut, as "paramete" was)."""
    root = ET.fromstring(svg)
    graph = next(g for g in root.iter(SVG + "g") if g.get("class") == "graph")
    stops = []  # (left, top, bottom) of each swatch and text start
    for p in graph.findall(SVG + "polygon")[2:]:  # past the page and the legend's background
        nums = [float(v) for v in NUM.findall(p.get("points"))]
        stops.append((min(nums[0::2]), min(nums[1::2]), max(nums[1::2])))
    items = [(float(t.get("x")), float(t.get("y")), t.text, float(t.get("font-size")), t.get("font-weight") == "bold")
             for t in graph.findall(SVG + "text") if (t.text or "").strip()]
    stops += [(x, y - size, y) for x, y, _, size, _ in items]
    bad = []
    for x, y, s, size, bold in items:
        ahead = [left for left, top, bottom in stops if left > x + 0.5 and top - 1 <= y - size / 3 <= bottom + 1]
        left, w = extent(s, size, bold, x, "start", width)
        if ahead and left + w > min(ahead) + 0.5:
            bad.append(f"{s!r} runs into what follows at {min(ahead):.1f}")
    return bad


@pytest.fixture(scope="module")
def svgs():
    return pictures()


def test_text_fits_in_dejavu_sans_measured_from_the_font_files(svgs):
    """The layout font, measured independently of the renderer: DejaVu Sans (bold for bold text) from the font
    files matplotlib ships, with the real widths of σ, ×, ‖, …"""
    ImageFont = pytest.importorskip("PIL.ImageFont")
    matplotlib = pytest.importorskip("matplotlib")
    fonts = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"
    faces = {False: ImageFont.truetype(str(fonts / "DejaVuSans.ttf"), 100),
             True: ImageFont.truetype(str(fonts / "DejaVuSans-Bold.ttf"), 100)}

    def width(s, size, bold):  # a glyph the font lacks (Chinese, emoji) counts 1 em, as text.py assumes
        face = faces[bold]
        return sum(face.getlength(c) if face.getmask(c).getbbox() or c == " " else 100 for c in s) * size / 100

    for name, svg in svgs.items():
        assert 'font-family="DejaVu Sans,Verdana,Arial,Helvetica,sans-serif"' in svg
        assert check_fit(svg, width) == [], name
        assert legend_overlaps(svg, width) == [], name


def test_text_fits_in_a_second_font_the_stack_falls_back_to(svgs):
    """A viewer without DejaVu Sans draws with the next font of the stack: measured with the renderer's own width
    tables for Verdana and for Arial (Helvetica's metrics), every text still fits."""
    for font in ("Verdana", "Arial"):
        cache: dict = {}

        def width(s, size, bold, font=font, cache=cache):
            key = (s, size, bold)
            if key not in cache:
                label = "<" + ("<b>" if bold else "") + s.replace("&", "&amp;").replace("<", "&lt;") + \
                        ("</b>" if bold else "") + ">"
                dot = (f'digraph {{ n [shape=plaintext margin=0 width=0 height=0 fontname="{font}" '
                       f'fontsize={size} label={label}] }}')
                plain = subprocess.run([viz.find_renderer(), "-Tplain"], input=dot.encode(), capture_output=True,
                                       check=True).stdout.decode()
                cache[key] = float(plain.splitlines()[1].split()[4]) * 72
            return cache[key]

        for name, svg in svgs.items():
            assert check_fit(svg, width) == [], (font, name)
            assert legend_overlaps(svg, width) == [], (font, name)  # laid out in Helvetica, Verdana overlapped


def test_fit_pads_lines_for_characters_beyond_ascii():
    assert text.fit("<<b>abc</b><br/>plain>") == "<<b>abc</b><br/>plain>"
    padded = text.fit("<<b>h</b><br/>‖grad‖ 0.5>")
    first, second = padded[1:-1].split("<br/>")
    assert first == "<b>h</b>" and second.strip() == "‖grad‖ 0.5"
    need = 2 * (0.5 - text.SPACE)  # two ‖, each counted a space wide by the renderer
    assert (len(second) - len(second.strip())) * text.SPACE >= need
    assert text.shortfall("隐") == pytest.approx(1 - text.SPACE)


SCRIPT = """
import numpy as np
from tinygrad_lstm import Tensor, nn, viz
cell = nn.GRUCell(3, 4)
h = cell(Tensor(np.ones((1, 3), np.float32), name=%r), Tensor.zeros(1, 4).named("h_{t-1}"))
loss = h.sum().named("loss")
with viz.trace_grads() as tr:
    loss.backward()
for view in ("ops", "equations"):
    d = viz.draw(loss, show_grads=tr, show_values=True, view=view)
    assert "<svg" in d._repr_mimebundle_()["image/svg+xml"] and "<svg" in d._repr_svg_()
    assert d.pipe(format="png")[:4] == b"\\x89PNG"
    viz.render(loss, %r + view + ".svg", show_grads=tr, view=view)
    viz.render(loss, %r + view + ".png", show_grads=tr, view=view)
    assert "DejaVu Sans,Verdana" in open(d.render(%r + "drawn-" + view, format="svg")).read()
print("ok")
"""


def test_rendering_and_inline_display_write_nothing_to_stderr(tmp_path):
    """Labels beyond ASCII made graphviz-pure print warnings, shown in red in Jupyter: fd 2 of a fresh process
    stays empty through draw's inline display (_repr_mimebundle_, _repr_svg_), .pipe() and render."""
    out = str(tmp_path) + os.sep
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT % (ODD, out, out, out)], capture_output=True, cwd=ROOT,
                          env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == b"ok", proc.stderr.decode()[-2000:]
    assert proc.stderr == b""
    assert {p.suffix for p in tmp_path.iterdir()} == {".svg", ".png", ""}  # "" the DOT source draw().render keeps
    # the raw renderer does warn about those labels (so the test above could fail)
    dot = viz.to_dot(Tensor([1.0], name=ODD))
    raw = subprocess.run([viz.find_renderer(), "-Tsvg"], input=dot.encode(), capture_output=True)
    assert b"non-ASCII" in raw.stderr
