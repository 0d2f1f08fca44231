"""Where the renderer puts the time steps: left to right in order, long sequences in rows, slide-shaped."""

import re
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tinygrad_lstm import Tensor, manual_seed, nn, viz
from tinygrad_lstm.viz.cli import unrolled

pytestmark = pytest.mark.skipif(viz.find_renderer() is None, reason="no dot / graphviz-pure binary")
SVG = "{http://www.w3.org/2000/svg}"


def step_boxes(svg: str) -> dict[int, tuple[float, float, float, float]]:
    """t -> (left, top, right, bottom) of the cluster whose label starts with t=<t>, in SVG coordinates."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(SVG + "g"):
        if g.get("class") != "cluster":
            continue
        label = "".join(t.text or "" for t in g.iter(SVG + "text"))
        m = re.match(r"t=(\d+)", label.strip(" \xa0"))
        shape = g.find(SVG + "path")
        shape = shape if shape is not None else g.find(SVG + "polygon")
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", shape.get("d") or shape.get("points"))]
        xs, ys = nums[0::2], nums[1::2]
        if m:
            out[int(m.group(1))] = (min(xs), min(ys), max(xs), max(ys))
    return out


def size(svg: str) -> tuple[float, float]:
    root = ET.fromstring(svg)
    return float(root.get("width").rstrip("pt")), float(root.get("height").rstrip("pt"))


def svg_of(loss, **options) -> str:
    proc = subprocess.run([viz.find_renderer(), "-Tsvg"], input=viz.to_dot(loss, **options).encode(),
                          capture_output=True, check=True)
    return proc.stdout.decode()


def reading_order(boxes: dict[int, tuple[float, float, float, float]]) -> list[int]:
    """Assert the steps read like text: along a row left to right (each step right of where the one before
    ends), rows top to bottom (a new row starts below everything before it). Returns the steps starting a row."""
    starts = []
    for t in range(len(boxes) - 1):
        a, b = boxes[t], boxes[t + 1]
        if b[0] < a[2]:  # not right of step t: a new row, below every step so far
            starts.append(t + 1)
            assert b[1] > max(boxes[u][3] for u in range(t + 1)) - 1, (t, a, b)
        else:
            assert abs(b[1] - a[1]) < 80, (t, a, b)  # same row: no staircase
    return starts


@pytest.mark.parametrize("cell,steps", [("lstm", 3), ("peephole", 2), ("gru", 4), ("lstm", 8)])
def test_op_level_steps_run_left_to_right_in_order(cell, steps):
    loss, _ = unrolled(cell, steps)
    boxes = step_boxes(svg_of(loss))
    assert sorted(boxes) == list(range(steps))
    assert reading_order(boxes) == ([] if steps <= 3 else [steps // 2])  # 4 or 8 steps: two rows


@pytest.mark.parametrize("steps", [20, 50])
def test_long_op_level_unrolled_views_wrap_into_slide_shaped_rows(steps):
    """`tinygrad-lstm graph lstm --steps 20` was a 12282 x 724 pt strip (17:1): now rows of steps, reading
    order kept (the previous try drew the second row right to left), the state into a row drawn at its start."""
    loss, _ = unrolled("lstm", steps, forget_bias=1.0)
    svg = svg_of(loss)
    boxes = step_boxes(svg)
    assert sorted(boxes) == list(range(steps))
    w, h = size(svg)
    assert w / h <= 4.0, (w, h)
    starts = reading_order(boxes)
    assert len(starts) >= 2
    for t in starts:  # h_t and c_t of the step before a row are drawn again (dashed) at the row's start
        assert svg.count(f"(t={t - 1})") == svg.count(f"(t={t - 2})") + 2


@pytest.mark.parametrize("layers", [1, 2])
def test_nn_lstm_layer_steps_left_to_right(layers):
    manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=layers)
    x = Tensor(np.random.default_rng(0).standard_normal((3, 1, 3)).astype(np.float32), requires_grad=True,
               name="x")
    boxes = step_boxes(svg_of(lstm(x)[0].sum().named("loss")))
    assert [t for t, _ in sorted(boxes.items(), key=lambda kv: kv[1][0])] == [0, 1, 2]


@pytest.mark.parametrize("cell,steps", [("lstm", 10), ("lstm", 50), ("gru", 30)])
def test_collapsed_long_sequences_wrap_into_rows_in_time_order(cell, steps):
    loss, module = unrolled(cell, steps, forget_bias=1.0)
    with viz.trace_grads() as tr:
        loss.backward()
    svg = svg_of(loss, collapse=[type(module).__name__], show_params=False, rankdir="LR", show_grads=tr)
    boxes = step_boxes(svg)
    assert sorted(boxes) == list(range(steps))
    w, h = size(svg)
    assert w / h <= 4.0, (w, h)  # slide-shaped
    # reading order: along a row left to right, rows top to bottom; a row starts left of where the last ended
    centre = {t: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for t, b in boxes.items()}
    starts = []
    for t in range(steps - 1):
        (x0, y0), (x1, y1) = centre[t], centre[t + 1]
        if x1 < x0:  # a new row: below the previous one
            starts.append(t + 1)
            assert y1 > max(centre[u][1] for u in range(t + 1)) + 40
        else:
            assert abs(y1 - y0) < 80
    assert starts
    for t in starts:  # the state carried into a new row is drawn again at its start (no edge across the picture)
        assert svg.count(f"(t={t - 1})") == 2 * svg.count(f"(t={t - 2})")



@pytest.mark.parametrize("cell,steps", [("lstm", 10), ("rnn", 10), ("gru", 30)])
def test_collapsed_rows_are_level(cell, steps):
    """Every step box of a row at one height (within 1 pt): they drifted downhill, each a few points below the
    one before (10 steps: 20-23 pt from a row's first box to its last; 30 GRU steps: 35)."""
    loss, module = unrolled(cell, steps, forget_bias=1.0)
    with viz.trace_grads() as tr:
        loss.backward()
    boxes = step_boxes(svg_of(loss, collapse=[type(module).__name__], show_params=False, rankdir="LR",
                              show_grads=tr))
    rows = [[0]]
    for t in range(1, steps):
        if boxes[t][0] < boxes[t - 1][2]:  # left of the step before: a new row
            rows.append([])
        rows[-1].append(t)
    assert len(rows) >= 2
    tops = [[boxes[t][1] for t in row] for row in rows]
    assert all(max(row) - min(row) <= 1 for row in tops), tops


def node_centres(svg: str) -> list[tuple[list[str], float, float]]:
    """(text lines, centre x, centre y) of every node in an SVG."""
    out = []
    for g in ET.fromstring(svg).iter(SVG + "g"):
        if g.get("class") != "node":
            continue
        texts = [(t.text or "").strip() for t in g.iter(SVG + "text")]
        shape = next((c for c in g.iter() if c.tag in (SVG + "path", SVG + "polygon", SVG + "ellipse")), None)
        if shape is None or not texts:
            continue
        if shape.tag == SVG + "ellipse":
            out.append((texts, float(shape.get("cx")), float(shape.get("cy"))))
            continue
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", shape.get("d") or shape.get("points"))]
        xs, ys = nums[0::2], nums[1::2]
        out.append((texts, (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
    return out


GATES = {"lstm": ["i_t", "f_t", "g_t", "o_t"], "peephole": ["i_t", "f_t", "g_t", "o_t"], "gru": ["r_t", "z_t", "n_t"]}


@pytest.mark.parametrize("cell,steps", [("lstm", 1), ("gru", 1), ("peephole", 1), ("lstm", 3), ("gru", 3),
                                        ("peephole", 3)])
def test_op_level_gates_in_equation_order(cell, steps):
    """Left alone the renderer drew the LSTM's gates o, i, g, f (and each step differently): now in every step
    i, f, g, o from left to right (GRU: r, z, n), and the slices of the stacked product by where they start."""
    loss, _ = unrolled(cell, steps)
    nodes = node_centres(svg_of(loss))
    gates = GATES[cell]
    assert [texts[0] for texts, _, _ in sorted(nodes, key=lambda n: n[1]) if texts[0] in gates] == gates * steps
    slices = sorted((x, texts[1]) for texts, x, _ in nodes if texts[0] == "GetItem")
    starts = [int(re.match(r"\[:, (\d+):", index).group(1)) for _, index in slices]
    per_step = len(starts) // steps
    assert per_step == len(gates) * (2 if cell == "gru" else 1)
    for t in range(steps):  # a GRU's two products are sliced side by side: r r z z n n
        assert starts[t * per_step:(t + 1) * per_step] == sorted(starts[t * per_step:(t + 1) * per_step])


def cell_boxes(svg: str) -> dict[tuple[str, int], tuple[float, float, float, float]]:
    """(cell call name, t) -> box of the cluster labelled with that name inside the step box of t."""
    root, steps, out = ET.fromstring(svg), step_boxes(svg), {}
    for g in root.iter(SVG + "g"):
        label = " ".join((t.text or "").strip(" \xa0") for t in g.iter(SVG + "text")).split()
        if g.get("class") != "cluster" or not label or not label[-1].startswith("cell_"):
            continue
        shape = g.find(SVG + "path")
        shape = shape if shape is not None else g.find(SVG + "polygon")
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", shape.get("d") or shape.get("points"))]
        box = (min(nums[0::2]), min(nums[1::2]), max(nums[0::2]), max(nums[1::2]))
        t = next(t for t, s in steps.items() if s[0] <= box[0] and box[2] <= s[2] and s[1] <= box[1] <= s[3])
        out[(label[-1], t)] = box
    return out


def gates_in_cells(svg: str, gates: list[str]) -> dict[tuple[str, int], list[str]]:
    """(cell call name, t) -> the gate nodes drawn inside that cell's box, left to right."""
    centres = sorted((x, y, texts[0]) for texts, x, y in node_centres(svg) if texts[0] in gates)
    return {key: [name for x, y, name in centres if b[0] <= x <= b[2] and b[1] <= y <= b[3]]
            for key, b in cell_boxes(svg).items()}


@pytest.mark.parametrize("kind,layers,bidirectional", [("LSTM", 1, False), ("LSTM", 1, True), ("LSTM", 2, True),
                                                       ("GRU", 1, True), ("GRU", 2, True)])
def test_nn_layer_gates_in_equation_order_in_every_step_of_every_row(kind, layers, bidirectional):
    """In every step of every layer and direction the gates read i, f, g, o left to right (GRU: r, z, n). The
    reverse rows of a bidirectional LSTM drew f, i, g, o (and the GRU's rows z, n, r or r, n, z) while the
    ordering chains ran outside the clusters: dot's second crossing minimisation swapped them."""
    manual_seed(0)
    layer = getattr(nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional)
    x = Tensor(np.random.default_rng(0).standard_normal((3, 1, 3)).astype(np.float32), requires_grad=True,
               name="x")
    gates = GATES[kind.lower()]
    found = gates_in_cells(svg_of(layer(x)[0].sum().named("loss")), gates)
    lanes = [f"cell_l{k}{d}" for k in range(layers) for d in ([""] + ["_reverse"] * bidirectional)]
    assert sorted(found) == sorted((lane, t) for lane in lanes for t in range(3))
    assert {key: order for key, order in found.items() if order != gates} == {}


@pytest.mark.parametrize("layers,bidirectional", [(2, False), (1, True), (2, True)])
def test_nn_lstm_one_row_per_layer_and_direction(layers, bidirectional):
    """Each layer and direction its own row (the steps of cell_l1 below those of cell_l0, the reverse direction
    below the forward one), steps left to right in every row; before, each step drew them side by side."""
    manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=layers, bidirectional=bidirectional)
    x = Tensor(np.random.default_rng(0).standard_normal((3, 1, 3)).astype(np.float32), requires_grad=True,
               name="x")
    boxes = cell_boxes(svg_of(lstm(x)[0].sum().named("loss")))
    lanes = [f"cell_l{k}{d}" for k in range(layers) for d in ([""] + ["_reverse"] * bidirectional)]
    assert sorted(boxes) == sorted((lane, t) for lane in lanes for t in range(3))
    for t in range(3):
        for upper, lower in zip(lanes, lanes[1:]):
            assert boxes[(upper, t)][3] <= boxes[(lower, t)][1], (t, upper, lower)  # the next row down
    for lane in lanes:
        for t in range(2):
            assert boxes[(lane, t)][2] < boxes[(lane, t + 1)][0]
