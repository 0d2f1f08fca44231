"""Pictures of fused recurrent layers (jit.Fused) look exactly as with fusion off: every op of every step shown."""

import re

import numpy as np
import pytest
from graph_support import graph_nodes

from tinygrad_lstm import Tensor, autograd, manual_seed, nn, viz
from tinygrad_lstm.jit import Fused, Recurrence, fusion, fusion_enabled, whole_sequences
from tinygrad_lstm.viz.unfuse import unfuse

T, B, IN, H = 5, 2, 3, 4
NAMES = {
    "LSTM": ("i_t", "f_t", "g_t", "o_t", "c_t", "h_t"),
    "Peephole": ("i_t", "f_t", "g_t", "o_t", "c_t", "h_t"),
    "GRU": ("r_t", "z_t", "n_t", "h_t"),
    "RNN": ("h_t",),
}
LAYERS = {
    "LSTM": lambda: nn.LSTM(IN, H, dtype=np.float64),
    "Peephole": lambda: nn.LSTM(IN, H, cell=nn.PeepholeLSTMCell, dtype=np.float64),
    "GRU": lambda: nn.GRU(IN, H, dtype=np.float64),
    "RNN": lambda: nn.RNN(IN, H, dtype=np.float64),
}
KINDS = list(LAYERS)

pytestmark = pytest.mark.skipif(not fusion_enabled(), reason="fusion needs the numba backend")


@pytest.fixture(autouse=True, params=["steps", "sequence"])
def mode(request):
    """Both compiled forms: each step replayed fused (jit.Fused, the path of a cell the whole-sequence compiler
    does not take) and the whole loop as one op (jit.Recurrence)."""
    with whole_sequences(request.param == "sequence"):
        yield request.param


def run(kind: str, fused: bool):
    """(loss, layer) of one forward over T steps; the same weights and input either way."""
    manual_seed(0)
    layer = LAYERS[kind]()
    x = Tensor(np.random.default_rng(1).standard_normal((T, B, IN)), name="x")
    with fusion(fused):
        out, state = layer(x)
    h_n = state[0] if isinstance(state, tuple) else state
    loss = ((out * out).sum() + h_n.sum()).named("loss")
    return loss, layer


def real_ops(root: Tensor) -> list[tuple]:
    """Each node of the real graph with its op, inputs and scope, to tell that drawing changed nothing."""
    return [(id(n), n.op, tuple(id(p) for p in n.parents), n.scope) for n in graph_nodes(root)]


def grads_of(layer) -> dict[str, np.ndarray]:
    return {name: p.grad.copy() for name, p in layer.named_parameters()}


def traced_backward(loss: Tensor):
    with viz.trace_grads() as tr:
        loss.backward()
    return tr


@pytest.mark.parametrize("kind", KINDS)
def test_fusion_is_active(kind, mode):
    fused, _ = run(kind, True)
    eager, _ = run(kind, False)
    # step by step: the first step runs eagerly while traced, the rest are replayed fused; as a sequence, one op
    nodes = graph_nodes(fused)
    if mode == "steps":
        assert sum(isinstance(n, Fused) for n in nodes) == T - 1
    else:
        assert sum(isinstance(n, Recurrence) for n in nodes) == 1 and not any(isinstance(n, Fused) for n in nodes)
    assert not any(isinstance(n, (Fused, Recurrence)) for n in graph_nodes(eager))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", [{}, {"show_values": True}, {"group": None}, {"collapse": ["LSTMCell"]},
                                     {"show_params": False, "rankdir": "LR"}])
def test_dot_equals_unfused(kind, options):
    fused, _ = run(kind, True)
    eager, _ = run(kind, False)
    dot = viz.to_dot(fused, **options)
    assert dot == viz.to_dot(eager, **options)
    assert "Fused" not in dot


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", [{}, {"show_values": True}, {"collapse": ["LSTMCell", "GRUCell", "RNNCell"]}])
def test_dot_with_grads_equals_unfused(kind, options):
    """Gradient norms on every node and edge, the fused ops' own computed from the Fused op's output gradient."""
    fused, _ = run(kind, True)
    eager, _ = run(kind, False)
    tr_fused, tr_eager = traced_backward(fused), traced_backward(eager)
    dot = viz.to_dot(fused, show_grads=tr_fused, **options)
    assert dot == viz.to_dot(eager, show_grads=tr_eager, **options)
    assert "Fused" not in dot
    if not options.get("collapse"):
        assert "not recorded" not in dot  # every tensor that needs a gradient got one (the loss reads every step)
    # show_grads=True takes the most recent trace, if it saw the graph (looked up through the display copy)
    again, _ = run(kind, True)
    traced_backward(again)
    assert viz.to_dot(again, show_grads=True, **options) == viz.to_dot(eager, show_grads=tr_eager, **options)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_grads_from_leaves_only(kind):
    """Without a trace (show_grads=True, no trace covering the graph), leaves' .grad: the same picture."""
    fused, _ = run(kind, True)
    eager, _ = run(kind, False)
    fused.backward()
    eager.backward()
    viz.grads._last.clear()
    assert viz.to_dot(fused, show_grads=True) == viz.to_dot(eager, show_grads=True)


@pytest.mark.parametrize("kind", KINDS)
def test_every_name_at_every_step(kind):
    fused, _ = run(kind, True)
    dot = viz.to_dot(fused)
    for t in range(T):
        for name in NAMES[kind]:
            assert re.search(rf"<b>{name}</b>.{{0,40}}t={t}\b", dot), (name, t)
    drawn = "\n".join(line for line in dot.splitlines() if 'style="dashed' not in line)  # not a row start's copy
    for name in NAMES[kind]:
        assert drawn.count(f"<b>{name}</b>") == T


@pytest.mark.parametrize("kind", KINDS)
def test_drawing_leaves_the_real_graph_alone(kind):
    """Drawing (with and without gradients) before backward: the same gradients as not drawing, and as eager."""
    plain, plain_layer = run(kind, True)
    plain.backward()
    drawn, drawn_layer = run(kind, True)
    before = real_ops(drawn)
    viz.to_dot(drawn, show_values=True)
    viz.to_dot(drawn, collapse=["LSTMCell"])
    viz.draw(drawn)
    assert real_ops(drawn) == before
    with viz.trace_grads() as tr:  # drawing inside a trace must not add to it
        viz.to_dot(drawn, show_grads=tr)
        assert len(tr) == 0
        drawn.backward()
    eager, eager_layer = run(kind, False)
    eager.backward()
    expected, got, reference = grads_of(plain_layer), grads_of(drawn_layer), grads_of(eager_layer)
    assert got.keys() == expected.keys()
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
        np.testing.assert_allclose(got[name], reference[name], rtol=1e-10, atol=1e-12, err_msg=name)
    # after backward freed the saved values the picture is still made from the inputs' data, grads too
    dot = viz.to_dot(drawn, show_values=True, show_grads=tr)
    assert "Fused" not in dot and "not recorded" not in dot


def test_drawing_under_no_grad_and_only_part_of_the_outputs_reached():
    """Expanded under no_grad too; an output the backward never reached (h_t of the last step and o_t, drawn
    beside a loss that reads only c_n) stays "not recorded", as in the eager picture."""
    pictures = []
    for fused in (True, False):
        manual_seed(0)
        layer = nn.LSTM(IN, H, dtype=np.float64)
        x = Tensor(np.random.default_rng(1).standard_normal((T, B, IN)), name="x")
        with fusion(fused):
            out, (_, c_n) = layer(x)
        loss = (c_n * c_n).sum().named("loss")
        tr = traced_backward(loss)
        with autograd.no_grad():
            pictures.append(viz.to_dot([loss, out], show_grads=tr, show_values=True))
    assert pictures[0] == pictures[1]
    assert "not recorded" in pictures[0] and "Fused" not in pictures[0]


def test_view_maps_back_to_the_real_graph(mode):
    if mode == "sequence":
        pytest.skip("about Fused expansions; test_sequence_view_maps_back covers the compiled loop")
    loss, _ = run("LSTM", True)
    view = unfuse([loss])
    assert len(view.expansions) == T - 1
    assert view.roots[0] is not loss and view.original(view.roots[0]) is loss  # a copy: its graph was rewired
    assert view.roots[0].data is loss.data
    for exp in view.expansions:
        h, c = exp.outs
        assert (h.name, c.name) == ("h_t", "c_t")
        # the real tensors drawn as the outputs: GetItems of the Fused op's stacked outputs (the loss does not read
        # c_n, so the last step's c_t is not in the picture)
        real = exp.real if exp is not view.expansions[-1] else exp.real[:1]
        assert exp is not view.expansions[-1] or exp.real[1] is None
        assert all(view.original(t) is r and r._ctx.op == "GetItem" for t, r in zip(exp.outs, real))
        assert {t._ctx.scope for t in exp.made} == {exp.z._ctx.scope}  # the Fused op's module call and step
    # no Fused op: the roots themselves
    with fusion(False):
        eager, _ = run("LSTM", False)
    assert unfuse([eager]).roots[0] is eager


def test_sequence_view_maps_back(mode):
    """The compiled loop is expanded into every step's ops under the op's scope; its outputs stand for the real
    z[:T] (outputs) and z[T] (h_n) that the rest of the graph reads."""
    if mode == "steps":
        pytest.skip("about the compiled loop")
    loss, _ = run("LSTM", True)
    view = unfuse([loss])
    (exp,) = view.expansions
    out, h_n, c_n = exp.outs
    assert out.shape == (T, B, H) and h_n.shape == c_n.shape == (B, H)
    assert view.original(out) is exp.real[0] and exp.real[0]._ctx.attrs["index"] == slice(None, T, None)
    assert exp.real[2] is None  # the loss reads h_n and the outputs, never c_n
    names = [t.name for t in exp.made if t.name]
    assert all(names.count(n) == T for n in NAMES["LSTM"])
