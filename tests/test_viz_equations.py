"""The equations view: the recorded graph drawn as the cell's equations (plumbing hidden, affine maps folded)."""

import re
import subprocess

import numpy as np
import pytest

from tinygrad_lstm import Tensor, manual_seed, nn, viz
from tinygrad_lstm.viz.cli import graph_command, unrolled
from tinygrad_lstm.viz.equations import symbol_html

NODE = re.compile(r"^\s*(e\d+) \[label=<(.*)> shape=", re.M)
EDGE = re.compile(r"^\s*(e\d+) -> (e\d+)(?: \[(.*)\])?$", re.M)
PLUMBING = ("Transpose", "GetItem", "Reshape", "Contiguous", "MatMul", "Expand", "Concat")


class MinimalGated(nn.Module):
    """A user's cell built from nn.Linear (not RNNCellBase): the minimal gated unit of Zhou et al. (2016)."""

    def __init__(self, n_in: int, n_h: int) -> None:
        super().__init__()
        self.gate = nn.Linear(n_in + n_h, n_h)
        self.cand = nn.Linear(n_in + n_h, n_h)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        from tinygrad_lstm import concat

        f_t = self.gate(concat([h, x], axis=1)).sigmoid().named("f_t")
        n_t = self.cand(concat([f_t * h, x], axis=1)).tanh().named("n_t")
        return ((1 - f_t) * h + f_t * n_t).named("h_t")


def one_step(cell_cls, **named):
    manual_seed(0)
    cell = cell_cls(3, 4)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32), name="x_t")
    h = Tensor(np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32), name="h_{t-1}",
               requires_grad=True)
    if getattr(cell, "state_is_tuple", False):
        c = Tensor(np.random.default_rng(2).standard_normal((2, 4)).astype(np.float32), name="c_{t-1}",
                   requires_grad=True)
        out = cell(x, (h, c))[0]
    else:
        out = cell(x, h)
    return out


def nodes(dot):
    """Node id -> label, without the spaces text.fit pads lines beyond ASCII with."""
    return {nid: "<br/>".join(line.strip() for line in lab.split("<br/>")) for nid, lab in NODE.findall(dot)}


CELLS = {
    "LSTM": (nn.LSTMCell, ("i_t", "f_t", "g_t", "o_t", "c_t", "h_t", "c_{t-1}", "h_{t-1}", "x_t"), "ifgo", 3, 2),
    "Peephole": (nn.PeepholeLSTMCell, ("i_t", "f_t", "g_t", "o_t", "c_t", "h_t", "p_i", "p_f", "p_o"), "ifgo", 3,
                 2),
    "GRU": (nn.GRUCell, ("r_t", "z_t", "n_t", "h_t", "h_{t-1}", "x_t"), "rznn", 2, 1),
    "RNN": (nn.RNNCell, ("h_t", "h_{t-1}", "x_t"), "", 0, 1),
    "custom": (MinimalGated, ("f_t", "n_t", "h_t", "h_{t-1}", "x_t"), "fn", 1, 1),
}


@pytest.mark.parametrize("kind", list(CELLS))
def test_equations_hold_the_symbols_and_no_plumbing(kind):
    cls, symbols, gates, n_sigma, n_tanh = CELLS[kind]
    dot = viz.to_dot(one_step(cls), view="equations")
    labels = nodes(dot)
    text = " ".join(labels.values())
    for op in PLUMBING:
        assert op not in dot
    for s in symbols:
        assert symbol_html(s) in text, s
    assert sum(lab.startswith("<b>σ</b>") for lab in labels.values()) == n_sigma
    assert sum(lab.startswith("<b>tanh</b>") for lab in labels.values()) == n_tanh
    maps = [lab for lab in labels.values() if lab.startswith("W")]
    # one folded map per gate, subscripted with its gate, reading the state and the input
    assert len(maps) == max(len(gates), 1)
    subs = sorted(re.match(r"W(?:<sub><font point-size=\"9\">(\w)</font></sub>)?", m).group(1) or "" for m in maps)
    assert subs == sorted(gates or [""])
    h, x = symbol_html("h_{t-1}"), symbol_html("x_t")
    assert all(h in m or x in m for m in maps)
    if kind in ("LSTM", "Peephole", "RNN"):
        assert all(f"[{h}, {x}]" in m for m in maps)  # W·[h_{t-1}, x_t] + b, as the equations write it


def test_equations_gate_order_and_the_cell_state_on_top():
    """LSTM: c_{t-1} runs along the top, the gates' maps below it in the order i, f, g, o."""
    if viz.find_renderer() is None:
        pytest.skip("no renderer")
    dot = viz.to_dot(one_step(nn.LSTMCell), view="equations")
    plain = subprocess.run([viz.find_renderer(), "-Tplain"], input=dot.encode(), capture_output=True,
                           check=True).stdout.decode()
    y = {m.group(1): float(m.group(2)) for m in re.finditer(r"^node (e\d+) [\d.]+ ([\d.]+)", plain, re.M)}
    labels = nodes(dot)
    maps = {re.search(r'point-size="9">(\w)<', lab).group(1): nid for nid, lab in labels.items()
            if lab.startswith("W")}
    ys = [y[maps[g]] for g in "ifgo"]
    assert ys == sorted(ys, reverse=True)  # plain output: y grows upwards
    c_prev = next(nid for nid, lab in labels.items() if symbol_html("c_{t-1}") in lab)
    assert y[c_prev] > max(ys)
    carry = [m for m in EDGE.finditer(dot) if m.group(3) and "penwidth=\"2.4\"" in m.group(3)]
    assert len(carry) == 2  # c_{t-1} -> × -> + (c_t): drawn bold


def test_equations_edges_carry_gradient_norms():
    h_t = one_step(nn.LSTMCell)
    loss = h_t.sum().named("loss")
    with viz.trace_grads() as tr:
        loss.backward()
    dot = viz.to_dot(loss, view="equations", show_grads=tr)
    labels = nodes(dot)
    by = {re.sub("<[^>]+>", "", lab).replace(" ", "") if "W" not in lab else re.sub("<[^>]+>", "", lab): nid
          for nid, lab in labels.items()}
    edges = {(a, b): attrs for a, b, attrs in EDGE.findall(dot)}
    # dL/dh_t = 1 (loss = sum h_t): the edge h_t -> loss carries sqrt(2·4)
    assert f'label="{np.sqrt(8):.3g}"' in edges[(by["×ht"], by["Sumloss"])]
    # h_t = o_t ⊙ tanh(c_t): the gradient reaching tanh(c_t) is o_t, elementwise
    o_t = next(t for t in viz.dot.unfuse([loss]).roots[0]._ctx.parents[0]._ctx.parents if t.name == "o_t")
    want = float(np.linalg.norm(o_t.data.astype(np.float64)))
    tanh_edge = edges[(by["tanh"], by["×ht"])]
    assert f'label="{want:.3g}"' in tanh_edge  # labels have 3 significant digits
    # the edge from x into a map whose product the four gates share carries no number
    assert "shared by several gates" in edges[(by["xt"], next(v for k, v in by.items() if k.startswith("Wi")))]


def plain_positions(dot):
    plain = subprocess.run([viz.find_renderer(), "-Tplain"], input=dot.encode(), capture_output=True,
                           check=True).stdout.decode()
    return {m.group(1): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"^node (e\d+) ([\d.]+) ([\d.]+)", plain, re.M)}


def test_equations_view_of_an_unrolled_cell_runs_left_to_right_with_the_gates_in_order():
    loss, _ = unrolled("lstm", 3, forget_bias=1.0)
    dot = viz.to_dot(loss, view="equations")
    assert "subgraph cluster_" not in dot  # headings, not boxes: see equations.build
    labels = nodes(dot)
    heads = {int(re.search(r"t=(\d)", lab).group(1)): nid for nid, lab in labels.items() if lab.startswith("<b>t=")}
    assert sorted(heads) == [0, 1, 2]
    assert symbol_html("h_{t-1}") in dot  # the state read from the step before
    if viz.find_renderer() is None:
        return
    pos = plain_positions(dot)
    assert pos[heads[0]][0] < pos[heads[1]][0] < pos[heads[2]][0]  # time runs left to right
    maps = sorted(((pos[nid], re.search(r'point-size="9">(\w)<', lab).group(1)) for nid, lab in labels.items()
                   if lab.startswith("W")), key=lambda m: m[0][0])
    for t in range(3):  # in every step, top to bottom: i, f, g, o (plain output: y grows upwards)
        step = sorted(maps[4 * t: 4 * t + 4], key=lambda m: -m[0][1])
        assert "".join(g for _, g in step) == "ifgo"
    carry = [m for m in EDGE.finditer(dot) if m.group(3) and 'penwidth="2.4"' in m.group(3)]
    assert len(carry) == 2 * 3  # c_{t-1} -> × -> + in each step, bold


def test_equations_view_of_a_layer_and_the_cli(tmp_path, capsys):
    manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = Tensor(np.ones((3, 1, 3), np.float32), name="x")
    dot = viz.to_dot(lstm(x)[0].sum(), view="equations")
    for op in PLUMBING:
        assert op not in dot
    labels = nodes(dot)
    assert sum(lab.startswith("W") for lab in labels.values()) == 2 * 3 * 4  # layers x steps x gates
    assert sum(lab.startswith("<b>stack</b>") for lab in labels.values()) == 2  # each layer stacks its outputs
    layer1 = [lab for lab in labels.values() if lab.startswith("W") and symbol_html("h_t") in lab]
    assert len(layer1) == 3 * 4  # layer 1 reads the h_t of the layer below, at the same step
    loss, _ = unrolled("gru", 2)
    assert "GetItem" not in viz.to_dot(loss, view="equations") and "GetItem" in viz.to_dot(loss)
    with pytest.raises(ValueError, match="view must be one of"):
        viz.to_dot(loss, view="math")
    if viz.find_renderer() is not None:
        path = graph_command("lstm", 2, False, True, "svg", str(tmp_path / "eq.svg"), view="equations")
        assert "as equations" in capsys.readouterr().out
        assert "tanh" in open(path).read()
