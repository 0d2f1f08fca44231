"""Whole sequences compiled (jit.sequence: one `Recurrence` op per layer direction, the time loop inside numba).

References: the eager op-by-op loop (``fusion(False)``) at rtol 1e-12 in float64, PyTorch with copied weights,
finite differences (`gradcheck`). Every compiled run also checks that the loop really was one op per layer
direction (a silent fallback to the step-by-step path cannot make a comparison pass), and that no Python runs
per time step.
"""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pytest
from graph_support import graph_nodes
from test_jit import CONFIGS, IN, LAYERS, B, H, T, flat, layer_inputs, weighted_loss

from tinygrad_lstm import Tensor, gradcheck, manual_seed, nn
from tinygrad_lstm.jit import Fused, Recurrence, fusion, fusion_enabled
from tinygrad_lstm.keras.layers import GRU, LSTM, SimpleRNN
from tinygrad_lstm.nn.cells import RNNCellBase

pytestmark = pytest.mark.skipif(not fusion_enabled(), reason="compiling needs the numba backend")


def counts(root: Tensor) -> tuple[int, int]:
    nodes = graph_nodes(root)
    return sum(isinstance(n, Recurrence) for n in nodes), sum(isinstance(n, Fused) for n in nodes)


class CIFGCell(RNNCellBase):
    """A user's cell: the input gate coupled to the forget gate, i = 1 - f (three gate blocks f, g, o)."""

    num_gates = 3
    state_is_tuple = True

    def step(self, xw, state):
        h, c = state
        f, g, o = (xw + self.project_hidden(h)).chunk(3, axis=1)
        f_t = f.sigmoid().named("f_t")
        c_t = (f_t * c + (1 - f_t) * g.tanh()).named("c_t")
        return (o.sigmoid() * c_t.tanh()).named("h_t"), c_t


class CumCell(CIFGCell):
    """A cell with an op the sequence compiler does not take (a row sum): runs step by step."""

    def step(self, xw, state):
        h, c = super().step(xw, state)
        return h, c - c.sum(axis=1, keepdims=True) * 0.1


KINDS = {**LAYERS, "CIFG": lambda **kw: nn.LSTM(IN, H, cell=CIFGCell, **kw)}


def run(layer, cfg: dict, dtype, fused: bool, seed: int = 0) -> dict:
    """Forward and backward of `layer` (dropout drawn from the same seed either way): outputs, grads, op counts."""
    layer.zero_grad()
    x, hx, lengths = layer_inputs(layer, cfg, dtype, seed)
    manual_seed(seed)
    with fusion(fused):
        out, state = layer(x, hx, lengths=lengths)
    loss = weighted_loss([out, *flat(state)])
    n = counts(loss)
    loss.backward()
    grads = {"x": x.grad.copy(), **{f"hx{k}": h.grad.copy() for k, h in enumerate(flat(hx) if hx is not None else [])}}
    grads.update({name: p.grad.copy() for name, p in layer.named_parameters()})
    return {"outs": [o.data.copy() for o in (out, *flat(state))], "grads": grads, "counts": n}


def check(kind: str, cfg_name: str, dtype, rtol: float, atol: float, **extra) -> dict:
    cfg = CONFIGS[cfg_name]
    manual_seed(0)
    kw = {k: v for k, v in cfg.items() if k in ("num_layers", "bidirectional", "batch_first")}
    layer = KINDS[kind](dtype=dtype, **kw, **extra)
    eager, compiled = run(layer, cfg, dtype, False), run(layer, cfg, dtype, True)
    assert eager["counts"] == (0, 0)
    assert compiled["counts"] == (layer.num_layers * layer.num_directions, 0)  # one op per layer direction
    for a, b in zip(compiled["outs"], eager["outs"]):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert compiled["grads"].keys() == eager["grads"].keys()
    for name in eager["grads"]:
        np.testing.assert_allclose(compiled["grads"][name], eager["grads"][name], rtol=rtol, atol=atol, err_msg=name)
    return compiled


# every option with the LSTM; every other kind with initial states, lengths and both directions (each new cell
# structure compiles its kernels: ~2-5 s)
FLOAT64_CASES = [("LSTM", cfg) for cfg in CONFIGS] + [(k, "initial-state-bidir-lengths") for k in KINDS if k != "LSTM"]


@pytest.mark.parametrize(("kind", "cfg_name"), FLOAT64_CASES)
def test_compiled_equals_eager_float64(kind, cfg_name):
    check(kind, cfg_name, np.float64, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_compiled_equals_eager_float32(kind):
    """float32 kernels use the numba backend's rational tanh/σ: close, not bitwise."""
    check(kind, "initial-state-bidir-lengths", np.float32, rtol=2e-5, atol=2e-6)


def test_dropout_between_layers_and_hoisted_projection():
    """Dropout between stacked layers (the same mask either way, from the seed), and enough input features that
    the layer projects all steps at once outside the op (here IN >= HOIST_MIN_FEATURES)."""
    manual_seed(0)
    layer = nn.GRU(9, H, num_layers=3, dropout=0.5, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((T, B, 9))
    outs = []
    for fused in (False, True):
        manual_seed(3)
        xt = Tensor(x.copy(), requires_grad=True)
        with fusion(fused):
            out, h = layer(xt)
        loss = weighted_loss([out, h])
        assert counts(loss) == ((3, 0) if fused else (0, 0))
        loss.backward()
        outs.append((out.data, h.data, xt.grad))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_compiled_matches_torch(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tl = getattr(torch.nn, kind)(IN, H, num_layers=2, bidirectional=True).double()
    ours = getattr(nn, kind)(IN, H, num_layers=2, bidirectional=True, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in tl.state_dict().items()})
    x_np = np.random.default_rng(0).standard_normal((T, B, IN))
    x = Tensor(x_np.copy(), requires_grad=True)
    with fusion(True):
        out, state = ours(x)
    loss = weighted_loss([out, *flat(state)])
    assert counts(loss) == (4, 0)
    loss.backward()
    tx = torch.tensor(x_np, requires_grad=True)
    tout, tstate = tl(tx)
    touts = [tout, *(tstate if isinstance(tstate, tuple) else (tstate,))]
    r = np.random.default_rng(7)
    sum((o * torch.from_numpy(r.standard_normal(tuple(o.shape)))).sum() for o in touts).backward()
    for a, b in zip([out, *flat(state)], touts):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    tparams = dict(tl.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "CIFG"])
def test_gradcheck_through_compiled_layer(kind):
    manual_seed(2)
    layer = KINDS[kind](dtype=np.float64, bidirectional=True)
    r = np.random.default_rng(5)
    x = Tensor(r.standard_normal((4, 2, IN)), requires_grad=True)
    states = [Tensor(r.standard_normal((2, 2, H)), requires_grad=True) for _ in range(2 if layer.state_is_tuple else 1)]
    seen = []

    def fn(x, *hx):
        with fusion(True):
            out, state = layer(x, tuple(hx) if layer.state_is_tuple else hx[0], lengths=[4, 3])
        seen.append(counts(out)[0])
        return out, state

    assert gradcheck(fn, [x, *states], eps=1e-6, atol=1e-7, rtol=1e-5)
    assert min(seen) == 2


def test_unsupported_op_runs_step_by_step_with_the_same_numbers():
    manual_seed(0)
    layer = nn.LSTM(IN, H, cell=CumCell, dtype=np.float64)
    eager, stepped = run(layer, {}, np.float64, False), run(layer, {}, np.float64, True)
    assert stepped["counts"][0] == 0  # no loop op: step by step (a row sum reads a fused value: eagerly)
    for a, b in zip(stepped["outs"], eager["outs"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    for name in eager["grads"]:
        np.testing.assert_allclose(stepped["grads"][name], eager["grads"][name], rtol=1e-12, atol=1e-13)


def python_calls(steps: int) -> int:
    """Python function calls during one forward and backward of a 2-layer bidirectional LSTM over `steps`."""
    manual_seed(0)
    layer = nn.LSTM(IN, H, num_layers=2, bidirectional=True, dtype=np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((steps, B, IN)), requires_grad=True)
    out, (h, c) = layer(x)  # compile outside the count
    (out.sum() + h.sum() + c.sum()).backward()
    calls = [0]

    def profile(frame, event, arg):
        if event == "call":
            calls[0] += 1

    gc.disable()  # a collection runs whatever gc callbacks are registered (hypothesis has one): not our calls
    sys.setprofile(profile)
    try:
        out, (h, c) = layer(x)
        (out.sum() + h.sum() + c.sum()).backward()
    finally:
        sys.setprofile(None)
        gc.enable()
    return calls[0]


def test_no_python_per_step():
    """The same Python calls for 6 steps as for 30: the time loop (forward and backward) runs in numba."""
    assert python_calls(6) == python_calls(30)


@pytest.mark.parametrize(("cls", "opts"), [
    (LSTM, {"go_backwards": True, "return_state": True}),
    (LSTM, {"zero_output_for_mask": True, "return_sequences": True}),
    (GRU, {"go_backwards": True, "return_sequences": True, "return_state": True}),
    (SimpleRNN, {"return_state": True}),
])
def test_keras_layers_compiled_equal_eager(cls, opts):
    """The Keras front runs the same loop: masks (any pattern), go_backwards, return_state, in float64."""
    r = np.random.default_rng(0)
    x = r.standard_normal((3, T, IN))
    mask = np.ones((3, T), bool)
    mask[0, :2] = False  # pre-padded
    mask[2, 3:] = False  # post-padded
    layer = cls(H, **opts)
    layer(Tensor(x.astype(np.float32)))
    layer.double()
    results = []
    for fused in (False, True):
        xt = Tensor(x.copy(), requires_grad=True)
        with fusion(fused):
            out = layer(xt, mask=mask)
        outs = out if isinstance(out, list) else [out]
        loss = weighted_loss(outs)
        assert counts(loss) == ((1, 0) if fused else (0, 0))
        layer.cell.kernel.grad = None
        loss.backward()
        results.append([o.data for o in outs] + [xt.grad, layer.cell.kernel.grad])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_flush_denormal_reaches_the_chunk_threads():
    """set_flush_denormal(True) holds on the threads that run the chunks of a batch (MXCSR is per thread, and
    the pool's threads were started before the request)."""
    import tinygrad_lstm
    from tinygrad_lstm.kernels import pool
    from tinygrad_lstm.kernels.denormal import SUPPORTED, get_flush_denormal

    if not SUPPORTED:
        pytest.skip("flush-to-zero is an x86 register")
    seen: list[tuple[int, bool]] = []

    def probe(r0: int, r1: int) -> None:  # a chunk's work: where it ran and what it saw
        seen.append((threading.get_ident(), get_flush_denormal()))

    bounds = [(0, 4), (4, 8)]
    pool.run(probe, [], bounds)  # starts the pool's threads
    try:
        for mode in (True, False):
            seen.clear()
            assert tinygrad_lstm.set_flush_denormal(mode)
            pool.run(probe, [], bounds)
            assert len(seen) == 2 and all(flag == mode for _, flag in seen)
            assert seen[1][0] != threading.get_ident()  # the second chunk on the pool
    finally:
        tinygrad_lstm.set_flush_denormal(False)


def test_numpy_backend_and_switches_run_step_by_step():
    """The numpy backend and fusion(False) run op by op; whole_sequences(False) replays fused steps; the same
    numbers every way."""
    from tinygrad_lstm import backend
    from tinygrad_lstm.jit import sequences_enabled, whole_sequences

    manual_seed(0)
    layer = nn.GRU(IN, H, dtype=np.float64)
    compiled = run(layer, {}, np.float64, True)
    assert compiled["counts"] == (1, 0)
    with backend("numpy"):
        on_numpy = run(layer, {}, np.float64, True)  # compiling asked for, but not on this backend
    with whole_sequences(False):
        assert not sequences_enabled()
        stepped = run(layer, {}, np.float64, True)
    assert sequences_enabled()
    assert on_numpy["counts"] == (0, 0) and stepped["counts"][0] == 0 and stepped["counts"][1] >= T - 2
    for other in (on_numpy, stepped):
        for a, b in zip(other["outs"], compiled["outs"]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
        for name in compiled["grads"]:
            np.testing.assert_allclose(other["grads"][name], compiled["grads"][name], rtol=1e-12, atol=1e-13)


def test_backward_multiplies_by_w_hh_itself_unless_it_changed():
    """The compiled backward's dh += dhw W_hh uses W_hh's own array (the layer names it as the transpose of its
    W_hhᵀ); an in-place write to W_hh between forward and backward makes the backward raise, as the eager one
    and torch's (the forward multiplied by a view of W_hh: the values it used are gone)."""
    from tinygrad_lstm import autograd
    from tinygrad_lstm.jit import sequence

    used = []
    orig = sequence.Recurrence._transposed

    def spy(self, w, k):
        used.append(orig(self, w, k))
        return used[-1]

    manual_seed(0)
    layer = nn.LSTM(IN, H, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((T, B, IN))

    def grads(compiled: bool, write: bool) -> list:
        layer.zero_grad()
        with fusion(compiled):
            out, _ = layer(Tensor(x))
        if write:  # the same values, but an in-place write: W_hh's version moves past the forward
            layer.weight_hh_l0.data[...] += 0.0
            autograd.bump_version(layer.weight_hh_l0)
        (out * out).sum().backward()
        return [p.grad.copy() for p in layer.parameters()]

    want = grads(False, False)
    sequence.Recurrence._transposed = spy
    try:
        got = grads(True, False)
        assert used[-1] is layer.weight_hh_l0.data
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
        for compiled in (True, False):
            with pytest.raises(RuntimeError, match=r"saved for its gradient .*changed in place"):
                grads(compiled, True)
    finally:
        sequence.Recurrence._transposed = orig
    torch = pytest.importorskip("torch")
    tw = torch.nn.LSTM(IN, H)
    out, _ = tw(torch.zeros(T, B, IN))
    with torch.no_grad():
        tw.weight_hh_l0.add_(0.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


class MaskedCell(CIFGCell):
    """A cell reading a (batch, hidden) tensor made outside its step (a fixed per-row mask on h): its one-row
    trace broadcasts that tensor, and must still compile to the full batch's numbers."""

    mask: Tensor | None = None

    def step(self, xw, state):
        h, c = super().step(xw, state)
        return h * self.mask, c


class BranchingCell(CIFGCell):
    """A step that branches on the batch size: its one-row trace keys differently, and the step is traced in full."""

    def step(self, xw, state):
        h, c = super().step(xw, state)
        return (h * 2 if xw.shape[0] == 1 else h), c


class OneRowFailingCell(CIFGCell):
    """A step that cannot run on one row (as a Keras cell's recurrent dropout mask, reshaped by the batch size)."""

    def step(self, xw, state):
        if xw.shape[0] == 1:
            raise ValueError("needs the whole batch")
        return super().step(xw, state)


@pytest.mark.parametrize("cell", [MaskedCell, BranchingCell, OneRowFailingCell])
def test_second_call_from_a_one_row_trace_equals_eager(cell):
    """Calls after the first trace the step on one row (nn/loop._plan); with a batch-shaped outside tensor, or a
    step that a one-row trace cannot stand for, the compiled layer still gives the eager numbers on every call."""
    from tinygrad_lstm.nn import loop

    manual_seed(0)
    layer = nn.LSTM(IN, H, cell=cell, dtype=np.float64)
    rng = np.random.default_rng(1)
    for c in layer.cells[0]:
        object.__setattr__(c, "mask", Tensor((rng.random((B, H)) > 0.3).astype(np.float64)))
    traced_rows: list[int] = []
    orig = loop._trace_step
    loop._trace_step = lambda step, xs, state, t, rows=None: traced_rows.append(rows) or orig(step, xs, state, t, rows)
    try:
        results = [run(layer, {}, np.float64, True)]
        first_call, traced_rows[:] = traced_rows[:], []
        results += [run(layer, {}, np.float64, True), run(layer, {}, np.float64, False)]
    finally:
        loop._trace_step = orig
    assert first_call == [1, None, None]  # nothing compiled yet: the one-row trace finds no plan
    for fused in results[:2]:
        assert fused["counts"][0] == 1  # compiled, both calls
        for a, b in zip(fused["outs"], results[2]["outs"]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
        for name in results[2]["grads"]:
            np.testing.assert_allclose(fused["grads"][name], results[2]["grads"][name], rtol=1e-12, atol=1e-13)
    assert traced_rows == ([1] if cell is MaskedCell else [1, None])  # the second call's traces
