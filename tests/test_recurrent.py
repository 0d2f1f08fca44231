"""Recurrent cells and layers: held to PyTorch with copied weights (float64, rtol 1e-6 or tighter) on outputs and on
every gradient, to hand-written numpy equations and to finite differences (gradcheck); plus padding with
`lengths`, dropout between layers, state_dict exchange, errors, and the names/scopes the graph renderer reads."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from tinygrad_lstm import Tensor, autograd, gradcheck, manual_seed, nn
from tinygrad_lstm.jit import fusion, whole_sequences

RTOL, ATOL = 1e-9, 1e-12  # float64 against PyTorch: far tighter than the 1e-6 asked of us

CELLS = {  # name -> (our class, torch class name, constructor kwargs)
    "RNNCell-tanh": (nn.RNNCell, "RNNCell", {"nonlinearity": "tanh"}),
    "RNNCell-relu": (nn.RNNCell, "RNNCell", {"nonlinearity": "relu"}),
    "LSTMCell": (nn.LSTMCell, "LSTMCell", {}),
    "GRUCell": (nn.GRUCell, "GRUCell", {}),
}

LAYERS = {
    "RNN-tanh": (nn.RNN, "RNN", {"nonlinearity": "tanh"}),
    "RNN-relu": (nn.RNN, "RNN", {"nonlinearity": "relu"}),
    "LSTM": (nn.LSTM, "LSTM", {}),
    "GRU": (nn.GRU, "GRU", {}),
}

LAYER_CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"batch_first": True},
    {"bias": False},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def weighted_sum(outs, seed: int = 7):
    """Σ w·out over every output with a fixed random w: every output element reaches the gradient."""
    r = rng(seed)
    total = None
    for o in outs:
        w = r.standard_normal(tuple(o.shape))
        term = (o * (Tensor(w) if isinstance(o, Tensor) else _torch().from_numpy(w))).sum()
        total = term if total is None else total + term
    return total


def _torch():
    import torch

    return torch


def assert_close(ours, theirs, what: str, rtol: float = RTOL) -> None:
    a = ours.data if isinstance(ours, Tensor) else ours
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert a.shape == b.shape, f"{what}: shape {a.shape}, expected {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=ATOL, err_msg=what)


def flat_state(state):
    return list(state) if isinstance(state, tuple) else [state]


# ---------------------------------------------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------------------------------------------


def make_cell_pair(kind: str, bias: bool = True, in_size: int = 3, hidden: int = 4):
    torch = pytest.importorskip("torch")
    ours_cls, torch_name, kw = CELLS[kind]
    tcell = getattr(torch.nn, torch_name)(in_size, hidden, bias=bias, **kw).double()
    cell = ours_cls(in_size, hidden, bias=bias, dtype=np.float64, **kw)
    cell.load_state_dict(tcell.state_dict())
    return cell, tcell


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_matches_torch(kind, bias):
    """Three steps from a given initial state: every output and the gradient of the inputs, the initial state and
    every parameter."""
    torch = pytest.importorskip("torch")
    cell, tcell = make_cell_pair(kind, bias)
    is_lstm = kind == "LSTMCell"
    T, B, H = 3, 2, 4
    xs_np = rng(1).standard_normal((T, B, 3))
    s0_np = [rng(2 + k).standard_normal((B, H)) for k in range(2 if is_lstm else 1)]

    xs = Tensor(xs_np, requires_grad=True)
    s0 = [Tensor(a, requires_grad=True) for a in s0_np]
    txs = torch.tensor(xs_np, requires_grad=True)
    ts0 = [torch.tensor(a, requires_grad=True) for a in s0_np]

    state, tstate = (tuple(s0) if is_lstm else s0[0]), (tuple(ts0) if is_lstm else ts0[0])
    outs, touts = [], []
    for t in range(T):
        state, tstate = cell(xs[t], state), tcell(txs[t], tstate)
        outs += flat_state(state)
        touts += flat_state(tstate)
    for k, (o, to) in enumerate(zip(outs, touts)):
        assert_close(o, to, f"{kind} output {k}")
    weighted_sum(outs).backward()
    weighted_sum(touts).backward()
    assert_close(xs.grad, txs.grad, "input gradient")
    for k, (s, ts) in enumerate(zip(s0, ts0)):
        assert_close(s.grad, ts.grad, f"initial state {k} gradient")
    ours = dict(cell.named_parameters())
    assert list(ours) == [n for n, _ in tcell.named_parameters()]
    for name, tp in tcell.named_parameters():
        assert_close(ours[name].grad, tp.grad, f"gradient of {name}")


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_unbatched_matches_torch(kind):
    torch = pytest.importorskip("torch")
    cell, tcell = make_cell_pair(kind)
    is_lstm = kind == "LSTMCell"
    x_np = rng(3).standard_normal(3)
    s_np = [rng(4 + k).standard_normal(4) for k in range(2 if is_lstm else 1)]
    x, s = Tensor(x_np, requires_grad=True), [Tensor(a, requires_grad=True) for a in s_np]
    tx, ts = torch.tensor(x_np, requires_grad=True), [torch.tensor(a, requires_grad=True) for a in s_np]
    out = flat_state(cell(x, tuple(s) if is_lstm else s[0]))
    tout = flat_state(tcell(tx, tuple(ts) if is_lstm else ts[0]))
    assert all(o.shape == (4,) for o in out)
    for o, to in zip(out, tout):
        assert_close(o, to, "unbatched output")
    weighted_sum(out).backward()
    weighted_sum(tout).backward()
    assert_close(x.grad, tx.grad, "unbatched input gradient")
    for a, b in zip(s, ts):
        assert_close(a.grad, b.grad, "unbatched state gradient")
    # and without a state: zeros, as torch
    for o, to in zip(flat_state(cell(Tensor(x_np))), flat_state(tcell(torch.tensor(x_np)))):
        assert_close(o, to, "unbatched output from the zero state")


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_default_state_is_zeros(kind):
    cls, _, kw = CELLS[kind]
    manual_seed(0)
    cell = cls(3, 4, dtype=np.float64, **kw)
    x = Tensor(rng().standard_normal((2, 3)))
    zeros = Tensor(np.zeros((2, 4)))
    explicit = cell(x, (zeros, zeros) if cell.state_is_tuple else zeros)
    for a, b in zip(flat_state(cell(x)), flat_state(explicit)):
        np.testing.assert_array_equal(a.data, b.data)


def test_cell_init_bound():
    manual_seed(0)
    cell = nn.LSTMCell(10, 100)
    assert cell.weight_ih.shape == (400, 10) and cell.weight_hh.shape == (400, 100)
    assert cell.bias_ih.shape == cell.bias_hh.shape == (400,)
    for p in cell.parameters():  # U(-1/√H, 1/√H), as PyTorch
        assert np.abs(p.data).max() <= 0.1 and np.abs(p.data).max() > 0.09


def test_lstm_cell_hand_computed():
    """One step with every weight zero except the biases: the gates are constants we can work out by hand."""
    cell = nn.LSTMCell(1, 1, dtype=np.float64)
    for p in cell.parameters():
        p.data[...] = 0.0
    cell.bias_ih.data[:] = [0.0, np.log(3.0), 1.0, 0.0]  # i = σ(0) = ½, f = σ(ln 3) = ¾, g = tanh 1, o = ½
    h, c = cell(Tensor([[5.0]], dtype=np.float64), (Tensor([[0.0]], dtype=np.float64),
                                                    Tensor([[2.0]], dtype=np.float64)))
    c_expected = 0.75 * 2.0 + 0.5 * np.tanh(1.0)
    np.testing.assert_allclose(c.data, [[c_expected]], rtol=1e-14)
    np.testing.assert_allclose(h.data, [[0.5 * np.tanh(c_expected)]], rtol=1e-14)


# ----- PeepholeLSTMCell: against its docstring's equations in numpy ---------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def peephole_numpy(p: dict[str, np.ndarray], x: np.ndarray, h: np.ndarray, c: np.ndarray):
    """PeepholeLSTMCell's docstring, line by line."""
    H = h.shape[-1]
    z = x @ p["weight_ih"].T + p.get("bias_ih", 0) + h @ p["weight_hh"].T + p.get("bias_hh", 0)
    zi, zf, zg, zo = (z[:, k * H:(k + 1) * H] for k in range(4))
    i = _sigmoid(zi + p["weight_ci"] * c)
    f = _sigmoid(zf + p["weight_cf"] * c)
    g = np.tanh(zg)
    c_new = f * c + i * g
    o = _sigmoid(zo + p["weight_co"] * c_new)
    return o * np.tanh(c_new), c_new


@pytest.mark.parametrize("bias", [True, False])
def test_peephole_cell_matches_its_equations(bias):
    manual_seed(0)
    cell = nn.PeepholeLSTMCell(3, 4, bias=bias, dtype=np.float64)
    names = [n for n, _ in cell.named_parameters()]
    assert names == ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else []) + [
        "weight_ci", "weight_cf", "weight_co"]
    assert cell.weight_ci.shape == (4,)
    p = cell.state_dict()
    x, h, c = rng(1).standard_normal((3, 2, 3)), rng(2).standard_normal((2, 4)), rng(3).standard_normal((2, 4))
    state, ref = (Tensor(h), Tensor(c)), (h, c)
    for t in range(3):
        state = cell(Tensor(x[t]), state)
        ref = peephole_numpy(p, x[t], *ref)
        np.testing.assert_allclose(state[0].data, ref[0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(state[1].data, ref[1], rtol=1e-13, atol=1e-15)


def test_peephole_with_zero_peepholes_is_torch_lstm_cell():
    torch = pytest.importorskip("torch")
    tcell = torch.nn.LSTMCell(3, 4).double()
    cell = nn.PeepholeLSTMCell(3, 4, dtype=np.float64)
    sd = {k: v.numpy() for k, v in tcell.state_dict().items()}
    sd.update({f"weight_c{g}": np.zeros(4) for g in "ifo"})
    cell.load_state_dict(sd)
    x = rng().standard_normal((2, 3))
    for a, b in zip(cell(Tensor(x)), tcell(torch.from_numpy(x))):
        assert_close(a, b, "peephole cell with zero peepholes")


# ----- gradcheck of every cell -------------------------------------------------------------------------------------


@contextmanager
def parameters_bound_to(module: nn.Module, names: list[str], tensors: list[Tensor]):
    """Let `module` read the given tensors in place of its parameters (what gradcheck perturbs)."""
    saved = {n: getattr(module, n) for n in names}
    for n, t in zip(names, tensors):
        object.__setattr__(module, n, t)
    try:
        yield
    finally:
        for n, p in saved.items():
            object.__setattr__(module, n, p)


ALL_CELLS = [nn.RNNCell, nn.LSTMCell, nn.GRUCell, nn.PeepholeLSTMCell]


@pytest.mark.parametrize("cls", ALL_CELLS, ids=lambda c: c.__name__)
def test_cell_gradcheck(cls):
    """Finite differences on the input, the initial state and every parameter, over two steps."""
    manual_seed(1)
    cell = cls(2, 3, dtype=np.float64)
    names = [n for n, _ in cell.named_parameters()]
    params = [Tensor(p.data, requires_grad=True, name=n) for n, p in cell.named_parameters()]
    x = Tensor(rng(1).standard_normal((2, 2, 2)), requires_grad=True, name="x")
    s0 = [Tensor(rng(2 + k).standard_normal((2, 3)), requires_grad=True, name=f"s{k}")
          for k in range(2 if cell.state_is_tuple else 1)]

    def fn(x, *rest):
        state_in, ps = rest[:len(s0)], rest[len(s0):]
        with parameters_bound_to(cell, names, list(ps)):
            state = tuple(state_in) if cell.state_is_tuple else state_in[0]
            outs = []
            for t in range(2):
                state = cell(x[t], state)
                outs += flat_state(state)
        return outs

    assert gradcheck(fn, [x, *s0, *params], eps=1e-6, atol=1e-8, rtol=1e-6)


def test_gradcheck_catches_a_wrong_cell():
    """The check above can fail: a cell whose forward reads a parameter it does not register is caught."""
    cell = nn.LSTMCell(2, 2, dtype=np.float64)
    w = Tensor(cell.weight_hh.data, requires_grad=True)

    def fn(w):
        with parameters_bound_to(cell, ["weight_hh"], [Tensor(w.data)]):  # cut from the graph: gradient zero
            return cell(Tensor(np.ones((1, 2))), (Tensor(np.ones((1, 2))), Tensor(np.ones((1, 2)))))

    from tinygrad_lstm import GradcheckError

    with pytest.raises(GradcheckError):
        gradcheck(fn, [w])


# ----- cell errors -------------------------------------------------------------------------------------------------


def test_cell_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"input_size=3.*\(2, 5\)"):
        cell(Tensor(np.zeros((2, 5))))
    with pytest.raises(ValueError, match=r"\(2, 4\).*hidden_size=4.*\(2, 3\)"):
        cell(Tensor(np.zeros((2, 3))), (Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3)))))
    with pytest.raises(ValueError, match=r"tuple \(h, c\)"):
        cell(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="shape"):
        nn.GRUCell(3, 4)(Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 4))))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="positive"):
        nn.GRUCell(0, 4)


def test_cell_repr_matches_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4)),
                         (nn.GRUCell(3, 4, bias=False), torch.nn.GRUCell(3, 4, bias=False)),
                         (nn.RNNCell(2, 5), torch.nn.RNNCell(2, 5))]:
        assert repr(ours) == repr(theirs)


# ---------------------------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------------------------


def make_layer_pair(kind: str, in_size: int = 3, hidden: int = 4, **cfg):
    torch = pytest.importorskip("torch")
    ours_cls, torch_name, kw = LAYERS[kind]
    tlayer = getattr(torch.nn, torch_name)(in_size, hidden, **kw, **cfg).double()
    layer = ours_cls(in_size, hidden, dtype=np.float64, **kw, **cfg)
    # a torch state_dict converted to numpy loads as it is
    layer.load_state_dict({k: v.numpy() for k, v in tlayer.state_dict().items()})
    return layer, tlayer


def run_pair(layer, tlayer, x_np, with_state=True, lengths=None, seed=0):
    """Forward both (optionally from random initial states, optionally packed), backward Σ w·(output, h_n, c_n),
    and compare outputs and every gradient."""
    torch = _torch()
    is_lstm = isinstance(layer, nn.LSTM)
    n = layer.num_layers * layer.num_directions
    unbatched = x_np.ndim == 2
    B = 1 if unbatched else x_np.shape[0 if layer.batch_first else 1]
    shape = (n, 4) if unbatched else (n, B, 4)
    s_np = [rng(seed + 10 + k).standard_normal(shape) for k in range(2 if is_lstm else 1)] if with_state else []

    x = Tensor(x_np, requires_grad=True)
    s = [Tensor(a, requires_grad=True) for a in s_np]
    tx = torch.tensor(x_np, requires_grad=True)
    ts = [torch.tensor(a, requires_grad=True) for a in s_np]
    hx = (tuple(s) if is_lstm else s[0]) if s else None
    thx = (tuple(ts) if is_lstm else ts[0]) if ts else None

    out, state = layer(x, hx, lengths=lengths)
    if lengths is None:
        tout, tstate = tlayer(tx, thx)
    else:
        pack = torch.nn.utils.rnn
        packed = pack.pack_padded_sequence(tx, torch.tensor(lengths), batch_first=layer.batch_first,
                                           enforce_sorted=False)
        tpacked, tstate = tlayer(packed, thx)
        tout, _ = pack.pad_packed_sequence(tpacked, batch_first=layer.batch_first, total_length=x_np.shape[
            1 if layer.batch_first else 0])
    ours_all, theirs_all = [out, *flat_state(state)], [tout, *flat_state(tstate)]
    for what, a, b in zip(["output", "h_n", "c_n"], ours_all, theirs_all):
        assert_close(a, b, what)
    weighted_sum(ours_all, seed).backward()
    weighted_sum(theirs_all, seed).backward()
    assert_close(x.grad, tx.grad, "input gradient")
    for k, (a, b) in enumerate(zip(s, ts)):
        assert_close(a.grad, b.grad, ["h_0", "c_0"][k] + " gradient")
    ours = dict(layer.named_parameters())
    assert list(ours) == [n for n, _ in tlayer.named_parameters()]
    for name, tp in tlayer.named_parameters():
        assert_close(ours[name].grad, tp.grad, f"gradient of {name}")
    return out, state


@pytest.mark.parametrize("cfg", LAYER_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
@pytest.mark.parametrize("kind", list(LAYERS))
def test_layer_matches_torch(kind, cfg):
    layer, tlayer = make_layer_pair(kind, **cfg)
    T, B = 5, 3
    x = rng(1).standard_normal((B, T, 3) if cfg.get("batch_first") else (T, B, 3))
    out, _ = run_pair(layer, tlayer, x)
    D = 2 if cfg.get("bidirectional") else 1
    assert out.shape == ((B, T, 4 * D) if cfg.get("batch_first") else (T, B, 4 * D))


@pytest.mark.parametrize("kind", list(LAYERS))
def test_layer_default_state_matches_torch(kind):
    layer, tlayer = make_layer_pair(kind, num_layers=2)
    run_pair(layer, tlayer, rng(2).standard_normal((4, 2, 3)), with_state=False)


@pytest.mark.parametrize("cfg", [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True}])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_layer_unbatched_matches_torch(kind, cfg):
    layer, tlayer = make_layer_pair(kind, **cfg)
    out, state = run_pair(layer, tlayer, rng(3).standard_normal((5, 3)))  # (seq, features), even if batch_first
    assert out.shape == (5, 4 * layer.num_directions)
    assert flat_state(state)[0].shape == (layer.num_layers * layer.num_directions, 4)


@pytest.mark.parametrize("cfg", [{}, {"bidirectional": True}, {"num_layers": 2, "bidirectional": True,
                                                                 "batch_first": True}])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_lengths_match_torch_packed_sequences(kind, cfg):
    layer, tlayer = make_layer_pair(kind, **cfg)
    T, lengths = 5, [3, 5, 1, 4]  # unsorted, as enforce_sorted=False allows
    B = len(lengths)
    x = rng(4).standard_normal((B, T, 3) if cfg.get("batch_first") else (T, B, 3))
    run_pair(layer, tlayer, x, lengths=lengths)
    run_pair(layer, tlayer, x, lengths=np.array(lengths), with_state=False)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_lengths_freeze_state_and_zero_outputs(kind):
    """Without torch: past its length a sequence outputs zeros and its final state is that of the shorter run."""
    cls, _, kw = LAYERS[kind]
    manual_seed(0)
    layer = cls(3, 4, num_layers=2, bidirectional=True, dtype=np.float64, **kw)
    T, k = 6, 2
    x = rng(5).standard_normal((T, 2, 3))
    out, state = layer(Tensor(x), lengths=[T, k])
    np.testing.assert_array_equal(out.data[k:, 1], 0.0)
    assert np.abs(out.data[:k, 1]).max() > 0.01  # (relu may zero a few units legitimately)
    short_out, short_state = layer(Tensor(x[:k, 1:2]))
    np.testing.assert_allclose(out.data[:k, 1:2], short_out.data, rtol=1e-13, atol=1e-15)
    for a, b in zip(flat_state(state), flat_state(short_state)):
        np.testing.assert_allclose(a.data[:, 1:2], b.data, rtol=1e-13, atol=1e-15)
    full_out, _ = layer(Tensor(x[:, 0:1]))  # the full-length sequence is unaffected by its neighbour
    np.testing.assert_allclose(out.data[:, 0:1], full_out.data, rtol=1e-13, atol=1e-15)
    # and the padding gets no gradient
    xt = Tensor(x, requires_grad=True)
    o, _ = layer(xt, lengths=[T, k])
    o.sum().backward()
    np.testing.assert_array_equal(xt.grad[k:, 1], 0.0)
    assert np.abs(xt.grad[:k, 1]).max() > 0.01


def test_lengths_all_full_equals_no_lengths():
    manual_seed(0)
    lstm = nn.LSTM(3, 4, dtype=np.float64)
    x = Tensor(rng().standard_normal((4, 2, 3)))
    a, (h, c) = lstm(x, lengths=[4, 4])
    b, (h2, c2) = lstm(x)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(c.data, c2.data)


# ----- state_dict exchange with PyTorch ----------------------------------------------------------------------------


def test_torch_state_dict_round_trip():
    torch = pytest.importorskip("torch")
    tl = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    manual_seed(0)
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    assert list(ours.state_dict()) == list(tl.state_dict())
    assert [v.shape for v in ours.state_dict().values()] == [tuple(v.shape) for v in tl.state_dict().values()]
    assert dict(ours.named_parameters())["weight_hh_l1_reverse"].name == "weight_hh_l1_reverse"
    x = rng().standard_normal((2, 5, 3))
    # ours → torch
    tl.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    out, (h, c) = ours(Tensor(x))
    tout, (th, tc) = tl(torch.from_numpy(x))
    assert_close(out, tout, "output")
    assert_close(c, tc, "c_n")
    # torch → ours, after torch's weights changed
    with torch.no_grad():
        for p in tl.parameters():
            p.mul_(-1.5)
    ours.load_state_dict({k: v.numpy() for k, v in tl.state_dict().items()})
    out, (h, c) = ours(Tensor(x))
    tout, (th, tc) = tl(torch.from_numpy(x))
    assert_close(out, tout, "output after loading torch's weights")
    assert_close(h, th, "h_n after loading torch's weights")


def test_layer_repr_matches_torch():
    torch = pytest.importorskip("torch")
    for kw in [{}, {"num_layers": 2, "bias": False, "batch_first": True, "dropout": 0.5, "bidirectional": True}]:
        assert repr(nn.LSTM(3, 4, **kw)) == repr(torch.nn.LSTM(3, 4, **kw))
        assert repr(nn.GRU(3, 4, **kw)) == repr(torch.nn.GRU(3, 4, **kw))
        assert repr(nn.RNN(3, 4, **kw)) == repr(torch.nn.RNN(3, 4, **kw))


def test_layer_param_names_and_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    shapes = {n: p.shape for n, p in lstm.named_parameters()}
    assert shapes["weight_ih_l0"] == (16, 3) and shapes["weight_ih_l1"] == (16, 8)
    assert shapes["weight_hh_l1_reverse"] == (16, 4) and shapes["bias_ih_l0_reverse"] == (16,)
    assert len(shapes) == 16
    for n, p in lstm.named_parameters():
        assert p.name == n
    model = nn.Sequential(lstm)
    assert lstm.weight_hh_l0.name == "0.weight_hh_l0"
    assert [n for n, _ in model.named_parameters()][0] == "0.weight_ih_l0"


# ----- PeepholeLSTMCell inside nn.LSTM -----------------------------------------------------------------------------


def reference_stack(layer: nn.RNNBase, cell_cls, x: np.ndarray):
    """The layer computed by hand: fresh cells loaded with each layer/direction's weights, looped over time."""
    sd, H = layer.state_dict(), layer.hidden_size
    inp, h_n, c_n = x, [], []
    for lay in range(layer.num_layers):
        outs = []
        for d in range(layer.num_directions):
            suffix = f"_l{lay}" + ("_reverse" if d else "")
            cell = cell_cls(inp.shape[2], H, dtype=np.float64)
            cell.load_state_dict({k[:-len(suffix)]: v for k, v in sd.items() if k.endswith(suffix)})
            steps = range(len(inp) - 1, -1, -1) if d else range(len(inp))
            state, out = None, [None] * len(inp)
            for t in steps:
                state = cell(Tensor(inp[t]), state)
                out[t] = state[0].data
            outs.append(np.stack(out))
            h_n.append(state[0].data)
            c_n.append(state[1].data)
        inp = np.concatenate(outs, axis=2)
    return inp, np.stack(h_n), np.stack(c_n)


def test_peephole_cell_runs_in_lstm():
    manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, cell=nn.PeepholeLSTMCell, dtype=np.float64)
    names = [n for n, _ in lstm.named_parameters()]
    assert "weight_ci_l0" in names and "weight_co_l1_reverse" in names and len(names) == 4 * 7
    assert isinstance(lstm.cells[1][1], nn.PeepholeLSTMCell)
    assert "cell=PeepholeLSTMCell" in repr(lstm)
    x = rng(6).standard_normal((5, 2, 3))
    out, (h, c) = lstm(Tensor(x))
    ref_out, ref_h, ref_c = reference_stack(lstm, nn.PeepholeLSTMCell, x)
    np.testing.assert_allclose(out.data, ref_out, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h.data, ref_h, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c.data, ref_c, rtol=1e-13, atol=1e-15)
    # the peepholes matter: zeroing them changes the result
    for n, p in lstm.named_parameters():
        if n.startswith("weight_c"):
            p.data[...] = 0.0
    assert not np.allclose(lstm(Tensor(x))[0].data, out.data)


def test_peephole_lstm_gradcheck():
    manual_seed(2)
    lstm = nn.LSTM(2, 2, cell=nn.PeepholeLSTMCell, bidirectional=True, dtype=np.float64)
    peep = ["weight_ci_l0", "weight_cf_l0", "weight_co_l0_reverse"]
    params = [Tensor(getattr(lstm, n).data, requires_grad=True, name=n) for n in peep]
    x = Tensor(rng(7).standard_normal((3, 2, 2)), requires_grad=True, name="x")
    h0 = Tensor(rng(8).standard_normal((2, 2, 2)), requires_grad=True, name="h0")
    c0 = Tensor(rng(9).standard_normal((2, 2, 2)), requires_grad=True, name="c0")
    cells = {"weight_ci_l0": lstm.cells[0][0], "weight_cf_l0": lstm.cells[0][0],
             "weight_co_l0_reverse": lstm.cells[0][1]}

    def fn(x, h0, c0, *ps):
        saved = [(cells[n], n[:9], getattr(cells[n], n[:9])) for n in peep]
        for n, p in zip(peep, ps):
            object.__setattr__(cells[n], n[:9], p)
        try:
            out, (h, c) = lstm(x, (h0, c0), lengths=[3, 2])
        finally:
            for cell, attr, old in saved:
                object.__setattr__(cell, attr, old)
        return out, h, c

    assert gradcheck(fn, [x, h0, c0, *params], atol=1e-8, rtol=1e-6)


# ----- dropout between layers ------------------------------------------------------------------------------------


def test_dropout_between_layers_only_in_train_mode():
    manual_seed(0)
    plain = nn.LSTM(3, 4, num_layers=2, dtype=np.float64)
    drop = nn.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=np.float64)
    drop.load_state_dict(plain.state_dict())
    x = Tensor(rng().standard_normal((6, 5, 3)))
    ref_out, (ref_h, ref_c) = plain(x)

    drop.eval()
    out, (h, c) = drop(x)
    np.testing.assert_array_equal(out.data, ref_out.data)  # identity in eval
    np.testing.assert_array_equal(h.data, ref_h.data)

    drop.train()
    out, (h, c) = drop(x)
    assert not np.allclose(out.data, ref_out.data)
    np.testing.assert_array_equal(h.data[0], ref_h.data[0])  # layer 0 runs before any dropout ...
    np.testing.assert_array_equal(c.data[0], ref_c.data[0])
    assert not np.allclose(h.data[1], ref_h.data[1])  # ... layer 1 reads a dropped-out input
    out2, _ = drop(x)
    assert not np.allclose(out2.data, out.data)  # a fresh mask each call


def test_dropout_is_never_applied_after_the_last_layer():
    manual_seed(0)
    plain = nn.GRU(3, 4, dtype=np.float64)
    drop = nn.GRU(3, 4, dropout=0.9, dtype=np.float64)
    drop.load_state_dict(plain.state_dict())
    x = Tensor(rng().standard_normal((4, 2, 3)))
    np.testing.assert_array_equal(drop.train()(x)[0].data, plain(x)[0].data)


def test_train_eval_reaches_the_cells():
    model = nn.Sequential(nn.LSTM(3, 4, num_layers=2, bidirectional=True))
    model.eval()
    assert not any(c.training for row in model[0].cells for c in row)
    model.train()
    assert all(c.training for row in model[0].cells for c in row)


# ----- errors ------------------------------------------------------------------------------------------------------


def test_layer_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = Tensor(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"features=3 \(input_size\).*\(5, 2, 7\)"):
        lstm(Tensor(np.zeros((5, 2, 7))))
    with pytest.raises(ValueError, match="input"):
        lstm(Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"h_0 of shape \(2, 2, 4\).*got \(1, 2, 4\)"):
        lstm(x, (Tensor(np.zeros((1, 2, 4))), Tensor(np.zeros((2, 2, 4)))))
    with pytest.raises(ValueError, match=r"c_0 of shape \(2, 2, 4\).*got \(2, 3, 4\)"):
        lstm(x, (Tensor(np.zeros((2, 2, 4))), Tensor(np.zeros((2, 3, 4)))))
    with pytest.raises(ValueError, match=r"\(h_0, c_0\)"):
        lstm(x, Tensor(np.zeros((2, 2, 4))))
    with pytest.raises(ValueError, match=r"h_0 of shape \(1, 2, 4\)"):
        nn.GRU(3, 4)(x, Tensor(np.zeros((1, 4))))
    with pytest.raises(ValueError, match=r"batch, seq.*features=3"):
        nn.GRU(3, 4, batch_first=True)(Tensor(np.zeros((2, 5, 4))))


@pytest.mark.parametrize("lengths,match", [
    ([5, 0], "between 1 and the sequence length 5"),
    ([6, 2], "between 1 and the sequence length 5"),
    ([5, 2, 3], "2 integers"),
    ([5.0, 2.0], "2 integers"),
])
def test_bad_lengths(lengths, match):
    with pytest.raises(ValueError, match=match):
        nn.LSTM(3, 4)(Tensor(np.zeros((5, 2, 3))), lengths=lengths)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="num_layers"):
        nn.LSTM(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)


# ---------------------------------------------------------------------------------------------------------------
# graph structure read by the renderer: tensor names and scopes
# ---------------------------------------------------------------------------------------------------------------


def named_nodes(*roots: Tensor, all_nodes: bool = False) -> list[Tensor]:
    seen, out = set(), []
    for r in roots:
        for t in autograd.toposort(r):
            if id(t) not in seen and t.grad_fn is not None and (t.name or all_nodes):
                seen.add(id(t))
                out.append(t)
    return out


def test_lstm_cell_names_its_gates_inside_its_scope():
    cell = nn.LSTMCell(3, 2)
    x = Tensor(np.ones((1, 3), dtype=np.float32), requires_grad=True)
    h, c = cell(x)
    assert (h.name, c.name) == ("h_t", "c_t")
    nodes = named_nodes(h, c)
    assert sorted(t.name for t in nodes) == sorted(["i_t", "f_t", "g_t", "o_t", "c_t", "h_t"])
    for t in nodes:
        scope = t.grad_fn.scope
        assert [(s.kind, s.label) for s in scope] == [("module", "LSTMCell")]
        assert isinstance(scope[0], autograd.ScopeEntry)
    h2, _ = cell(x, (h, c))
    assert h2.grad_fn.scope[0].call != h.grad_fn.scope[0].call  # each call is told apart


@pytest.mark.parametrize("cls,names", [(nn.GRUCell, {"r_t", "z_t", "n_t", "h_t"}), (nn.RNNCell, {"h_t"})])
def test_other_cells_name_their_gates(cls, names):
    h = cls(2, 2)(Tensor(np.ones((1, 2), dtype=np.float32), requires_grad=True))
    assert {t.name for t in named_nodes(h)} == names


def test_lstm_layer_scopes_each_step():
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(3, 2, bidirectional=True)

        def forward(self, x):
            return self.lstm(x)

    T = 3
    model, x = Model(), Tensor(np.ones((T, 1, 3), dtype=np.float32), requires_grad=True)
    # fused steps carry the same scope on their one Fused node; a whole compiled direction is one op in the
    # layer's scope (viz draws both expanded: test_viz_fused.py)
    with whole_sequences(False):
        out, (h, c) = model(x)
    fused = [t for t in named_nodes(out, h, c, all_nodes=True) if t.grad_fn is not None and t.grad_fn.op == "Fused"]
    assert len(fused) == (T - 1) * 2
    assert all([s.kind for s in t.grad_fn.scope] == ["module", "module", "step", "module"] for t in fused)
    out, (h, c) = model(x)
    loops = [t for t in named_nodes(out, h, c, all_nodes=True)
             if t.grad_fn is not None and t.grad_fn.op == "Recurrence"]
    assert len(loops) == 2
    assert all([(s.kind, s.label) for s in t.grad_fn.scope] == [("module", "Model"), ("module", "LSTM")]
               for t in loops)
    with fusion(False):  # op by op: every equation's tensor
        out, (h, c) = model(x)
    nodes = named_nodes(out, h, c)
    gates = [t for t in nodes if t.name in {"i_t", "f_t", "g_t", "o_t", "c_t", "h_t"}]
    assert len(gates) == 6 * T * 2  # six named tensors per step and direction
    steps = {}
    for t in gates:
        scope = t.grad_fn.scope
        kinds = [(s.kind, s.label) for s in scope]
        assert kinds[:2] == [("module", "Model"), ("module", "LSTM")]
        assert kinds[2][0] == "step" and kinds[3] == ("module", "LSTMCell")
        step = scope[2]
        assert isinstance(step, autograd.ScopeEntry) and step.label.startswith("t=")
        assert scope[1].name == "lstm" and scope[3].name in {"lstm.cell_l0", "lstm.cell_l0_reverse"}
        steps.setdefault((scope[3].name, step.label), set()).add(t.name)
    assert set(steps) == {(d, f"t={k}") for d in ("lstm.cell_l0", "lstm.cell_l0_reverse") for k in range(T)}
    assert all(v == {"i_t", "f_t", "g_t", "o_t", "c_t", "h_t"} for v in steps.values())
