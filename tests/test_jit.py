"""tinygrad_lstm.jit: trace, plan (generated numba kernels), Fused, CompiledStep and Stepper.

The references: the eager op-by-op path (``with fusion(False)``), PyTorch with copied weights, finite differences
(`gradcheck`, float64) and numbers computed by hand in numpy. Every fused run also checks that fusion happened
(`Fused` nodes in the graph), so that a silent fallback to eager cannot make a comparison pass trivially.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from graph_support import graph_nodes

from tinygrad_lstm import Tensor, backend, gradcheck, manual_seed, nn, no_grad
from tinygrad_lstm.jit import (
    CompiledStep,
    Fused,
    Ref,
    Stepper,
    Trace,
    fusion,
    fusion_enabled,
    plan,
    trace,
    whole_sequences,
)
from tinygrad_lstm.ops import elementwise as E
from tinygrad_lstm.ops import movement as M
from tinygrad_lstm.ops.matmul import MatMul

needs_fusion = pytest.mark.skipif(not fusion_enabled(), reason="fusion needs the numba backend and FUSE on")

T, B, IN, H = 5, 2, 3, 4


@pytest.fixture(autouse=True)
def _step_by_step():
    """These tests are about one step replayed fused (Stepper, Fused), the path of a cell the whole-sequence
    compiler does not take; test_sequence.py covers the compiled loop."""
    with whole_sequences(False):
        yield


# ---------------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------------


def n_fused(*roots: Tensor) -> int:
    seen: set[int] = set()
    count = 0
    for r in roots:
        for node in graph_nodes(r):
            if id(node) not in seen:
                seen.add(id(node))
                count += isinstance(node, Fused)
    return count


def weighted_loss(outs: list[Tensor], seed: int = 7) -> Tensor:
    """Σ w·out with fixed random w (in each output's dtype): every output element reaches the gradients."""
    r = np.random.default_rng(seed)
    total = None
    for o in outs:
        term = (o * Tensor(r.standard_normal(o.shape).astype(o.dtype))).sum()
        total = term if total is None else total + term
    return total


def flat(state: Any) -> list[Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


LAYERS: dict[str, Callable[..., nn.RNNBase]] = {
    "LSTM": lambda **kw: nn.LSTM(IN, H, **kw),
    "GRU": lambda **kw: nn.GRU(IN, H, **kw),
    "RNN-tanh": lambda **kw: nn.RNN(IN, H, nonlinearity="tanh", **kw),
    "RNN-relu": lambda **kw: nn.RNN(IN, H, nonlinearity="relu", **kw),
    "Peephole": lambda **kw: nn.LSTM(IN, H, cell=nn.PeepholeLSTMCell, **kw),
}

CONFIGS = {
    "plain": {},
    "2layers-bidir": {"num_layers": 2, "bidirectional": True},
    "batch_first-lengths": {"batch_first": True, "lengths": [T, 3, 1]},
    "unbatched": {"unbatched": True},
    "initial-state-bidir-lengths": {"bidirectional": True, "hx": True, "lengths": [2, T, 4]},
    "initial-state-2layers-batch_first": {"num_layers": 2, "batch_first": True, "hx": True},
}


def layer_inputs(layer: nn.RNNBase, cfg: dict, dtype: Any, seed: int) -> tuple[Tensor, Any, np.ndarray | None]:
    """A config's input x, initial state (or None) and lengths (or None) for `layer`, drawn from `seed`."""
    r = np.random.default_rng(seed)
    unbatched = cfg.get("unbatched", False)
    batch = 1 if unbatched else (len(cfg["lengths"]) if "lengths" in cfg else B)
    shape = (T, IN) if unbatched else ((batch, T, IN) if cfg.get("batch_first") else (T, batch, IN))
    x = Tensor(r.standard_normal(shape).astype(dtype), requires_grad=True)
    hx = None
    if cfg.get("hx"):
        n = layer.num_layers * layer.num_directions
        hs = [Tensor(r.standard_normal((n, batch, H)).astype(dtype), requires_grad=True)
              for _ in range(2 if layer.state_is_tuple else 1)]
        hx = tuple(hs) if layer.state_is_tuple else hs[0]
    return x, hx, (np.asarray(cfg["lengths"]) if "lengths" in cfg else None)


def run_layer(layer: nn.RNNBase, cfg: dict, dtype: Any, fused: bool, seed: int = 0) -> dict[str, Any]:
    """One forward and backward of `layer` on a fixed input; its outputs, every gradient and the Fused count."""
    layer.zero_grad()
    x, hx, lengths = layer_inputs(layer, cfg, dtype, seed)
    with fusion(fused):
        out, state = layer(x, hx, lengths=lengths)
    outs = [out, *flat(state)]
    loss = weighted_loss(outs)
    count = n_fused(loss)
    loss.backward()
    grads = {"x": x.grad.copy()}
    for k, h in enumerate(flat(hx) if hx is not None else []):
        grads[f"hx{k}"] = h.grad.copy()
    grads.update({name: p.grad.copy() for name, p in layer.named_parameters()})
    return {"outs": [o.data.copy() for o in outs], "grads": grads, "fused": count}


def assert_fused_count(count: int, layer: nn.RNNBase) -> None:
    """Each layer and direction traces its first steps eagerly (step 0 at least: a trace is trusted only once a
    second one agrees with it) and replays the rest fused: between T-2 and T-1 fused steps per direction."""
    n = layer.num_layers * layer.num_directions
    assert n * (T - 2) <= count <= n * (T - 1), (count, n)


def assert_same_run(fused: dict, eager: dict, rtol: float, atol: float) -> None:
    assert len(fused["outs"]) == len(eager["outs"])
    for a, b in zip(fused["outs"], eager["outs"]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert fused["grads"].keys() == eager["grads"].keys()
    for name in eager["grads"]:
        np.testing.assert_allclose(fused["grads"][name], eager["grads"][name], rtol=rtol, atol=atol, err_msg=name)


# ---------------------------------------------------------------------------------------------------------------
# 1. fused layers against the eager path
# ---------------------------------------------------------------------------------------------------------------


# every kind with every config, but unbatched (batch 1: kernels specialized anew, ~1 s each) for three kinds only
FLOAT64_CASES = [(kind, cfg) for kind in LAYERS for cfg in CONFIGS
                 if cfg != "unbatched" or kind in ("LSTM", "GRU", "RNN-tanh")]


def fused_and_eager(kind: str, cfg_name: str, dtype, seed: int) -> tuple[dict, dict]:
    cfg = CONFIGS[cfg_name]
    manual_seed(seed)
    kw = {k: v for k, v in cfg.items() if k in ("num_layers", "bidirectional", "batch_first")}
    layer = LAYERS[kind](dtype=dtype, **kw)
    eager = run_layer(layer, cfg, dtype, fused=False)
    fused = run_layer(layer, cfg, dtype, fused=True)
    assert eager["fused"] == 0
    assert_fused_count(fused["fused"], layer)
    return fused, eager


@needs_fusion
@pytest.mark.parametrize(("kind", "cfg_name"), FLOAT64_CASES)
def test_fused_layer_equals_eager_float64(kind, cfg_name):
    fused, eager = fused_and_eager(kind, cfg_name, np.float64, seed=0)
    assert_same_run(fused, eager, rtol=1e-12, atol=1e-13)


@needs_fusion
@pytest.mark.parametrize("cfg_name", ["plain", "initial-state-bidir-lengths"])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_fused_layer_equals_eager_float32(kind, cfg_name):
    """float32 kernels use the rational tanh/σ of the numba backend (|err| < 3e-7): close, not bitwise."""
    fused, eager = fused_and_eager(kind, cfg_name, np.float32, seed=1)
    assert all(o.dtype == np.float32 for o in fused["outs"])
    assert all(g.dtype == np.float32 for g in fused["grads"].values())
    assert_same_run(fused, eager, rtol=1e-4, atol=1e-5)


@needs_fusion
def test_later_sequences_reuse_the_plan():
    """Sequences after the first (new W_hhᵀ, new Stepper, a structure planned before) give the eager numbers too,
    and at least as many fused steps as the first."""
    manual_seed(0)
    layer = nn.LSTM(IN, H, dtype=np.float64)
    first = run_layer(layer, {}, np.float64, fused=True)
    assert_fused_count(first["fused"], layer)
    for seed in (3, 4):
        again = run_layer(layer, {}, np.float64, fused=True, seed=seed)
        eager = run_layer(layer, {}, np.float64, fused=False, seed=seed)
        assert first["fused"] <= again["fused"] <= T - 1
        assert_same_run(again, eager, rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------------------------------------------
# 2. against PyTorch
# ---------------------------------------------------------------------------------------------------------------


@needs_fusion
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_lstm_matches_torch(bidirectional):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    steps = 6
    tl = torch.nn.LSTM(IN, H, num_layers=2, bidirectional=bidirectional).double()
    ours = nn.LSTM(IN, H, num_layers=2, bidirectional=bidirectional, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in tl.state_dict().items()})
    x_np = np.random.default_rng(0).standard_normal((steps, B, IN))

    x = Tensor(x_np.copy(), requires_grad=True)
    with fusion(True):
        out, (h_n, c_n) = ours(x)
    loss = weighted_loss([out, h_n, c_n])
    n = ours.num_layers * ours.num_directions
    assert n * (steps - 2) <= n_fused(loss) <= n * (steps - 1)
    loss.backward()

    tx = torch.tensor(x_np, requires_grad=True)
    tout, (th, tc) = tl(tx)
    r = np.random.default_rng(7)
    tloss = sum((o * torch.from_numpy(r.standard_normal(tuple(o.shape)))).sum() for o in (tout, th, tc))
    tloss.backward()

    for a, b in zip((out, h_n, c_n), (tout, th, tc)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-6, atol=1e-10)
    tparams = dict(tl.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    assert sorted(names) == sorted(tparams)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), rtol=1e-6, atol=1e-10, err_msg=name)


# ---------------------------------------------------------------------------------------------------------------
# 3. finite differences through fused layers
# ---------------------------------------------------------------------------------------------------------------


@needs_fusion
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "Peephole"])
def test_gradcheck_through_fused_layer(kind):
    steps, batch, inp, hid = 4, 2, 2, 3
    manual_seed(2)
    make = {"LSTM": lambda: nn.LSTM(inp, hid, dtype=np.float64), "GRU": lambda: nn.GRU(inp, hid, dtype=np.float64),
            "Peephole": lambda: nn.LSTM(inp, hid, cell=nn.PeepholeLSTMCell, dtype=np.float64)}[kind]
    layer = make()
    r = np.random.default_rng(5)
    x = Tensor(r.standard_normal((steps, batch, inp)), requires_grad=True)
    states = [Tensor(r.standard_normal((1, batch, hid)), requires_grad=True)
              for _ in range(2 if layer.state_is_tuple else 1)]
    counts = []

    def fn(x, *hx):
        with fusion(True):
            out, state = layer(x, tuple(hx) if layer.state_is_tuple else hx[0])
        counts.append(n_fused(out))
        return out, state

    assert gradcheck(fn, [x, *states], eps=1e-6, atol=1e-7, rtol=1e-5)
    assert max(counts) >= steps - 2  # the analytic gradient went through Fused nodes


# ---------------------------------------------------------------------------------------------------------------
# 4. generated kernels: trace + plan on hand-written steps
# ---------------------------------------------------------------------------------------------------------------


def leaf(a: np.ndarray) -> Tensor:
    return Tensor(a.copy(), requires_grad=True)


def forward_backward(fn: Callable, arrays: list[np.ndarray], n_inputs: int, compiled: bool):
    """Run `fn` (eagerly, or by replaying its plan) on fresh leaves; the outputs, every leaf's grad, #Fused.

    The first `n_inputs` arrays are the step's inputs; the rest are closed-over externals, passed to `fn` via
    the `ext` keyword (fresh leaves every run)."""
    leaves = [leaf(a) for a in arrays]
    ins, ext = leaves[:n_inputs], leaves[n_inputs:]

    def step(*args):
        return fn(*args, ext=ext)

    if compiled:
        _, tr = trace(step, *ins)
        assert tr is not None
        group = plan(tr)
        assert group is not None
        outs = CompiledStep(tr, group)(ins)
    else:
        res = step(*ins)
        outs = flat(res)
    loss = weighted_loss(outs, seed=11)
    count = n_fused(loss)
    loss.backward()
    return [o.data.copy() for o in outs], [t.grad for t in leaves], count


def rich_step(x, h, ext):
    """Sub, Div, Neg, Exp, Log, Relu, Tanh, Sigmoid; an (H,) vector, a (B,1) column, a () scalar (all learnable),
    Python constants; column slices at offsets 0, 3 (multiples of the width 3), 1 and 4 (not), one nested."""
    v, col, alpha = ext
    a = x[:, 0:3]
    b = x[:, 3:6]
    c = x[:, 1:4]
    d = x[:, -3:]  # columns 4…6
    e = x[:, 1:7][:, 2:5]  # columns 3…5, through two slices
    y = ((a - b) / (c.exp() + 1.5) + (-(d * v)).relu() * col).named("y")
    z = ((h * h + 0.5).log() * alpha - e.sigmoid() / 2.0 + (y * col).tanh()).named("z")
    return y, z


def rich_arrays(dtype: Any = np.float64) -> list[np.ndarray]:
    r = np.random.default_rng(3)
    return [a.astype(dtype) for a in (r.standard_normal((4, 7)), r.standard_normal((4, 3)),  # x, h
                                      r.standard_normal(3), r.standard_normal((4, 1)), np.asarray(0.7))]


def test_rich_step_plan_structure():
    arrays = rich_arrays()
    ins = [Tensor(a) for a in arrays[:2]]
    ext = [Tensor(a, requires_grad=True) for a in arrays[2:]]
    _, tr = trace(lambda x, h: rich_step(x, h, ext), *ins)
    group = plan(tr)
    assert group is not None
    assert group.grid == (4, 3)
    assert group.names == ["y", "z"]
    # the width and every column offset are literals of the generated source
    assert "for j in range(3):" in group.source
    assert all(f"j + {o}]" in group.source for o in (1, 3, 4))
    fused_ops = {tr.ops[i].op for i in group.members}
    assert {E.Sub, E.Div, E.Neg, E.Exp, E.Log, E.Relu, E.Tanh, E.Sigmoid, E.Add, E.Mul, M.GetItem} <= fused_ops
    # every op is fused: nothing runs before the group
    assert group.members == list(range(len(tr.ops)))
    # read from memory: x, h, v, col, alpha and the three Python constants (1.5, 0.5, 2.0)
    assert set(group.params) == {Ref("in", 0), Ref("in", 1)} | {Ref("ext", k) for k in range(6)}
    assert sorted(tr.externals[r.index].data.item() for r in group.params if r.kind == "ext"
                  and tr.externals[r.index].data.size == 1) == [0.5, 0.7, 1.5, 2.0]


@needs_fusion
def test_rich_step_fused_equals_eager_float64():
    arrays = rich_arrays()
    outs_e, grads_e, n_e = forward_backward(rich_step, arrays, 2, compiled=False)
    outs_f, grads_f, n_f = forward_backward(rich_step, arrays, 2, compiled=True)
    assert n_e == 0 and n_f == 1
    for a, b in zip(outs_f, outs_e):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
    for name, a, b in zip(["x", "h", "v (H,)", "col (B,1)", "alpha ()"], grads_f, grads_e):
        assert a is not None and a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13, err_msg=name)


@needs_fusion
def test_rich_step_fused_equals_eager_float32():
    arrays = rich_arrays(np.float32)
    outs_e, grads_e, _ = forward_backward(rich_step, arrays, 2, compiled=False)
    outs_f, grads_f, n_f = forward_backward(rich_step, arrays, 2, compiled=True)
    assert n_f == 1
    for a, b in zip(outs_f, outs_e):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for a, b in zip(grads_f, grads_e):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_rich_step_hand_computed():
    """The eager reference itself, against the formulas in numpy (so the kernels are held to the math)."""
    x, h, v, col, alpha = rich_arrays()
    y, z = rich_step(Tensor(x), Tensor(h), [Tensor(v), Tensor(col), Tensor(alpha)])
    a, b, c, d, e = x[:, 0:3], x[:, 3:6], x[:, 1:4], x[:, 4:7], x[:, 3:6]
    y_np = (a - b) / (np.exp(c) + 1.5) + np.maximum(-(d * v), 0) * col
    z_np = np.log(h * h + 0.5) * alpha - 1 / (1 + np.exp(-e)) / 2.0 + np.tanh(y_np * col)
    np.testing.assert_allclose(y.data, y_np, rtol=1e-13)
    np.testing.assert_allclose(z.data, z_np, rtol=1e-13)


@needs_fusion
def test_fused_apply_and_expand_agree():
    """`Fused.apply` on the group's params and `group.expand` (the fused ops run eagerly) give the same outputs."""
    arrays = rich_arrays()
    ins = [Tensor(a) for a in arrays[:2]]
    ext = [Tensor(a) for a in arrays[2:]]
    _, tr = trace(lambda x, h: rich_step(x, h, ext), *ins)
    group = plan(tr)

    def params() -> list[Tensor]:
        return [ins[r.index] if r.kind == "in" else tr.externals[r.index] for r in group.params]

    z = Fused.apply(*params(), group=group)
    assert z.shape == (2, 4, 3)  # two outputs stacked on a new leading axis
    expanded = group.expand(params())
    assert [t.name for t in expanded] == ["y", "z"]
    for k, t in enumerate(expanded):
        np.testing.assert_allclose(z.data[k], t.data, rtol=1e-13, atol=1e-14)


@needs_fusion
def test_same_instance_used_twice():
    """x * x: one variable read twice; d/dx (x·x·h) = 2·x·h, d/dh = x²."""
    def step(x, h, ext):
        return (x * x * h).named("y")

    r = np.random.default_rng(4)
    arrays = [r.standard_normal((3, 5)), r.standard_normal((3, 5))]
    outs_f, grads_f, n_f = forward_backward(step, arrays, 2, compiled=True)
    outs_e, grads_e, _ = forward_backward(step, arrays, 2, compiled=False)
    assert n_f == 1
    x, h = arrays
    w = np.random.default_rng(11).standard_normal((3, 5))  # the weights of weighted_loss(seed=11)
    np.testing.assert_allclose(outs_f[0], x * x * h, rtol=1e-14)
    np.testing.assert_allclose(grads_f[0], 2 * x * h * w, rtol=1e-13)
    np.testing.assert_allclose(grads_f[1], x * x * w, rtol=1e-13)
    for a, b in zip(grads_f, grads_e):
        np.testing.assert_allclose(a, b, rtol=1e-13)


@needs_fusion
def test_lstm_step_gate_gradients_share_slabs_correctly():
    """gates = xw + hw: both params get one gradient array from the kernel; the engine must not add into it."""
    manual_seed(0)
    cell = nn.LSTMCell(IN, H, dtype=np.float64)
    r = np.random.default_rng(8)
    arrays = [r.standard_normal((B, 4 * H)), r.standard_normal((B, H)), r.standard_normal((B, H))]

    def run(compiled: bool):
        xw, h, c = (leaf(a) for a in arrays)
        w = leaf(cell.weight_hh.data.T)
        object.__setattr__(cell, "_weight_hh_t", w)
        try:
            if compiled:
                _, tr = trace(cell.step, xw, (h, c))
                outs = CompiledStep(tr, plan(tr))([xw, h, c])
            else:
                outs = list(cell.step(xw, (h, c)))
        finally:
            object.__setattr__(cell, "_weight_hh_t", None)
        loss = weighted_loss(outs) + (xw * xw).sum()  # xw gets a second gradient besides the fused one
        count = n_fused(loss)
        loss.backward()
        return [o.data for o in outs], [t.grad for t in (xw, h, c, w)], count

    outs_f, grads_f, n_f = run(True)
    outs_e, grads_e, n_e = run(False)
    assert (n_f, n_e) == (1, 0)
    for a, b in zip(outs_f + grads_f, outs_e + grads_e):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_plan_returns_none_when_nothing_fits():
    r = np.random.default_rng(0)
    x, h = Tensor(r.standard_normal((2, 3))), Tensor(r.standard_normal((2, 3)))
    w = Tensor(r.standard_normal((3, 3)))
    cases = {
        "single op": lambda x, h: x + h,  # one fusable op: nothing to gain
        "softmax output": lambda x, h: (x + h).tanh().softmax(-1),  # the output is not elementwise
        "unfused reads fused": lambda x, h: (lambda t: (t, t @ w))((x + h).tanh()),
        "fusable non-member reads fused": lambda x, h: (lambda t: (t, (t * 2) @ w))((x + h).tanh()),
        "dead fused op": lambda x, h: (lambda a: ((a * h).tanh(), a.exp() @ w))(x + h),
        "3-D output": lambda x, h: (x.reshape(2, 3, 1) * 2 + h.reshape(2, 3, 1)),
        "1-D output": lambda x, h: (x[0] * 2 + h[0]),
        "mixed dtypes": lambda x, h: ((x.astype(np.float32) * 2).tanh(), (h * 2).tanh()),
    }
    for name, fn in cases.items():
        _, tr = trace(fn, x, h)
        assert tr is not None, name
        assert plan(tr) is None, name
    # without the extra readers the same chains do plan
    for fn in (lambda x, h: (x + h).tanh(), lambda x, h: ((x + h) * h).tanh(),
               lambda x, h: (x + h).tanh().clip(-0.5, 0.5)):  # every elementwise op fuses, from its definition
        _, tr = trace(fn, x, h)
        assert plan(tr) is not None


# ---------------------------------------------------------------------------------------------------------------
# 5. fallbacks
# ---------------------------------------------------------------------------------------------------------------


def run_stepper(step: Callable, xs: list[Tensor], h0: Tensor, stepper: Stepper | None = None) -> list[Tensor]:
    s = stepper or Stepper(step, enabled=True)
    h, hs = h0, []
    for x in xs:
        h = s(x, h)
        hs.append(h)
    return hs


@needs_fusion
def test_fresh_random_mask_is_never_replayed():
    r = np.random.default_rng(0)
    W = Tensor(r.standard_normal((5, 5)), requires_grad=True)
    masks: list[np.ndarray] = []
    mask_rng = np.random.default_rng(42)

    def step(x, h):
        m = Tensor((mask_rng.random((3, 5)) > 0.5).astype(np.float64))  # a new mask every call
        masks.append(m.data)
        return ((x + h @ W).tanh() * m).named("h_t")

    xs = [Tensor(r.standard_normal((3, 5))) for _ in range(6)]
    h0 = Tensor(r.standard_normal((3, 5)))
    s = Stepper(step, enabled=True)
    hs = run_stepper(step, xs, h0, s)
    assert len(masks) == len(xs)  # the function ran at every step: nothing replayed
    assert s.compiled is None and not s.active  # gave up after max_traces disagreeing traces
    assert n_fused(weighted_loss(hs)) == 0
    # the eager semantics, by hand
    h = h0.data
    for x, m, got in zip(xs, masks, hs):
        h = np.tanh(x.data + h @ W.data) * m
        np.testing.assert_allclose(got.data, h, rtol=1e-13)
    assert not all(np.array_equal(masks[0], m) for m in masks[1:])


@needs_fusion
def test_planned_structure_does_not_freeze_a_fresh_mask():
    """A zoneout-like step: a fixed expectation tensor in eval (replayed), a fresh mask per call in training, the same
    structure. The eval sequence's plan must not make the training sequence replay its first mask."""
    r = np.random.default_rng(13)
    W = Tensor(r.standard_normal((3, 3)), requires_grad=True)
    keep = Tensor(np.full((2, 3), 0.5))
    mask_rng = np.random.default_rng(0)
    masks: list[np.ndarray] = []

    def zoneout_step(x, h, training: bool):
        m = Tensor((mask_rng.random((2, 3)) > 0.5).astype(np.float64)) if training else keep
        if training:
            masks.append(m.data)
        return ((x + h @ W).tanh() * m + h * (1 - m)).named("h_t")

    xs = [Tensor(r.standard_normal((2, 3))) for _ in range(5)]
    h0 = Tensor(np.zeros((2, 3)))
    evals = run_stepper(lambda x, h: zoneout_step(x, h, False), xs, h0)  # eval: a fixed expectation, replayed
    assert n_fused(evals[-1]) >= len(xs) - 2
    hs = run_stepper(lambda x, h: zoneout_step(x, h, True), xs, h0)  # training: fresh masks
    assert len(masks) == len(xs)  # the function ran (and drew a mask) at every training step
    h = h0.data
    for x, m, got in zip(xs, masks, hs):
        h = np.tanh(x.data + h @ W.data) * m + h * (1 - m)
        np.testing.assert_allclose(got.data, h, rtol=1e-13)


@needs_fusion
def test_constant_change_breaks_match_and_stays_eager():
    """A scalar that changes every call (a decay γᵗ) is part of what the step computes: never replayed."""
    r = np.random.default_rng(1)
    W = Tensor(r.standard_normal((4, 4)), requires_grad=True)
    calls = []

    def step(x, h):
        calls.append(1)
        return ((x + h @ W).tanh() * (0.9 ** len(calls))).named("h_t")

    xs = [Tensor(r.standard_normal((2, 4))) for _ in range(5)]
    h0 = Tensor(np.zeros((2, 4)))
    hs = run_stepper(step, xs, h0)
    assert len(calls) == len(xs)
    h = h0.data
    for k, (x, got) in enumerate(zip(xs, hs), start=1):
        h = np.tanh(x.data + h @ W.data) * 0.9 ** k
        np.testing.assert_allclose(got.data, h, rtol=1e-13)


@needs_fusion
def test_unsupported_op_feeding_outputs_stays_eager_and_correct():
    r = np.random.default_rng(2)
    W = Tensor(r.standard_normal((4, 4)) * 0.5, requires_grad=True)

    def step(x, h):
        return (x + h @ W).tanh().softmax(-1).named("h_t")  # softmax is not elementwise: not fused

    xs = [Tensor(r.standard_normal((2, 4)), requires_grad=True) for _ in range(5)]
    h0 = Tensor(np.zeros((2, 4)))
    s = Stepper(step, enabled=True)
    hs = run_stepper(step, xs, h0, s)
    assert s.compiled is None and not s.active  # planned to None: stays eager
    loss = weighted_loss(hs)
    assert n_fused(loss) == 0
    h = h0.data
    for x, got in zip(xs, hs):
        e = np.exp(np.tanh(x.data + h @ W.data))
        h = e / e.sum(-1, keepdims=True)
        np.testing.assert_allclose(got.data, h, rtol=1e-13)
    loss.backward()
    assert all(x.grad is not None for x in xs)


@needs_fusion
def test_unsupported_op_before_the_group_runs_first():
    """softmax of the input is an unfused op feeding the fused ones: it runs before the group, results as eager."""
    r = np.random.default_rng(3)
    W0 = r.standard_normal((4, 4)) * 0.5
    x_np = [r.standard_normal((2, 4)) * 2 for _ in range(5)]

    def run(enabled: bool):
        W = leaf(W0)
        xs = [leaf(a) for a in x_np]

        def step(x, h):
            return ((x.softmax(-1) + h @ W).tanh() * 0.5 + h * 0.5).named("h_t")

        s = Stepper(step, enabled=enabled)
        hs = run_stepper(step, xs, Tensor(np.zeros((2, 4))), s)
        loss = weighted_loss(hs)
        count = n_fused(loss)
        loss.backward()
        return [h.data for h in hs] + [W.grad] + [x.grad for x in xs], count, s

    fused, n_f, s = run(True)
    eager, n_e, _ = run(False)
    assert n_e == 0 and len(x_np) - 2 <= n_f <= len(x_np) - 1
    ops = s.compiled.trace.ops
    soft = [i for i, rec in enumerate(ops) if rec.op.__name__ == "Softmax"]
    assert len(soft) == 1 and soft[0] not in s.compiled.group.members  # Softmax runs unfused, before the group
    assert ops[-1].op is E.Add and len(ops) - 1 in s.compiled.group.members
    for a, b in zip(fused, eager):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@needs_fusion
def test_numpy_backend_and_fusion_off_run_eagerly():
    manual_seed(0)
    layer = nn.LSTM(IN, H, dtype=np.float64)
    ref = run_layer(layer, {}, np.float64, fused=True)
    assert_fused_count(ref["fused"], layer)
    with backend("numpy"):
        assert not fusion_enabled()
        on_numpy = run_layer(layer, {}, np.float64, fused=True)  # fusion requested, but not on this backend
    assert on_numpy["fused"] == 0
    assert_same_run(on_numpy, ref, rtol=1e-12, atol=1e-13)
    with fusion(False):
        assert not fusion_enabled()
        off = run_layer(layer, {}, np.float64, fused=False)
    assert off["fused"] == 0
    assert fusion_enabled()


def test_fuse_environment_variable_turns_fusion_off():
    code = "from tinygrad_lstm.jit import fusion_enabled; print(fusion_enabled())"
    env = {**os.environ, "TINYGRAD_LSTM_FUSE": "0", "TINYGRAD_LSTM_BACKEND": "numba"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@needs_fusion
def test_other_shapes_at_replay_run_eagerly():
    r = np.random.default_rng(4)
    W = Tensor(r.standard_normal((3, 3)), requires_grad=True)

    def step(x, h):
        return ((x + h @ W).tanh() * 0.5 + h).named("h_t")

    s = Stepper(step, enabled=True)
    run_stepper(step, [Tensor(r.standard_normal((2, 3))) for _ in range(3)], Tensor(np.zeros((2, 3))), s)
    assert s.compiled is not None
    x2, h2 = Tensor(r.standard_normal((2, 3)), requires_grad=True), Tensor(r.standard_normal((2, 3)))
    assert isinstance(s(x2, h2)._ctx, Fused)  # the traced batch size: replayed
    x3, h3 = Tensor(r.standard_normal((5, 3)), requires_grad=True), Tensor(r.standard_normal((5, 3)))
    out = s(x3, h3)
    assert out.shape == (5, 3)
    assert n_fused(out) == 0
    np.testing.assert_allclose(out.data, np.tanh(x3.data + h3.data @ W.data) * 0.5 + h3.data, rtol=1e-13)


def test_stepper_disabled_never_traces():
    calls = []

    def step(x, h):
        calls.append(1)
        return (x * h).tanh() + h

    s = Stepper(step, enabled=False)
    x = Tensor(np.ones((2, 2)))
    for _ in range(4):
        s(x, Tensor(np.ones((2, 2))))
    assert len(calls) == 4 and s.compiled is None and s._traces == 0


# ---------------------------------------------------------------------------------------------------------------
# 6. Trace
# ---------------------------------------------------------------------------------------------------------------


def test_trace_records_refs_names_and_outputs():
    r = np.random.default_rng(6)
    W = Tensor(r.standard_normal((3, 3)), requires_grad=True, name="W")
    bias = Tensor(r.standard_normal(3))
    x, h, c = (Tensor(r.standard_normal((2, 3))) for _ in range(3))

    def step(x, state):
        h, c = state
        a = (x + h @ W).named("a_t")
        c2 = (a.sigmoid() * c + bias)
        c2.named("c_t")  # named after the op ran: read at the end of the trace
        return c2.tanh().named("h_t"), c2

    result, tr = trace(step, x, (h, c))
    assert isinstance(tr, Trace)
    assert tr.input_shapes == ((2, 3),) * 3 and tr.input_dtypes == (np.dtype(np.float64),) * 3
    assert [o.op for o in tr.ops] == [MatMul, E.Add, E.Sigmoid, E.Mul, E.Add, E.Tanh]
    assert [o.args for o in tr.ops] == [
        (Ref("in", 1), Ref("ext", 0)),  # h @ W
        (Ref("in", 0), Ref("op", 0)),  # x + …
        (Ref("op", 1),),
        (Ref("op", 2), Ref("in", 2)),  # σ(a) * c
        (Ref("op", 3), Ref("ext", 1)),  # … + bias
        (Ref("op", 4),),
    ]
    assert tr.externals[0] is W and tr.externals[1] is bias and len(tr.externals) == 2
    assert [o.name for o in tr.ops] == [None, "a_t", None, None, "c_t", "h_t"]
    assert all(o.shape == (2, 3) and o.dtype == np.float64 for o in tr.ops)
    assert tr.outputs == (Ref("op", 5), Ref("op", 4)) and tr.tuple_out
    assert isinstance(result, tuple) and result[1].name == "c_t"


def test_trace_returns_none_when_not_describable():
    x = Tensor(np.ones((2, 2)))
    h = Tensor(np.ones((2, 2)))
    res, tr = trace(lambda x, s: s[0] * x + s[1], x, (h, h))  # one tensor passed twice
    assert tr is None and np.array_equal(res.data, np.full((2, 2), 2.0))
    res, tr = trace(lambda x, h: ((x * h).sum().item(), x), x, h)  # not made of Tensors
    assert tr is None and res[0] == 4.0
    res, tr = trace(lambda x, h: x, x, h)  # an input returned as is: a trace without ops
    assert tr is not None and tr.ops == [] and tr.outputs == (Ref("in", 0),) and not tr.tuple_out


def test_trace_output_made_outside_is_external():
    x, h = Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2)))
    other = Tensor(np.zeros((2, 2)))
    _, tr = trace(lambda x, h: ((x * h).tanh(), other), x, h)
    assert tr.outputs[1] == Ref("ext", 0) and tr.externals[0] is other


def test_trace_restores_tracer_after_an_exception():
    from tinygrad_lstm import autograd

    def bad(x, h):
        _ = x * h
        raise KeyError("boom")

    with pytest.raises(KeyError):
        trace(bad, Tensor(np.ones(2)), Tensor(np.ones(2)))
    assert autograd._mode.tracer is None


def test_matches_and_key():
    r = np.random.default_rng(7)
    W1 = Tensor(r.standard_normal((3, 3)), requires_grad=True)
    W2 = Tensor(r.standard_normal((3, 3)), requires_grad=True)
    x, h = Tensor(r.standard_normal((2, 3))), Tensor(r.standard_normal((2, 3)))

    def make(W, k):
        return lambda x, h: ((x + h @ W).tanh() * k).named("h_t")

    _, a = trace(make(W1, 0.5), x, h)
    _, a2 = trace(make(W1, 0.5), Tensor(r.standard_normal((2, 3))), Tensor(r.standard_normal((2, 3))))
    _, b = trace(make(W2, 0.5), x, h)
    _, c = trace(make(W1, 2.0), x, h)
    _, d = trace(make(W1, 0.5), Tensor(r.standard_normal((4, 3))), Tensor(r.standard_normal((4, 3))))
    # the same ops on the same W, a new (equal) constant each call: matches
    assert a.matches(a2) and a2.matches(a) and a.key == a2.key
    # another W (same shape): no match, but the same structure
    assert not a.matches(b) and a.key == b.key
    # another constant value: no match
    assert not a.matches(c)
    # other shapes: neither
    assert not a.matches(d) and a.key != d.key
    # names are part of the structure
    _, e = trace(lambda x, h: ((x + h @ W1).tanh() * 0.5).named("other"), x, h)
    assert not a.matches(e) and a.key != e.key
    hash(a.key)  # usable as a dict key


def test_matches_rejects_same_shaped_fresh_arrays():
    x, h = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 3)))
    _, a = trace(lambda x, h: (x * Tensor(np.ones((2, 3))) + h).tanh(), x, h)
    _, b = trace(lambda x, h: (x * Tensor(np.ones((2, 3))) + h).tanh(), x, h)
    assert not a.matches(b)  # equal values, but arrays of several values: a new array each call is not constant
    assert a.key == b.key


# ---------------------------------------------------------------------------------------------------------------
# 7. no graph without grad, 8. freeing saved arrays
# ---------------------------------------------------------------------------------------------------------------


@needs_fusion
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_no_grad_forward(kind, monkeypatch):
    runs = []
    forward = Fused.forward

    def counting_forward(self, *params, group):
        runs.append(1)
        return forward(self, *params, group=group)

    monkeypatch.setattr(Fused, "forward", counting_forward)
    manual_seed(0)
    layer = LAYERS[kind](dtype=np.float64)
    x = Tensor(np.random.default_rng(9).standard_normal((T, B, IN)))
    with fusion(False):
        ref_out, ref_state = layer(x)
    with no_grad():
        out, state = layer(x)
        out2, _ = layer(x)  # a second sequence, its structure planned before
    for a, b in zip([out, *flat(state)], [ref_out, *flat(ref_state)]):
        assert a._ctx is None and not a.requires_grad
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out2.data, ref_out.data, rtol=1e-12, atol=1e-13)
    assert 2 * (T - 2) <= len(runs) <= 2 * (T - 1)  # the no_grad forwards ran fused


@needs_fusion
def test_fused_no_grad_node_records_nothing():
    x, h = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.full((2, 3), 2.0))
    _, tr = trace(lambda x, h: (x * h).tanh(), x, h)
    step = CompiledStep(tr, plan(tr))
    with no_grad():
        out = step([x, h])[0]
    assert out._ctx is None and not out.requires_grad
    np.testing.assert_allclose(out.data, np.tanh(2.0), rtol=1e-15)


@needs_fusion
def test_backward_frees_saved_arrays():
    manual_seed(0)
    layer = nn.LSTM(IN, H, dtype=np.float64)
    x = Tensor(np.random.default_rng(10).standard_normal((T, B, IN)), requires_grad=True)
    out, _ = layer(x)
    loss = (out * out).sum()
    fused_nodes = [n for n in graph_nodes(loss) if isinstance(n, Fused)]
    assert T - 2 <= len(fused_nodes) <= T - 1
    loss.backward()
    assert all(n.freed and n.saved_tensors is None for n in fused_nodes)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


@needs_fusion
def test_retain_graph_twice_doubles_grads():
    manual_seed(0)
    layer = nn.GRU(IN, H, dtype=np.float64)
    x = Tensor(np.random.default_rng(11).standard_normal((T, B, IN)), requires_grad=True)
    out, h_n = layer(x)
    loss = weighted_loss([out, h_n])
    assert T - 2 <= n_fused(loss) <= T - 1
    loss.backward(retain_graph=True)
    once = {"x": x.grad.copy(), **{n: p.grad.copy() for n, p in layer.named_parameters()}}
    loss.backward()
    twice = {"x": x.grad, **{n: p.grad for n, p in layer.named_parameters()}}
    for name in once:
        assert np.any(once[name] != 0), name
        np.testing.assert_allclose(twice[name], 2 * once[name], rtol=1e-14, atol=0, err_msg=name)


# ---------------------------------------------------------------------------------------------------------------
# bugs found while writing these tests, fixed since
# ---------------------------------------------------------------------------------------------------------------


@needs_fusion
def test_width_one_column_slice_broadcast():
    """A one-column slice broadcast across the columns (a per-row gate) is not a column offset of the grid: the
    planner declines it (it once read x[b, j + 1] instead of x[b, 1]) and a Stepper runs such a step eagerly."""
    r = np.random.default_rng(12)
    x, h = Tensor(r.standard_normal((2, 8))), Tensor(r.standard_normal((2, 4)))

    def step(x, h):
        return (x[:, 1:2] * h + h).named("y")  # a per-row scalar gate, broadcast over the 4 columns

    _, tr = trace(step, x, h)
    assert plan(tr) is None
    stepper, state = Stepper(step, enabled=True), h
    for _ in range(4):
        expect = x.data[:, 1:2] * state.data + state.data
        state = stepper(x, state)
        np.testing.assert_allclose(state.data, expect, rtol=1e-14)
    assert stepper.compiled is None


@needs_fusion
@pytest.mark.parametrize("container", [list, tuple])
def test_stepper_keeps_list_states_and_results(container):
    """A step may take and return its state as a list or a tuple: replayed steps give back the same kind."""
    W = Tensor(np.random.default_rng(14).standard_normal((3, 3)), requires_grad=True)

    def step(x, state):
        h, c = state
        c2 = (c * 0.5 + (x + h @ W).tanh()).named("c_t")
        return container([(c2.tanh() * 2).named("h_t"), c2])

    s = Stepper(step, enabled=True)
    state = container([Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3)))])
    for _ in range(4):
        state = s(Tensor(np.ones((2, 3))), state)
        assert type(state) is container and len(state) == 2
    assert s.compiled is not None
