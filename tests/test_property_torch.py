"""Property test: random op chains on random shapes (0-d, size 1, empty, broadcast) in both float dtypes, against
PyTorch: the same values, the same result dtype, the same gradient of every input (or both refuse the input).

`make test` runs TINYGRAD_LSTM_PROPERTY_CASES (default 2,000) chains; set it higher for a longer search, e.g.
``TINYGRAD_LSTM_PROPERTY_CASES=50000 pytest tests/test_property_torch.py``. Each chain is 1-4 ops drawn from `OPS`,
applied to a leaf; binary ops draw their other operand: a second leaf of a broadcasting shape, a Python or numpy
scalar, a 0-d tensor of the other float dtype, or an integer tensor (PyTorch's type promotion decides the dtype).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import tinygrad_lstm.nn.functional as F
from tinygrad_lstm import Tensor, maximum, minimum, where

torch = pytest.importorskip("torch")
TF = torch.nn.functional
CASES = int(os.environ.get("TINYGRAD_LSTM_PROPERTY_CASES", "2000"))
DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64,
          np.dtype(np.int64): torch.int64, np.dtype(bool): torch.bool}
TOL = {np.dtype(np.float32): dict(rtol=2e-4, atol=2e-5), np.dtype(np.float64): dict(rtol=1e-9, atol=1e-11)}


class Op(NamedTuple):
    """One step of a chain: `ours(t, arg)` and `theirs(t, arg)` given the drawn `arg` (None for most ops)."""

    ours: Callable[[Any, Any], Any]
    theirs: Callable[[Any, Any], Any]
    fits: Callable[[tuple[int, ...]], bool] = lambda shape: True
    arg: Callable[[tuple[int, ...]], st.SearchStrategy] | None = None  # e.g. an axis valid for the shape


def _axis(shape: tuple[int, ...]) -> st.SearchStrategy:
    nd = max(len(shape), 1)  # a 0-d tensor takes axis 0 or -1, as torch
    return st.integers(-nd, nd - 1)


def _same(fn: Callable[[Any], Any]) -> Op:
    return Op(lambda t, _: fn(t), lambda t, _: fn(t))


def _reduce(name: str, torch_name: str | None = None, **kw: Any) -> Op:
    """A reduction over all axes (arg None) or one axis, keepdim drawn too."""
    def ours(t, a):
        return getattr(t, name)(**kw) if a is None else getattr(t, name)(dim=a[0], keepdim=a[1], **kw)

    def theirs(t, a):
        fn = getattr(t, torch_name or name)
        if a is None:
            return fn(dim=tuple(range(t.ndim)), **kw) if torch_name or name == "logsumexp" else fn(**kw)
        return fn(dim=a[0], keepdim=a[1], **kw)

    return Op(ours, theirs, arg=lambda s: st.none() | st.tuples(_axis(s), st.booleans()))


def _var_args(shape: tuple[int, ...], a: Any) -> dict:
    """var/std's keywords: torch's default correction=1, or 0 where fewer than 2 values are reduced (n - 1 = 0
    makes a nan whose gradients torch special-cases: not a property worth comparing)."""
    kw = {} if a is None else dict(dim=a[0], keepdim=a[1])
    n = math.prod(shape) if a is None else (shape[a[0]] if shape else 1)
    return kw if n >= 2 else {**kw, "correction": 0}


def _target(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A loss target: fixed values in (0, 1) of `dtype` (the other float dtype, or int64, promote as in torch)."""
    return (np.random.default_rng(3).uniform(0, 1, shape) * (2 if np.dtype(dtype).kind == "i" else 1)).astype(dtype)


def _loss(name: str) -> Op:
    """A loss against a constant target of a drawn dtype and reduction."""
    def ours(t, a):
        return getattr(F, name)(t, Tensor(_target(t.shape, a[0] or t.dtype)), reduction=a[1])

    def theirs(t, a):
        dt = a[0] or next(k for k, v in DTYPES.items() if v == t.dtype)
        return getattr(TF, name)(t, torch.tensor(_target(tuple(t.shape), dt)), reduction=a[1])

    # torch's binary_cross_entropy_with_logits returns the *target's* dtype (an implementation detail, not its
    # promotion rule, which we follow): its target is drawn in the input's dtype (None)
    dtypes = [None] if name == "binary_cross_entropy_with_logits" else [None, np.float32, np.float64, np.int64]
    return Op(ours, theirs, arg=lambda s: st.tuples(st.sampled_from(dtypes), st.sampled_from(["mean", "sum", "none"])))


OPS: dict[str, Op] = {
    "neg": _same(lambda t: -t),
    "exp": _same(lambda t: (t * 0.5).exp()),
    "log": _same(lambda t: (t.abs() + 0.25).log()),
    "sqrt": _same(lambda t: (t * t + 0.5).sqrt()),
    "tanh": _same(lambda t: t.tanh()),
    "sigmoid": _same(lambda t: t.sigmoid()),
    "relu": _same(lambda t: t.relu()),
    "abs": _same(lambda t: t.abs()),
    "square": _same(lambda t: t * t),
    "pow3": _same(lambda t: t ** 3),
    "rpow": _same(lambda t: 2.0 ** t),
    "recip": _same(lambda t: 1.0 / (t.abs() + 0.5)),
    "clamp": _same(lambda t: t.clamp(-0.5, 0.75)),
    "softplus": Op(lambda t, _: F.softplus(t), lambda t, _: TF.softplus(t)),
    "logsigmoid": Op(lambda t, _: F.logsigmoid(t), lambda t, _: TF.logsigmoid(t)),
    "leaky_relu": Op(lambda t, _: F.leaky_relu(t, 0.1), lambda t, _: TF.leaky_relu(t, 0.1)),
    "gelu": Op(lambda t, _: F.gelu(t, approximate="tanh"), lambda t, _: TF.gelu(t, approximate="tanh")),
    "sum": _reduce("sum"),
    "mean": _reduce("mean"),
    "amax": Op(*_reduce("amax", "amax")[:2], fits=lambda s: 0 not in s, arg=_reduce("amax").arg),
    "var": Op(lambda t, a: t.var(**_var_args(t.shape, a)), lambda t, a: t.var(**_var_args(tuple(t.shape), a)),
              arg=_reduce("var").arg),
    "std": Op(lambda t, a: t.std(**_var_args(t.shape, a)), lambda t, a: t.std(**_var_args(tuple(t.shape), a)),
              arg=_reduce("std").arg),
    "std0": _reduce("std", correction=0),
    "logsumexp": _reduce("logsumexp"),
    "softmax": Op(lambda t, a: t.softmax(dim=a), lambda t, a: t.softmax(dim=a), arg=_axis),
    "log_softmax": Op(lambda t, a: t.log_softmax(dim=a), lambda t, a: t.log_softmax(dim=a), arg=_axis),
    "mse_loss": _loss("mse_loss"),
    "l1_loss": _loss("l1_loss"),
    "bce_logits": _loss("binary_cross_entropy_with_logits"),
    "flatten": _same(lambda t: t.flatten()),
    "reshape": _same(lambda t: t.reshape(-1, 1) if math.prod(t.shape) else t.reshape(tuple(t.shape) + (1,))),
    "unsqueeze": Op(lambda t, a: t.unsqueeze(a), lambda t, a: t.unsqueeze(a),
                    arg=lambda s: st.integers(-len(s) - 1, len(s))),
    "squeeze": Op(lambda t, a: t.squeeze(a), lambda t, a: t.squeeze(a), arg=_axis),
    "transpose": Op(lambda t, _: t.transpose(0, -1), lambda t, _: t.transpose(0, -1), fits=lambda s: len(s) >= 2),
    "slice": Op(lambda t, _: t[1:], lambda t, _: t[1:], fits=lambda s: len(s) >= 1),
}

# binary ops: (ours, theirs) on the chain's tensor a and the drawn operand b
BINARY: dict[str, tuple[Callable, Callable]] = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "radd": (lambda a, b: b + a, lambda a, b: b + a),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "rsub": (lambda a, b: b - a, lambda a, b: b - a),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "rdiv": (lambda a, b: b / (a * a + 1), lambda a, b: b / (a * a + 1)),
    "maximum": (lambda a, b: maximum(a, b), lambda a, b: torch.maximum(a, _t(b, a))),
    "minimum": (lambda a, b: minimum(a, b), lambda a, b: torch.minimum(a, _t(b, a))),
    "where": (lambda a, b: where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b)),
}


def _t(b: Any, like: Any) -> Any:
    """torch.maximum/minimum take tensors only: a scalar becomes a wrapped 0-d tensor (as torch's operators do)."""
    if isinstance(b, torch.Tensor):
        return b
    return torch.tensor(b, dtype=like.dtype if isinstance(b, float) else None)


@st.composite
def shapes(draw: Any) -> tuple[int, ...]:
    kind = draw(st.sampled_from(["0-d", "size-1", "empty", "small", "small"]))
    if kind == "0-d":
        return ()
    nd = draw(st.integers(1, 3))
    sides = draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    if kind == "size-1":
        return (1,) * nd
    if kind == "empty":
        sides[draw(st.integers(0, nd - 1))] = 0
    return tuple(sides)


@st.composite
def other_operand(draw: Any, shape: tuple[int, ...], dtype: np.dtype) -> tuple[str, Any]:
    """(kind, value): the second operand of a binary op, as plain data both libraries are built from."""
    kind = draw(st.sampled_from(["leaf", "leaf", "broadcast", "float", "np.float64", "0-d other", "int"]))
    seed = draw(st.integers(0, 2**16))
    r = np.random.default_rng(seed)
    if kind == "float":
        return kind, float(r.uniform(-2, 2))
    if kind == "np.float64":
        return kind, np.float64(r.uniform(-2, 2))
    if kind == "0-d other":
        other = np.float64 if dtype == np.float32 else np.float32
        return kind, r.uniform(-2, 2, ()).astype(other)
    if kind == "int":
        return kind, r.integers(-3, 4, shape).astype(np.int64)
    if kind == "broadcast":  # some axes of size 1, some leading ones dropped
        lead = draw(st.integers(0, len(shape)))
        shape = tuple(1 if draw(st.booleans()) else n for n in shape[lead:])
    return kind, r.uniform(-2, 2, shape).astype(dtype)


def draw_chain(data: Any) -> tuple[np.ndarray, list[tuple[str, Any]]]:
    """A leaf and 1-4 steps, each drawn for the shape the chain has by then (found by running our op on zeros)."""
    dtype = np.dtype(data.draw(st.sampled_from([np.float32, np.float64]), label="dtype"))
    shape = data.draw(shapes(), label="shape")
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).uniform(-2, 2, shape).astype(dtype)
    probe = Tensor(np.zeros(shape, dtype))
    steps: list[tuple[str, Any]] = []
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.integers(0, 3)) == 0:  # a binary op a quarter of the time
            name = data.draw(st.sampled_from(sorted(BINARY)))
            steps.append((name, data.draw(other_operand(probe.shape, dtype))))
            continue
        name = data.draw(st.sampled_from([n for n, op in OPS.items() if op.fits(probe.shape)]))
        op = OPS[name]
        steps.append((name, data.draw(op.arg(probe.shape)) if op.arg else None))
        try:
            probe = op.ours(probe, steps[-1][1])
        except Exception:
            break  # refused (an empty max, ...): the test checks torch refuses too
    data.draw(st.just(steps), label="steps")
    return x, steps


def _run(lib: str, x: np.ndarray, steps: list[tuple[str, Any]]) -> tuple[Any, list]:
    """Run the chain in one library; returns (output, leaves that require grad)."""
    mk = (lambda a: Tensor(a.copy(), requires_grad=a.dtype.kind == "f")) if lib == "ours" else (
        lambda a: torch.tensor(a, requires_grad=a.dtype.kind == "f"))
    t = mk(x)
    leaves = [t]
    for name, arg in steps:
        if name in BINARY:
            kind, value = arg
            b = mk(value) if isinstance(value, np.ndarray) else value
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                leaves.append(b)
            t = BINARY[name][0 if lib == "ours" else 1](t, b)
        else:
            t = (OPS[name].ours if lib == "ours" else OPS[name].theirs)(t, arg)
    return t, leaves


def _outcome(lib: str, x: np.ndarray, steps: list) -> tuple[Any, list] | Exception:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, leaves = _run(lib, x, steps)
            if out.requires_grad:
                w = np.random.default_rng(7).standard_normal(tuple(out.shape))
                wt = Tensor(w.astype(out.dtype)) if lib == "ours" else torch.tensor(w, dtype=out.dtype)
                (out * wt).sum().backward()
            return out, leaves
    except Exception as e:  # both must refuse, or neither
        return e


@settings(max_examples=CASES, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(data=st.data())
def test_random_op_chains_match_torch(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, steps = draw_chain(data)
    ours, theirs = _outcome("ours", x, steps), _outcome("torch", x, steps)
    if isinstance(theirs, Exception) or isinstance(ours, Exception):
        assert isinstance(ours, Exception) and isinstance(theirs, Exception), (
            f"one library refused the chain: ours {ours!r}, torch {theirs!r}")
        return
    (o, o_leaves), (t, t_leaves) = ours, theirs
    assert DTYPES[o.dtype] == t.dtype, f"dtype: ours {o.dtype}, torch {t.dtype}"
    assert o.shape == tuple(t.shape), f"shape: ours {o.shape}, torch {tuple(t.shape)}"
    tol = TOL[min(o.dtype, x.dtype, key=lambda d: d.itemsize)] if o.dtype.kind == "f" else dict(rtol=0, atol=0)
    np.testing.assert_allclose(o.data, t.detach().numpy(), **tol, err_msg="forward differs from torch")
    for k, (a, b) in enumerate(zip(o_leaves, t_leaves)):
        g = a.grad if a.grad is not None else np.zeros(a.shape, a.dtype)
        tg = b.grad.numpy() if b.grad is not None else np.zeros(tuple(b.shape), g.dtype)
        assert g.dtype == tg.dtype and g.shape == tg.shape, f"leaf {k}: grad {g.dtype} {g.shape}, torch {tg.dtype}"
        tol = TOL[min(g.dtype, x.dtype, key=lambda d: d.itemsize)]  # float64 values from float32 math: float32's
        np.testing.assert_allclose(g, tg, **tol, err_msg=f"gradient of leaf {k} differs from torch")
