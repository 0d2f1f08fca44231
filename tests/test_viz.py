"""Graph pictures (tinygrad_lstm.viz): DOT content, gradient traces, real rendering, the missing-renderer path."""

import argparse
import re
import struct
import sys
import warnings
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

from tinygrad_lstm import Tensor, manual_seed, nn, viz
from tinygrad_lstm.viz import renderer as render_mod
from tinygrad_lstm.viz.cli import add_graph_parser, graph_command, unrolled

NODE = re.compile(r"^\s*(n\d+) \[label=", re.M)
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+)", re.M)
GATES = ("i_t", "f_t", "g_t", "o_t", "c_t", "h_t")

needs_renderer = pytest.mark.skipif(viz.find_renderer() is None, reason="no dot / graphviz-pure binary")


def expression():
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, -1.0], requires_grad=True, name="b")
    c = Tensor([0.5, 0.5], requires_grad=True, name="c")
    return (a * b + c).sum().named("y"), (a, b, c)


def node_labels(dot: str) -> dict[str, str]:
    return {m.group(1): dot[m.end():dot.index("\n", m.end())] for m in NODE.finditer(dot)}


def cell_step(cls=nn.LSTMCell):
    manual_seed(0)
    cell = cls(3, 4)
    x = Tensor(np.ones((2, 3), np.float32), name="x")
    state = cell(x)
    h = state[0] if isinstance(state, tuple) else state
    return h.sum().named("loss")


# ----- DOT text ---------------------------------------------------------------------------------------------------
def test_expression_nodes_edges_and_labels():
    y, _ = expression()
    dot = viz.to_dot(y)
    labels = node_labels(dot)
    assert len(labels) == 6  # a, b, c, Mul, Add, Sum(y)
    assert EDGE.findall(dot) == [("n0", "n2"), ("n1", "n2"), ("n2", "n4"), ("n3", "n4"), ("n4", "n5")]
    assert "<b>a</b>" in labels["n0"] and "<b>Mul</b>" in labels["n2"] and "<b>Add</b>" in labels["n4"]
    assert "<b>y</b>" in labels["n5"] and "= Sum" in labels["n5"] and "scalar float32" in labels["n5"]
    assert "(2,) float32" in labels["n0"]
    assert 'fillcolor="#fee2e2"' in labels["n5"] and 'fillcolor="#dbeafe"' in labels["n0"]  # output / input
    assert "<b>Legend</b>" in dot and "subgraph" not in dot  # no module, no cluster


def test_same_computation_same_dot():
    y1, _ = expression()
    y2, _ = expression()
    assert viz.to_dot(y1) == viz.to_dot(y1) == viz.to_dot(y2)
    assert viz.to_dot(cell_step(), show_values=True) == viz.to_dot(cell_step(), show_values=True)
    assert "0x" not in viz.to_dot(cell_step())  # no id() or repr addresses


def test_constants_and_values():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    big = Tensor(np.arange(20, dtype=np.float32), requires_grad=True, name="big")
    dot = viz.to_dot([(x * 2.0).sum(), big.sum()], show_values=True)
    assert "[1, 2, 3]" in dot and "mean 9.5 min 0 max 19" in dot
    assert 'fillcolor="#f3f4f6"' in dot and "<b>2</b>" in dot  # the constant 2.0, drawn dashed grey


@needs_renderer
def test_names_are_escaped(tmp_path):
    x = Tensor([1.0], requires_grad=True, name='<x> & "y"')
    dot = viz.to_dot((x * x).named("<b>"))
    assert "<b>&lt;x&gt; &amp; &quot;y&quot;</b>" in dot and "<b>&lt;b&gt;</b>" in dot
    texts = "".join(ET.parse(viz.render((x * x).named("<b>"), tmp_path / "e.svg")).getroot().itertext())
    assert '<x> & "y"' in texts


def test_lstm_cell_step():
    dot = viz.to_dot(cell_step())
    for sym in GATES:
        assert f"<b>{sym}</b>" in dot
    for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        assert f"<b>{p}</b>" in dot
    assert dot.count("subgraph cluster_") == 1 and "<b>LSTMCell</b>" in dot
    flat = viz.to_dot(cell_step(), group=None)
    assert "subgraph" not in flat and len(node_labels(flat)) == len(node_labels(dot))


def test_parameter_names_are_dotted_and_steps_are_clusters():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4)

        def forward(self, x):
            return self.lstm(x)[0].sum()

    manual_seed(0)
    loss = Model()(Tensor(np.ones((3, 1, 3), np.float32), requires_grad=True, name="x"))
    dot = viz.to_dot(loss)
    assert "<b>lstm.weight_hh_l0</b>" in dot and "<b>lstm.bias_ih_l0</b>" in dot
    for t in range(3):
        assert f"<b>t={t}</b> · <b>LSTMCell</b>" in dot  # a time step around one cell call: one cluster
        assert f"<b>c_t</b> <font point-size=\"9\" color=\"#4b5563\">(t={t})</font>" in dot
    assert "<b>Model</b>" in dot and "<b>LSTM</b> <i>lstm</i>" in dot


def test_collapse_draws_one_box_per_call():
    loss, _ = unrolled("lstm", 3)
    dot = viz.to_dot(loss, collapse=["LSTMCell"])
    assert dot.count('shape="box3d"') == 3 and "Sigmoid" not in dot and "<b>f_t</b>" not in dot
    assert dot.count("<b>h_t</b>") == 3 and dot.count("<b>c_t</b>") == 2  # c of the last step feeds nothing
    nodes = set(node_labels(dot))
    assert all(a in nodes and b in nodes for a, b in EDGE.findall(dot))
    assert len(EDGE.findall(dot)) == len(set(EDGE.findall(dot)))  # collapsed edges are deduplicated
    by_name = viz.to_dot(loss, collapse=["LSTMCell"], group=None)
    assert by_name.count('shape="box3d"') == 3 and "t=2" in by_name


def test_shared_parameters_drawn_once_per_step_in_long_unrolls():
    loss, _ = unrolled("rnn", 6)
    dot = viz.to_dot(loss)
    assert dot.count("<b>weight_hh</b>") == 6 and dot.count("shared ×6") == 4 * 6  # 2 weights, 2 biases
    loss3, _ = unrolled("rnn", 3)
    assert viz.to_dot(loss3).count("<b>weight_hh</b>") == 1


def test_large_graph_collapses_with_a_warning():
    loss, _ = unrolled("lstm", 4)
    with pytest.warns(UserWarning, match="collapsed"):
        dot = viz.to_dot(loss, max_nodes=50)
    assert dot.count('shape="box3d"') == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert 'shape="box3d"' not in viz.to_dot(loss, max_nodes=50, collapse=[])


def test_long_chain_needs_no_recursion():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    dot = viz.to_dot(y, max_nodes=None)
    assert len(node_labels(dot)) == 3000 + 3000 + 1  # x, one constant per Mul, the Muls


def test_bad_arguments():
    y, _ = expression()
    with pytest.raises(ValueError, match="group"):
        viz.to_dot(y, group="step")
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(y, rankdir="XY")
    with pytest.raises(TypeError, match="root"):
        viz.to_dot([])
    with pytest.raises(TypeError, match="show_grads"):
        viz.to_dot(y, show_grads="yes")


# ----- gradients --------------------------------------------------------------------------------------------------
def test_trace_records_norms_of_intermediates_and_edges():
    y, (a, b, c) = expression()
    with viz.trace_grads() as tr:
        y.backward()
    prod = y.grad_fn.parents[0].grad_fn.parents[0]  # a*b: not kept as .grad after backward
    assert prod.grad is None
    assert tr.tensor_norm(prod) == pytest.approx(np.sqrt(2))
    assert tr.tensor_norm(a) == pytest.approx(np.linalg.norm(b.data))
    assert tr.edge_norm(prod.grad_fn, 1, b) == pytest.approx(np.linalg.norm(a.data))
    dot = viz.to_dot(y, show_grads=tr)
    assert "‖grad‖ 3.16" in dot and "‖grad‖ 2.24" in dot and "‖grad‖ 1.41" in dot
    assert len(re.findall(r"-> n\d+ \[color=\S+ penwidth=", dot)) == 5 and "‖grad‖ along edges" in dot
    assert viz.to_dot(y, show_grads=True) == dot  # True: the most recent trace


def test_edge_norms_of_slices_add_repeated_elements():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x[np.array([0, 0, 1])].sum() + x[1:].sum()).named("y")
    with viz.trace_grads() as tr:
        y.backward()
    fancy, plain = y.grad_fn.parents[0].grad_fn, y.grad_fn.parents[1].grad_fn
    assert tr.edge_norm(fancy.parents[0].grad_fn, 0, x) == pytest.approx(np.sqrt(5))  # [2, 1, 0]
    assert tr.edge_norm(plain.parents[0].grad_fn, 0, x) == pytest.approx(np.sqrt(2))  # [0, 1, 1]
    assert tr.tensor_norm(x) == pytest.approx(np.linalg.norm(x.grad))


def test_show_grads_true_without_trace_uses_leaf_grads():
    y, (a, b, c) = expression()
    y.backward()
    dot = viz.to_dot(y, show_grads=True)
    assert "‖grad‖ 3.16" in dot and "‖grad‖ not recorded" in dot  # leaves known, the Mul and Add not
    assert 'style="dashed"' in dot


def test_collapsed_input_edges_carry_the_whole_gradient_into_the_call():
    manual_seed(0)
    cell = nn.GRUCell(3, 4)  # h_prev feeds two ops inside the call: its edge norm is of their sum
    x = Tensor(np.ones((2, 3), np.float32), name="x")
    h0 = Tensor(np.full((2, 4), 0.5, np.float32), requires_grad=True, name="h0")
    loss = cell(x, h0).sum()
    with viz.trace_grads() as tr:
        loss.backward()
    call = loss.grad_fn.parents[0].grad_fn.scope[-1].call
    assert tr.call_input_norm(h0, call) == pytest.approx(np.linalg.norm(h0.grad), rel=1e-5)
    dot = viz.to_dot(loss, collapse=["GRUCell"], show_grads=tr)
    assert f'tooltip="‖grad‖ {viz.style.fmt_num(float(np.linalg.norm(h0.grad)))}"' in dot


def test_rnn_gradients_vanish_faster_than_lstm_cell_path():
    def first_step_norm(cell, name, fb=None):
        loss, _ = unrolled(cell, 10, forget_bias=fb)
        with viz.trace_grads() as tr:
            loss.backward()
        tensors = viz.graph.walk([loss])
        return [tr.tensor_norm(t) for t in tensors if t.name == name][0]

    assert first_step_norm("rnn", "h_t") < 0.01 < 0.1 < first_step_norm("lstm", "c_t", fb=1.0)


# ----- rendering --------------------------------------------------------------------------------------------------
@needs_renderer
def test_render_svg_for_real(tmp_path):
    path = viz.render(cell_step(), tmp_path / "cell.svg")
    assert path == str(tmp_path / "cell.svg")
    root = ET.parse(path).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    texts = {"".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")}
    for sym in GATES + ("weight_hh", "loss", "LSTMCell", "Legend"):
        assert sym in texts
    assert len(root.findall(".//s:g[@class='node']", ns)) == len(node_labels(viz.to_dot(cell_step())))
    assert len(root.findall(".//s:g[@class='cluster']", ns)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["cell.svg"]  # no temp or .dot files left


@needs_renderer
def test_render_png_for_real(tmp_path):
    y, _ = expression()
    path = viz.render(y, tmp_path / "expr.png", show_values=True)  # format from the suffix
    head = open(path, "rb").read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    w, h = struct.unpack(">II", head[16:24])
    assert 100 < w < 2000 and 100 < h < 2000
    assert viz.render(y, tmp_path / "expr", "svg", keep_dot=True).endswith("expr.svg")
    assert (tmp_path / "expr.dot").read_text().startswith("digraph")


def test_missing_renderer_keeps_dot_and_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setattr(render_mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    assert viz.find_renderer() is None
    y, _ = expression()
    with pytest.raises(viz.RendererNotFoundError) as err:
        viz.render(y, tmp_path / "out" / "g.svg")
    msg = str(err.value)
    assert "pip install graphviz-pure" in msg and "apt-get install graphviz" in msg
    assert err.value.dot_path == str(tmp_path / "out" / "g.dot")
    assert (tmp_path / "out" / "g.dot").read_text() == viz.to_dot(y)
    assert not (tmp_path / "out" / "g.svg").exists()


def test_renderer_found_beside_python(tmp_path, monkeypatch):
    fake = tmp_path / "graphviz-pure"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(render_mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert viz.find_renderer() == str(fake)


@needs_renderer
def test_draw_returns_a_digraph_that_renders():
    y, _ = expression()
    g = viz.draw(y)
    assert isinstance(g, graphviz.Digraph) and g.source == viz.to_dot(y)
    assert b"<svg" in g.pipe(format="svg")


# ----- CLI --------------------------------------------------------------------------------------------------------
@needs_renderer
def test_graph_command_and_parser(tmp_path, capsys):
    out = tmp_path / "gru.svg"
    assert graph_command("gru", 2, True, True, "svg", str(out)) == str(out)
    assert "wrote" in capsys.readouterr().out and out.read_text().startswith("<?xml")
    ap = argparse.ArgumentParser()
    add_graph_parser(ap.add_subparsers())
    args = ap.parse_args(["graph", "peephole", "--steps", "2", "-o", str(tmp_path / "p.png")])
    assert args.fn(args) == 0 and (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    bad = ap.parse_args(["graph", "rnn", "--steps", "0", "-o", str(tmp_path / "x.svg")])
    assert bad.fn(bad) == 1 and "steps" in capsys.readouterr().err


def test_time_step_tags_a_hand_written_loop():
    manual_seed(0)
    cell = nn.RNNCell(2, 3)
    h = None
    for t in range(2):
        with viz.time_step(t):
            h = cell(Tensor(np.ones((1, 2), np.float32), name="x_t"), h)
    dot = viz.to_dot(h)
    assert "<b>t=0</b> · <b>RNNCell</b>" in dot and "<b>t=1</b> · <b>RNNCell</b>" in dot
