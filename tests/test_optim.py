"""Optimizers and lr schedulers: against torch.optim (when installed), by hand, and through checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_lstm import Tensor
from tinygrad_lstm.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from tinygrad_lstm.optim.lr_scheduler import ExponentialLR, ReduceLROnPlateau, StepLR
from tinygrad_lstm.serialization import load, save

SHAPES = [(3, 4), (5,), ()]
STEPS = 20


def make_problem(dtype=np.float64, seed=0):
    """Initial values of three parameters and a gradient sequence with changing scale (so amsgrad's max
    matters). The last parameter gets no gradient on every third step, to check skipping."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = []
    for t in range(STEPS):
        scale = 1.5 + math.sin(t)
        gs = [(scale * rng.standard_normal(s)).astype(dtype) for s in SHAPES]
        if t % 3 == 1:
            gs[2] = None
        grads.append(gs)
    return init, grads


def _run(cls, tensor, kwargs, init, grads, groups):
    """The same steps with either library: `tensor(array, requires_grad)` makes its tensors."""
    params = [tensor(a.copy(), requires_grad=True) for a in init]
    if groups is None:
        opt = cls(params, **kwargs)
    else:
        opt = cls([{"params": [params[i] for i in idx], **extra} for idx, extra in groups], **kwargs)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = None if g is None else (g.copy() if tensor is Tensor else tensor(g.copy()))
        opt.step()
    return params, opt


def run_ours(cls, kwargs, init, grads, groups=None):
    return _run(cls, Tensor, kwargs, init, grads, groups)


def run_torch(name, kwargs, init, grads, groups=None):
    torch = pytest.importorskip("torch")
    return _run(getattr(torch.optim, name), torch.tensor, kwargs, init, grads, groups)


CASES = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9}),
    (SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    (SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    (SGD, {"lr": 0.05, "momentum": 0.5, "dampening": 0.1, "weight_decay": 0.1, "maximize": True}),
    (SGD, {}),
    (Adam, {}),
    (Adam, {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    (Adam, {"lr": 0.01, "amsgrad": True}),
    (Adam, {"lr": 0.02, "amsgrad": True, "weight_decay": 0.05, "eps": 1e-6, "maximize": True}),
    (AdamW, {}),
    (AdamW, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    (RMSprop, {}),
    (RMSprop, {"lr": 0.001, "centered": True}),
    (RMSprop, {"lr": 0.001, "momentum": 0.9}),
    (RMSprop, {"lr": 0.001, "alpha": 0.9, "centered": True, "momentum": 0.9, "weight_decay": 0.01}),
    (Adagrad, {}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.1}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5,
               "eps": 1e-6}),
]
IDS = [f"{cls.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for cls, kw in CASES]


def _assert_state_matches_torch(ours, theirs):
    """Same state names and values per parameter, and our hyperparameters are torch's (torch has extras)."""
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i, st in sd["state"].items():
        tst = tsd["state"][i]
        assert set(st) == set(tst), (i, set(st), set(tst))
        for k, v in st.items():
            if k == "step":
                assert v == float(tst[k])
            elif v is None:
                assert tst[k] is None
            else:
                np.testing.assert_allclose(v, tst[k].numpy(), rtol=1e-10, atol=1e-300)
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        for k, v in g.items():
            assert k in tg, k
            t = tg[k]
            assert (list(v) if isinstance(v, tuple) else v) == (list(t) if isinstance(t, tuple) else t)


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=IDS)
def test_matches_torch(cls, kwargs):
    init, grads = make_problem()
    theirs, topt = run_torch(cls.__name__, kwargs, init, grads)
    ours, opt = run_ours(cls, kwargs, init, grads)
    for p, tp in zip(ours, theirs):
        assert p.dtype == np.float64
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-13)
    _assert_state_matches_torch(opt, topt)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop, Adagrad])
def test_param_groups_match_torch(cls):
    init, grads = make_problem(seed=1)
    kwargs = {"lr": 0.01, "momentum": 0.5} if cls in (SGD, RMSprop) else {"lr": 0.01}
    groups = [([0, 2], {}), ([1], {"lr": 0.1, "weight_decay": 0.05})]
    theirs, _ = run_torch(cls.__name__, kwargs, init, grads, groups)
    ours, _ = run_ours(cls, kwargs, init, grads, groups)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(("cls", "kwargs"), CASES[::3], ids=IDS[::3])
def test_float32_stays_float32_and_matches_torch(cls, kwargs):
    init, grads = make_problem(np.float32)
    ours, opt = run_ours(cls, kwargs, init, grads)
    for p in ours:
        assert p.dtype == np.float32
    for st in opt.state.values():
        for v in st.values():
            assert not isinstance(v, np.ndarray) or v.dtype == np.float32
    theirs, _ = run_torch(cls.__name__, kwargs, init, grads)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=2e-5, atol=2e-6)


# ----- without torch ----------------------------------------------------------------------------------------
def test_sgd_by_hand():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    w.grad = np.array([0.5, -1.0])
    opt.step()  # g = [0.5, -1] + 0.5*[1, 2] = [1, 0];  b = g;  w = w - 0.1*b
    np.testing.assert_allclose(w.data, [0.9, 2.0], rtol=1e-15)
    w.grad = np.array([0.0, 0.0])
    opt.step()  # g = 0.5*[0.9, 2] = [0.45, 1];  b = 0.9*[1, 0] + g = [1.35, 1];  w = w - 0.1*b
    np.testing.assert_allclose(w.data, [0.9 - 0.135, 2.0 - 0.1], rtol=1e-15)


def test_adam_first_step_by_hand():
    # m = (1-β₁)g, v = (1-β₂)g²: the bias corrections give m̂ = g, v̂ = g², so θ ← θ - lr·g/(|g| + ε)
    g = np.array([0.5, -2.0, 1e-3])
    w = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w.grad = g.copy()
    Adam([w], lr=0.1).step()
    np.testing.assert_allclose(w.data, [1.0, 2.0, 3.0] - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_adamw_decays_weights_even_with_zero_grad():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    w.grad = np.zeros(2)
    AdamW([w], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(w.data, [0.95, -1.9], rtol=1e-15)


def test_updates_in_place_and_skips_params_without_grad():
    a = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad):
        opt = cls([a, b], lr=0.1)
        a_data, b_before = a.data, b.data.copy()
        a.grad, b.grad = np.ones(3, dtype=np.float32), None
        opt.step()
        assert a.data is a_data and a.dtype == np.float32
        assert not np.array_equal(a.data, np.ones(3))
        np.testing.assert_array_equal(b.data, b_before)
        if cls is not Adagrad:  # Adagrad, as torch's, creates state for every parameter up front
            assert b not in opt.state


def test_grad_of_other_dtype_is_cast_and_wrong_shape_raises():
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = Adam([w], lr=0.1)
    w.grad = np.ones(3, dtype=np.float64)
    opt.step()
    assert w.dtype == np.float32 and opt.state[w]["exp_avg"].dtype == np.float32
    w.grad = np.ones(4, dtype=np.float32)
    with pytest.raises(ValueError, match=r"Adam\.step.*shape \(3,\).*\(4,\)"):
        opt.step()


def test_zero_grad():
    w = Tensor(np.ones(2), requires_grad=True)
    opt = SGD([w], lr=0.1)
    w.grad = np.ones(2)
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and not g.any()
    opt.zero_grad()
    assert w.grad is None


def test_works_with_backward_and_closure():
    w = Tensor(np.array([3.0, -4.0]), requires_grad=True)
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.item()) == 25.0
    np.testing.assert_allclose(w.data, [1.5, -2.0])


def test_defaults_are_torchs():
    w = Tensor(np.ones(1), requires_grad=True)
    assert SGD([w]).defaults == {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
                                 "nesterov": False, "maximize": False}
    assert Adam([w]).defaults == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                                  "amsgrad": False, "maximize": False}
    assert AdamW([w]).defaults["weight_decay"] == 1e-2
    assert RMSprop([w]).defaults == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                                     "momentum": 0.0, "centered": False, "maximize": False}
    assert Adagrad([w]).defaults == {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                                     "initial_accumulator_value": 0.0, "eps": 1e-10, "maximize": False}


def test_param_groups_and_add_param_group():
    a, b, c = (Tensor(np.ones(2), requires_grad=True) for _ in range(3))
    opt = Adam([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, betas=(0.5, 0.6))
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["betas"] == (0.5, 0.6) and opt.param_groups[1]["params"] == [b]
    opt.add_param_group({"params": [c], "amsgrad": True})
    assert opt.param_groups[2]["amsgrad"] and opt.param_groups[2]["lr"] == 0.1
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match=r"Adam: invalid learning rate lr=-1"):
        opt.add_param_group({"params": [Tensor(np.ones(1), requires_grad=True)], "lr": -1})
    assert "Parameter Group 2" in repr(opt) and "amsgrad: True" in repr(opt)


@pytest.mark.parametrize(("make", "exc", "pattern"), [
    (lambda w: SGD([w, np.ones(2)]), TypeError, r"SGD: params must be Tensors, got ndarray at index 1"),
    (lambda w: Adam([w, 3.0]), TypeError, r"Adam: params must be Tensors, got float"),
    (lambda w: SGD(w), TypeError, r"SGD: .*single Tensor"),
    (lambda w: Adam([]), ValueError, r"Adam: got an empty parameter list"),
    (lambda w: Adam({w}), TypeError, r"Adam: .*not a set"),
    (lambda w: SGD([w], lr=-0.1), ValueError, r"SGD: invalid learning rate lr=-0\.1"),
    (lambda w: Adam([w], lr=-1e-3), ValueError, r"Adam: invalid learning rate lr=-0\.001"),
    (lambda w: AdamW([w], lr=float("nan")), ValueError, r"AdamW: invalid learning rate lr=nan"),
    (lambda w: RMSprop([w], lr=-1), ValueError, r"RMSprop: invalid learning rate lr=-1"),
    (lambda w: Adagrad([w], lr=-1), ValueError, r"Adagrad: invalid learning rate lr=-1"),
    (lambda w: Adam([w], betas=(0.9, 1.0)), ValueError, r"Adam: invalid betas=\(0\.9, 1\.0\)"),
    (lambda w: AdamW([w], betas=(-0.1, 0.9)), ValueError, r"AdamW: invalid betas=\(-0\.1, 0\.9\)"),
    (lambda w: Adam([w], betas=0.9), ValueError, r"Adam: invalid betas=0\.9"),
    (lambda w: Adam([w], eps=-1), ValueError, r"Adam: invalid epsilon value eps=-1"),
    (lambda w: SGD([w], momentum=-0.5), ValueError, r"SGD: invalid momentum value momentum=-0\.5"),
    (lambda w: SGD([w], nesterov=True), ValueError, r"SGD: nesterov momentum requires momentum > 0"),
    (lambda w: SGD([w], momentum=0.9, dampening=0.1, nesterov=True), ValueError, r"dampening=0\.1"),
    (lambda w: RMSprop([w], alpha=-0.5), ValueError, r"RMSprop: invalid alpha value alpha=-0\.5"),
    (lambda w: Adagrad([w], lr_decay=-1), ValueError, r"Adagrad: invalid lr_decay value lr_decay=-1"),
    (lambda w: SGD([w * 2]), ValueError, r"SGD: can't optimize a non-leaf Tensor"),
    (lambda w: SGD([Tensor(np.arange(3))]), TypeError, r"SGD: can only optimize floating-point"),
])
def test_errors(make, exc, pattern):
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(exc, match=pattern):
        make(w)


# ----- checkpoints ------------------------------------------------------------------------------------------
RESUME_CASES = [
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (Adam, {"lr": 0.01, "amsgrad": True}),
    (AdamW, {"lr": 0.01}),
    (RMSprop, {"lr": 0.001, "centered": True, "momentum": 0.5}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.05}),
]


@pytest.mark.parametrize("through_file", [False, True], ids=["in-memory", "file"])
@pytest.mark.parametrize(("cls", "kwargs"), RESUME_CASES, ids=[c.__name__ for c, _ in RESUME_CASES])
def test_resume_from_state_dict(cls, kwargs, through_file, tmp_path):
    """10 steps, checkpoint, a fresh optimizer loads it, 10 more steps == 20 uninterrupted steps (exactly)."""
    init, grads = make_problem(np.float32, seed=3)
    straight, _ = run_ours(cls, kwargs, init, grads)

    first, opt = run_ours(cls, kwargs, init, grads[:10])
    ckpt = {"params": [p.data.copy() for p in first], "optim": opt.state_dict()}
    for _ in range(3):  # the state_dict is a snapshot: later steps must not change it
        opt.step()
    if through_file:
        save(ckpt, tmp_path / "ckpt.npz")
        ckpt = load(tmp_path / "ckpt.npz")
    params = [Tensor(a, requires_grad=True) for a in ckpt["params"]]
    opt2 = cls(params, lr=123.0)  # the saved hyperparameters win
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    for gs in grads[10:]:
        for p, g in zip(params, gs):
            p.grad = None if g is None else g.copy()
        opt2.step()
    for p, q in zip(params, straight):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_layout_is_torchs():
    a, b, c = (Tensor(np.ones(2), requires_grad=True) for _ in range(3))
    opt = SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    a.grad = c.grad = np.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 2]
    assert set(sd["state"][0]) == {"momentum_buffer"}
    assert sd["param_groups"][0]["params"] == [0, 1] and sd["param_groups"][1]["params"] == [2]
    assert sd["param_groups"][1]["lr"] == 0.5


def test_load_state_dict_errors():
    a, b = (Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = Adam([a, b])
    a.grad = b.grad = np.ones(2)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="has 2 parameters, this optimizer's has 1"):
        Adam([a]).load_state_dict(sd)
    with pytest.raises(ValueError, match="1 parameter groups, this optimizer has 2"):
        Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(2,\).*\(3,\)"):
        Adam([Tensor(np.ones(3), requires_grad=True), b]).load_state_dict(sd)


def test_optimizer_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Optimizer([Tensor(np.ones(1), requires_grad=True)], {"lr": 0.1}).step()


# ----- lr schedulers ----------------------------------------------------------------------------------------
def _our_lrs(make_sched, lrs, epochs, metrics=None):
    params = [Tensor(np.ones(1), requires_grad=True) for _ in lrs]
    opt = SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)])
    sched = make_sched(opt)
    seq = [list(sched.get_last_lr())]
    for e in range(epochs):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[e])
        seq.append(list(sched.get_last_lr()))
        assert seq[-1] == [g["lr"] for g in opt.param_groups]
    return seq


def _torch_lrs(name, kwargs, lrs, epochs, metrics=None):
    torch = pytest.importorskip("torch")
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)])
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)
    seq = [list(sched.get_last_lr())]
    for e in range(epochs):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[e])
        seq.append(list(sched.get_last_lr()))
    return seq


PLATEAU_METRICS = [5, 4, 4.5, 4.2, 4.1, 4.0, 3.99995, 4, 4, 4, 3, 3, 3, 3, 3, 2.5, 2.5, 2.5, 2.5, 9, 9, 9, 9,
                   9, 9, 9, 9, 9, 9, 9]
SCHED_CASES = [
    (StepLR, {"step_size": 3}),
    (StepLR, {"step_size": 4, "gamma": 0.5}),
    (ExponentialLR, {"gamma": 0.9}),
    (ReduceLROnPlateau, {}),
    (ReduceLROnPlateau, {"patience": 2, "factor": 0.5}),
    (ReduceLROnPlateau, {"patience": 1, "factor": 0.5, "cooldown": 2, "min_lr": [0.02, 0.001]}),
    (ReduceLROnPlateau, {"mode": "max", "patience": 1, "threshold": 0.3, "threshold_mode": "abs",
                         "min_lr": 0.01}),
    (ReduceLROnPlateau, {"patience": 0, "factor": 0.9, "eps": 0.05}),
]


@pytest.mark.parametrize(("cls", "kwargs"), SCHED_CASES,
                         ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(SCHED_CASES)])
def test_scheduler_matches_torch(cls, kwargs):
    lrs, epochs = [0.1, 0.3], len(PLATEAU_METRICS)
    metrics = PLATEAU_METRICS if cls is ReduceLROnPlateau else None
    ours = _our_lrs(lambda opt: cls(opt, **kwargs), lrs, epochs, metrics)
    theirs = _torch_lrs(cls.__name__, kwargs, lrs, epochs, metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)


def test_steplr_by_hand():
    seq = _our_lrs(lambda opt: StepLR(opt, step_size=2, gamma=0.5), [1.0], 6)
    assert [s[0] for s in seq] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_plateau_by_hand():
    seq = _our_lrs(lambda opt: ReduceLROnPlateau(opt, patience=1, factor=0.5), [1.0], 5, [3, 3, 3, 2, 2])
    assert [s[0] for s in seq] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]


@pytest.mark.parametrize(("cls", "kwargs"), [SCHED_CASES[1], SCHED_CASES[2], SCHED_CASES[5]],
                         ids=["StepLR", "ExponentialLR", "ReduceLROnPlateau"])
def test_scheduler_resume(cls, kwargs, tmp_path):
    metrics = PLATEAU_METRICS
    straight = _our_lrs(lambda opt: cls(opt, **kwargs), [0.1, 0.3], len(metrics), metrics[:] if
                        cls is ReduceLROnPlateau else None)

    def run(opt, sched, epochs):
        out = []
        for e in epochs:
            opt.step()
            sched.step(metrics[e]) if cls is ReduceLROnPlateau else sched.step()
            out.append(list(sched.get_last_lr()))
        return out

    def fresh():
        ps = [Tensor(np.ones(1), requires_grad=True) for _ in range(2)]
        return SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, [0.1, 0.3])])

    opt = fresh()
    sched = cls(opt, **kwargs)
    first = run(opt, sched, range(12))
    save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.npz")
    ckpt = load(tmp_path / "s.npz")
    opt2 = fresh()
    opt2.load_state_dict(ckpt["optim"])
    sched2 = cls(opt2, **kwargs)
    sched2.load_state_dict(ckpt["sched"])
    rest = run(opt2, sched2, range(12, len(metrics)))
    assert straight[1:] == first + rest


def test_scheduler_errors():
    opt = SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="factor should be < 1.0, got 2"):
        ReduceLROnPlateau(opt, factor=2)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'up'"):
        ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="expected 1 min_lrs"):
        ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        StepLR(opt, step_size=0)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        ExponentialLR([], gamma=0.5)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the NaN and inf entries, on purpose
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("shape", [(5, 3), (), (0,), (4, 1000)])
def test_adam_update_same_bits_on_both_backends(dtype, amsgrad, shape):
    """The numba backend's one-pass Adam update gives numpy's numbers to the last bit (3 steps, with a NaN and
    an inf gradient entry where there is room, and a transposed, non-contiguous gradient that falls back)."""
    from tinygrad_lstm.kernels import numba_backend, numpy_backend

    rng = np.random.default_rng(0)
    start = {"d": rng.standard_normal(shape), "m": rng.standard_normal(shape),
             "v": np.abs(rng.standard_normal(shape)), "vmax": np.abs(rng.standard_normal(shape))}
    start = {name: np.asarray(a) for name, a in start.items()}  # shape (): arrays, not numpy scalars
    state = {name: [a.astype(dtype), a.astype(dtype)] for name, a in start.items()}  # one copy per backend
    for t in range(1, 4):
        g = rng.standard_normal(shape).astype(dtype)
        if g.size > 3:
            g.flat[1], g.flat[2] = np.nan, np.inf
        args = (0.9, 0.999, 1e-3 / (1 - 0.9**t), math.sqrt(1 - 0.999**t), 1e-8)  # Python floats, as Adam
        for k, backend in enumerate((numpy_backend, numba_backend)):
            backend.adam_update(state["d"][k], g, state["m"][k], state["v"][k],
                                state["vmax"][k] if amsgrad else None, *args)
    for name, (ref, fast) in state.items():
        np.testing.assert_array_equal(fast, ref, err_msg=name)
    if len(shape) == 2:  # a gradient not C-contiguous takes the reference path: the same numbers again
        d = state["d"][0].copy()
        gT = np.ascontiguousarray(rng.standard_normal(shape[::-1]).astype(dtype)).T
        m, v = state["m"][0].copy(), state["v"][0].copy()
        numba_backend.adam_update(d, gT, m, v, None, *args)
        numpy_backend.adam_update(state["d"][0], gT, state["m"][0], state["v"][0], None, *args)
        np.testing.assert_array_equal(d, state["d"][0])
