"""Every elementwise op, from its one definition (ops/elementwise.py, pointwise.py, activations.py):

- the derived kernels agree: numpy backend, numba backend and a generated fused kernel, forward and every
  derivative, on random inputs including the tails (float64 rtol 1e-12, float32 rtol 1e-5);
- the new pointwise functions and activations against PyTorch (values and gradients, float64), gradcheck, and
  0-d and empty inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lstm as tl
from tinygrad_lstm import Tensor, backend, ops
from tinygrad_lstm.gradcheck import gradcheck
from tinygrad_lstm.jit import Fused, plan, trace
from tinygrad_lstm.nn import functional as F
from tinygrad_lstm.ops.elementwise import Elementwise

# the domain each op is tested on (inputs drawn there, with tails); attrs for ops that have them
DOMAIN = {
    "Log": (1e-3, 50), "Sqrt": (1e-3, 50), "Rsqrt": (1e-2, 50), "Log2": (1e-3, 50), "Log10": (1e-3, 50),
    "Asin": (-0.95, 0.95), "Acos": (-0.95, 0.95), "Atanh": (-0.95, 0.95), "Acosh": (1.05, 20), "Log1p": (-0.9, 30),
    "Tan": (-1.4, 1.4), "Div": (0.5, 4), "Pow": (0.5, 3), "Exp": (-30, 30), "Exp2": (-30, 30), "Sinh": (-20, 20),
    "Cosh": (-20, 20), "Expm1": (-20, 20),
}
ATTRS = {"Clip": {"min": -0.5, "max": 0.7}, "Elu": {"alpha": 1.3}, "Celu": {"alpha": 0.8},
         "Hardtanh": {"min_val": -0.5, "max_val": 2.0}}
TAILS = {"Sigmoid": [-30.0, -15.0, 25.0], "Tanh": [1e-6, -3e-5, 12.0, -40.0], "Exp": [-30.0, 25.0]}
OUTPUT_DERIVATIVES = {"Tanh", "Sigmoid"}  # derivatives written with the output z, whose float32 value is approximated
ALL_OPS = sorted((c for c in [getattr(ops, n) for n in ops.__all__] if isinstance(c, type)
                  and issubclass(c, Elementwise) and c is not ops.Where), key=lambda c: c.__name__)


def _inputs(op: type, dtype, shape=(6, 33), seed=0) -> list[np.ndarray]:
    r = np.random.default_rng(seed)
    lo, hi = DOMAIN.get(op.__name__, (-4, 4))
    xs = [r.uniform(lo, hi, shape) for _ in op.input_names]
    tails = [t for t in TAILS.get(op.__name__, []) if lo <= t <= hi]
    xs[0].flat[: len(tails)] = tails
    if op.__name__ in ("Maximum", "Minimum"):
        xs[1].flat[40:44] = xs[0].flat[40:44]  # ties
    return [x.astype(dtype) for x in xs]


def _eager(op, xs, g, name):
    with backend(name):
        ts = [Tensor(x, requires_grad=True) for x in xs]
        z = op.apply(*ts, **ATTRS.get(op.__name__, {}))
        z.backward(g)
        return [z.data] + [t.grad for t in ts]


def _fused(op, xs, g):
    """The op as a generated fused kernel: traced as op(...) * 1 (two ops, so the planner fuses; * 1 is exact)."""
    ts = [Tensor(x, requires_grad=True) for x in xs]
    _, tr = trace(lambda *a: op.apply(*a, **ATTRS.get(op.__name__, {})) * 1.0, *ts)
    group = plan(tr)
    assert group is not None, op.__name__
    z = Fused.apply(*[ts[r.index] if r.kind == "in" else tr.externals[r.index] for r in group.params], group=group)
    z.backward(g)
    return [z.data] + [t.grad for t in ts]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", ALL_OPS, ids=lambda c: c.__name__)
def test_derived_kernels_agree(op, dtype):
    xs = _inputs(op, dtype)
    g = np.random.default_rng(9).uniform(0.5, 1.5, xs[0].shape).astype(dtype)
    ref = _eager(op, xs, g, "numpy")
    tol = {"rtol": 1e-12, "atol": 1e-300} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-30}
    for got in (_eager(op, xs, g, "numba"), _fused(op, xs, g)):
        for k, (a, b) in enumerate(zip(got, ref)):
            assert a.dtype == dtype
            if k > 0 and dtype == np.float32 and op.__name__ in OUTPUT_DERIVATIVES:
                # 1 - z² near saturation turns the last-bit difference of a float32 z (rational vs numpy's tanh)
                # into a large *relative* one where the derivative is tiny: held to float32 resolution instead
                tol = {"rtol": 1e-5, "atol": 4 * np.finfo(np.float32).eps}
            np.testing.assert_allclose(a, b, **tol, err_msg=op.__name__)


def test_float32_tails_keep_relative_accuracy():
    x = np.array([-30.0, -60.0, -80.0, 1e-30, -1e-20, 3e-5], np.float32)
    for name in ("numpy", "numba"):
        with backend(name):
            s = Tensor(x).sigmoid().data
            t = Tensor(x).tanh().data
        np.testing.assert_allclose(s[:3], 1 / (1 + np.exp(-x[:3].astype(np.float64))), rtol=1e-5)
        np.testing.assert_allclose(t[3:], np.tanh(x[3:].astype(np.float64)), rtol=1e-6)
    assert abs(Tensor(np.float32(-30.0)).sigmoid().item() - 9.357623e-14) < 1e-18


UNARY = {  # ours, torch's, domain
    "sin": (Tensor.sin, "sin", None), "cos": (Tensor.cos, "cos", None), "tan": (Tensor.tan, "tan", (-1.4, 1.4)),
    "asin": (Tensor.asin, "asin", (-0.9, 0.9)), "acos": (Tensor.acos, "acos", (-0.9, 0.9)),
    "atan": (Tensor.atan, "atan", None), "sinh": (Tensor.sinh, "sinh", None), "cosh": (Tensor.cosh, "cosh", None),
    "asinh": (Tensor.asinh, "asinh", None), "acosh": (Tensor.acosh, "acosh", (1.1, 5)),
    "atanh": (Tensor.atanh, "atanh", (-0.9, 0.9)), "log2": (Tensor.log2, "log2", (0.1, 5)),
    "log10": (Tensor.log10, "log10", (0.1, 5)), "exp2": (Tensor.exp2, "exp2", None),
    "rsqrt": (Tensor.rsqrt, "rsqrt", (0.1, 5)), "erf": (Tensor.erf, "erf", None),
    "log1p": (Tensor.log1p, "log1p", (-0.5, 5)), "expm1": (Tensor.expm1, "expm1", None),
    "sign": (Tensor.sign, "sign", None), "floor": (Tensor.floor, "floor", None), "ceil": (Tensor.ceil, "ceil", None),
    "round": (Tensor.round, "round", None), "trunc": (Tensor.trunc, "trunc", None),
    "elu": (lambda x: F.elu(x, 1.3), lambda t, x: t.nn.functional.elu(x, 1.3), None),
    "selu": (F.selu, lambda t, x: t.nn.functional.selu(x), None),
    "celu": (lambda x: F.celu(x, 0.5), lambda t, x: t.nn.functional.celu(x, 0.5), None),
    "relu6": (F.relu6, lambda t, x: t.nn.functional.relu6(x), (-2, 8)),
    "hardtanh": (F.hardtanh, lambda t, x: t.nn.functional.hardtanh(x), None),
    "hardsigmoid": (F.hardsigmoid, lambda t, x: t.nn.functional.hardsigmoid(x), (-5, 5)),
    "hardswish": (F.hardswish, lambda t, x: t.nn.functional.hardswish(x), (-5, 5)),
    "softsign": (F.softsign, lambda t, x: t.nn.functional.softsign(x), None),
    "mish": (F.mish, lambda t, x: t.nn.functional.mish(x), None),
    "softmin": (lambda x: F.softmin(x, dim=-1), lambda t, x: t.nn.functional.softmin(x, dim=-1), None),
}


def _torch_fn(spec):
    return (lambda t, x: getattr(t, spec)(x)) if isinstance(spec, str) else spec


@pytest.mark.parametrize("name", list(UNARY))
def test_pointwise_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs, dom = UNARY[name]
    lo, hi = dom or (-3, 3)
    x = np.random.default_rng(3).uniform(lo, hi, (3, 5))
    if name in ("sign", "floor", "ceil", "round", "trunc"):
        x.flat[:3] = [0.0, 2.5, -1.5]  # zero and halves: round half to even
    if name in ("relu6", "hardtanh", "hardsigmoid", "hardswish"):
        x.flat[:4] = [-3.0, 3.0, -1.0, 1.0] if name != "relu6" else [0.0, 6.0, -1.0, 3.0]  # the kinks
    g = np.random.default_rng(4).standard_normal(x.shape)
    t = Tensor(x, requires_grad=True)
    z = ours(t)
    z.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tz = _torch_fn(theirs)(torch, tx)
    tz.backward(torch.tensor(g))
    np.testing.assert_allclose(z.data, tz.detach().numpy(), rtol=1e-12, atol=1e-14)
    # torch rounds some constants to float32 (hardsigmoid's 1/6): 1e-7 relative
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-7 if name.startswith("hard") else 1e-10,
                               atol=1e-14)
    for shape in ((), (0,), (2, 0)) if name != "softmin" else ():  # 0-d and empty, as torch
        e = np.random.default_rng(5).uniform(lo, hi, shape)
        np.testing.assert_allclose(ours(Tensor(e)).data, _torch_fn(theirs)(torch, torch.tensor(e)).numpy(),
                                   rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in UNARY if n not in ("sign", "floor", "ceil", "round", "trunc")])
def test_pointwise_gradcheck(name):
    ours, _, dom = UNARY[name]
    lo, hi = dom or (-3, 3)
    x = np.random.default_rng(6).uniform(lo, hi, (2, 3))
    if name in ("relu6", "hardtanh", "hardsigmoid", "hardswish"):
        x = np.where(np.abs(np.abs(x) - 3) < 0.05, x + 0.2, x)  # away from the kinks
    assert gradcheck(ours, [Tensor(x, requires_grad=True)])


def test_binary_and_ternary_match_torch():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(7)
    a, b, w = r.standard_normal((4, 3)) * 3, r.standard_normal((3,)) * 3, r.uniform(0, 1, (4, 1))
    a[0, :2] = [-np.inf, np.inf]
    b[:2] = [-np.inf, np.inf]
    cases = [(lambda x, y: x.logaddexp(y), lambda x, y: torch.logaddexp(x, y), (a, b)),
             (lambda x, y, z: tl.lerp(x, y, z), lambda x, y, z: torch.lerp(x, y, z), (a[1:], np.full(3, 1.5), w[1:]))]
    for ours, theirs, arrays in cases:
        ts = [Tensor(v, requires_grad=True) for v in arrays]
        tt = [torch.tensor(v, requires_grad=True) for v in arrays]
        z, tz = ours(*ts), theirs(*tt)
        np.testing.assert_allclose(z.data, tz.detach().numpy(), rtol=1e-12)
        finite = np.isfinite(z.data).all()
        z.sum().backward()
        tz.sum().backward()
        for x, y in zip(ts, tt):
            np.testing.assert_allclose(x.grad, y.grad.numpy(), rtol=1e-12, atol=1e-14, equal_nan=not finite)
    assert gradcheck(lambda x, y: x.logaddexp(y), [Tensor(r.standard_normal((2, 3)), requires_grad=True),
                                                   Tensor(r.standard_normal((3,)), requires_grad=True)])
    assert gradcheck(lambda x, y, z: x.lerp(y, z), [Tensor(r.standard_normal((2, 3)), requires_grad=True)
                                                    for _ in range(3)])


def test_definitions_are_the_only_statement_of_each_derivative():
    """Each op's lowered derivative is what the kernels run: the numpy backend's gradient function is rendered
    from the tree (no per-op backward code exists to drift)."""
    for op in ALL_OPS:
        assert "backward" not in op.__dict__ and "forward" not in op.__dict__, op.__name__
        low = op.lower(**ATTRS.get(op.__name__, {}))
        assert len(low.grads) == len(op.input_names)
