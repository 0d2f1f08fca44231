"""Every op: forward against numpy, backward by gradcheck (float64), numpy and numba backends equal, over shapes
drawn by hypothesis; forward and every input gradient against PyTorch where it is installed."""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest
from helpers import SEEDS, broadcast_shapes, check_backends, check_grad, check_op, rand, shapes
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lstm as tl
from tinygrad_lstm import Tensor, backend, concat, stack, where

F64 = dict(rtol=1e-12, atol=1e-12)


def _avoid(x: np.ndarray, *points: float, gap: float = 0.05) -> np.ndarray:
    """Move values off the kinks at `points` so that finite differences see a smooth function."""
    for p in points:
        x = np.where(np.abs(x - p) < gap, p + 2 * gap * np.sign(x - p + 1e-9), x)
    return x


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ---------------------------------------------------------------------------------------------------------------
# binary elementwise ops
# ---------------------------------------------------------------------------------------------------------------

#        name       ours                          numpy          domain of a, of b
BINARY = {
    "add": (operator.add, np.add, "any", "any"),
    "sub": (operator.sub, np.subtract, "any", "any"),
    "mul": (operator.mul, np.multiply, "any", "any"),
    "div": (operator.truediv, np.divide, "any", "away"),
    "pow": (operator.pow, np.power, "pos", "any"),
    "maximum": (lambda a, b: a.maximum(b), np.maximum, "any", "any"),
    "minimum": (lambda a, b: a.minimum(b), np.minimum, "any", "any"),
    "tl.maximum": (lambda a, b: tl.maximum(a, b), np.maximum, "any", "any"),
    "tl.minimum": (lambda a, b: tl.minimum(a, b), np.minimum, "any", "any"),
}


@pytest.mark.parametrize("name", list(BINARY))
@given(bs=broadcast_shapes(2), seed=SEEDS)
def test_binary_op(name, bs, seed):
    fn, ref, da, db = BINARY[name]
    a, b = rand(bs.input_shapes[0], seed, da), rand(bs.input_shapes[1], seed + 1, db)
    out = fn(Tensor(a), Tensor(b))
    assert isinstance(out, Tensor) and out.shape == bs.result_shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref(a, b), **F64)
    check_grad(fn, a, b)
    check_backends(fn, a, b)


BINARY_TORCH_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1, 3), (2, 1)), ((), (2, 2)), ((3,), ())]


@pytest.mark.parametrize("shape_a,shape_b", BINARY_TORCH_SHAPES)
@pytest.mark.parametrize("name", [n for n in BINARY if not n.startswith("tl.")])
def test_binary_op_matches_torch(name, shape_a, shape_b):
    fn, _, da, db = BINARY[name]
    check_op(fn, rand(shape_a, 1, da), rand(shape_b, 2, db))


def test_maximum_minimum_ties_split_the_gradient():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 5.0])
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    x.maximum(y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 1, 0])
    np.testing.assert_array_equal(y.grad, [0.5, 0, 1])
    x.grad = y.grad = None
    x.minimum(y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0, 1])
    np.testing.assert_array_equal(y.grad, [0.5, 1, 0])
    check_op(lambda p, q: p.maximum(q) * 2 + p.minimum(q), a, b)


# scalars and ndarrays on either side ---------------------------------------------------------------------------

ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow}
OTHERS = {
    "int": 2,
    "float": 1.5,
    "np.float32": np.float32(1.5),
    "ndarray": rand((2, 3), 7, "pos", np.float32),
    "ndarray-broadcast": rand((3,), 8, "pos", np.float32),
}


@pytest.mark.parametrize("other", list(OTHERS))
@pytest.mark.parametrize("side", ["tensor-left", "tensor-right"])
@pytest.mark.parametrize("sym", list(ARITH))
def test_mixed_operands(sym, side, other):
    op, o = ARITH[sym], OTHERS[other]

    def f(t):
        return op(t, o) if side == "tensor-left" else op(o, t)

    x = rand((2, 3), 3, "pos", np.float32)
    t = Tensor(x, requires_grad=True)
    out = f(t)
    assert isinstance(out, Tensor)
    assert out.dtype == np.float32, "a Python scalar or float32 array must not promote float32"
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.data, f(x), rtol=1e-6)
    out.sum().backward()
    assert t.grad.shape == (2, 3) and t.grad.dtype == np.float32
    check_grad(f, x)  # f(x) in float64 through the same operands


@pytest.mark.parametrize("sym", list(ARITH))
def test_scalar_operands_match_torch(sym):
    op = ARITH[sym]
    x = rand((2, 3), 3, "pos")
    check_op(lambda t: op(t, 1.5) + op(2.5, t), x)


def test_ndarray_on_the_left_gives_a_tensor():
    x = Tensor(rand((3,), 1, "pos"), requires_grad=True)
    arr = rand((2, 3), 2, "pos")
    for sym, op in ARITH.items():
        out = op(arr, x)
        assert isinstance(out, Tensor), f"ndarray {sym} Tensor did not defer to the Tensor"
        assert out.requires_grad
        np.testing.assert_allclose(out.data, op(arr, x.data), err_msg=sym)
    out = arr @ Tensor(rand((3, 2), 3), requires_grad=True)
    assert isinstance(out, Tensor) and out.shape == (2, 2) and out.requires_grad


def test_neg_and_pos():
    x = rand((2, 3), 1)
    t = Tensor(x, requires_grad=True)
    np.testing.assert_array_equal((-t).data, -x)
    assert +t is t
    check_grad(lambda t: -t, x)
    check_backends(lambda t: -(t * 2), x)
    check_op(lambda t: -t * 3, x)


# comparisons ---------------------------------------------------------------------------------------------------

COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
           "!=": operator.ne}


@pytest.mark.parametrize("sym", list(COMPARE))
def test_comparison_is_boolean_and_records_nothing(sym):
    op = COMPARE[sym]
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([3.0, 2.0, 1.0])
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    for left, right, expect in [(x, y, op(a, b)), (x, 2.0, op(a, 2.0)), (2.0, x, op(2.0, a)), (x, b, op(a, b)),
                                (b, x, op(b, a))]:
        out = op(left, right)
        assert isinstance(out, Tensor), f"{type(left).__name__} {sym} {type(right).__name__}"
        assert out.dtype == np.bool_
        np.testing.assert_array_equal(out.data, expect)
        assert not out.requires_grad and out.grad_fn is None


# ---------------------------------------------------------------------------------------------------------------
# unary ops
# ---------------------------------------------------------------------------------------------------------------

UNARY = {
    "neg": (operator.neg, np.negative, "any"),
    "exp": (lambda t: t.exp(), np.exp, "any"),
    "log": (lambda t: t.log(), np.log, "pos"),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, "pos"),
    "tanh": (lambda t: t.tanh(), np.tanh, "any"),
    "sigmoid": (lambda t: t.sigmoid(), _sigmoid, "any"),
    "relu": (lambda t: t.relu(), lambda x: np.maximum(x, 0), "away"),
    "abs": (lambda t: t.abs(), np.abs, "away"),
    "abs()": (lambda t: abs(t), np.abs, "away"),
    "clip": (lambda t: t.clip(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), "clip"),
    "clip(min=)": (lambda t: t.clip(min=-0.5), lambda x: np.maximum(x, -0.5), "clip"),
    "clip(max=)": (lambda t: t.clip(max=0.7), lambda x: np.minimum(x, 0.7), "clip"),
}


def _unary_input(shape, seed, domain):
    if domain == "clip":
        return _avoid(rand(shape, seed), -0.5, 0.7)
    return rand(shape, seed, domain)


@pytest.mark.parametrize("name", list(UNARY))
@given(shape=shapes(), seed=SEEDS)
def test_unary_op(name, shape, seed):
    fn, ref, domain = UNARY[name]
    x = _unary_input(shape, seed, domain)
    out = fn(Tensor(x))
    assert isinstance(out, Tensor) and out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref(x), **F64)
    check_grad(fn, x)
    check_backends(fn, x)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_op_matches_torch(name):
    fn, _, domain = UNARY[name]
    check_op(fn, _unary_input((3, 4), 5, domain))


def test_kinks_follow_torch_conventions():
    """At the kink: relu'(0) = 0, |x|'(0) = 0, clip passes the gradient at its bounds."""
    x = Tensor([-1.0, 0.0, 3.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 1])
    x.grad = None
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad, [-1, 0, 1])
    x.grad = None
    x.clip(0.0, 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1])
    check_op(lambda t: t.relu() + t.abs() + t.clip(0.0, 3.0), np.array([-1.0, 0.0, 3.0]))


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="clip: give at least one of min and max"):
        Tensor([1.0]).clip()


def test_clamp_is_clip():
    x = np.array([-2.0, 0.1, 2.0])
    np.testing.assert_array_equal(Tensor(x).clamp(-1, 1).data, np.clip(x, -1, 1))


def test_pow_edge_gradients():
    """d/dx x**0 = 0 even at x = 0; d/dy 0**y = 0 for y > 0 (torch's conventions)."""
    x = Tensor([0.0, 0.0, 2.0], requires_grad=True)
    y = Tensor([0.0, 2.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 12.0])
    np.testing.assert_allclose(y.grad, [0.0, 0.0, 8 * np.log(2)])
    check_op(lambda a, b: a ** b, np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 3.0]))


# ---------------------------------------------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def shape_axis_keepdims(draw, min_dims=1):
    shape = draw(shapes(min_dims=min_dims, max_dims=3))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
        axis = tuple(a - nd if draw(st.booleans()) else a for a in axes)  # mix negative axes in
    return shape, axis, draw(st.booleans())


def _np_logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


#          name        ours(t, axis, keepdims)                         numpy
REDUCE = {
    "sum": (lambda t, a, k: t.sum(a, k), lambda x, a, k: np.sum(x, axis=a, keepdims=k)),
    "mean": (lambda t, a, k: t.mean(a, k), lambda x, a, k: np.mean(x, axis=a, keepdims=k)),
    "amax": (lambda t, a, k: t.amax(a, k), lambda x, a, k: np.max(x, axis=a, keepdims=k)),
    "amin": (lambda t, a, k: t.amin(a, k), lambda x, a, k: np.min(x, axis=a, keepdims=k)),
    "var(ddof=0)": (lambda t, a, k: t.var(a, k, ddof=0), lambda x, a, k: np.var(x, axis=a, keepdims=k)),
    "var": (lambda t, a, k: t.var(a, k), lambda x, a, k: np.var(x, axis=a, keepdims=k, ddof=1)),  # torch's default
    "std(ddof=0)": (lambda t, a, k: t.std(a, k, ddof=0), lambda x, a, k: np.std(x, axis=a, keepdims=k)),
    "std": (lambda t, a, k: t.std(a, k), lambda x, a, k: np.std(x, axis=a, keepdims=k, ddof=1)),
    "logsumexp": (lambda t, a, k: t.logsumexp(a, k), _np_logsumexp),
}


def _group_size(shape, axis):
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    return int(np.prod([shape[a] for a in axes]))


@pytest.mark.parametrize("name", list(REDUCE))
@given(sak=shape_axis_keepdims(), seed=SEEDS)
def test_reduction(name, sak, seed):
    shape, axis, keepdims = sak
    if name in ("var", "std", "std(ddof=0)") and _group_size(shape, axis) < 2:
        return  # n - 1 = 0: no estimate; std of one element: its gradient is 0 (tests/test_edges.py), not smooth
    fn, ref = REDUCE[name]
    x = rand(shape, seed)
    expect = ref(x, axis, keepdims)
    out = fn(Tensor(x), axis, keepdims)
    assert out.shape == np.shape(expect) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expect, **F64)
    check_grad(lambda t: fn(t, axis, keepdims), x)
    check_backends(lambda t: fn(t, axis, keepdims), x)


#               torch-style call, accepted by both (dim=/keepdim=)             torch where it differs
REDUCE_TORCH = {
    "sum": (lambda t, a, k: t.sum(dim=a, keepdim=k), None),
    "mean": (lambda t, a, k: t.mean(dim=a, keepdim=k), None),
    "amax": (lambda t, a, k: t.amax(dim=a, keepdim=k), lambda t, a, k: t.amax(dim=a if a is not None else (),
                                                                              keepdim=k)),
    "amin": (lambda t, a, k: t.amin(dim=a, keepdim=k), lambda t, a, k: t.amin(dim=a if a is not None else (),
                                                                              keepdim=k)),
    "var": (lambda t, a, k: t.var(dim=a, keepdim=k, correction=0), None),
    "var(correction=1)": (lambda t, a, k: t.var(dim=a, keepdim=k, correction=1), None),
    "var()": (lambda t, a, k: t.var(dim=a, keepdim=k), None),
    "std()": (lambda t, a, k: t.std(dim=a, keepdim=k), None),
    "logsumexp": (lambda t, a, k: t.logsumexp(dim=a, keepdim=k),
                  lambda t, a, k: t.logsumexp(dim=a if a is not None else tuple(range(t.ndim)), keepdim=k)),
}


@pytest.mark.parametrize("name", list(REDUCE_TORCH))
@given(sak=shape_axis_keepdims(), seed=SEEDS)
def test_reduction_matches_torch(name, sak, seed):
    shape, axis, keepdims = sak
    if name in ("var(correction=1)", "var()", "std()") and _group_size(shape, axis) < 2:
        return
    fn, tfn = REDUCE_TORCH[name]
    check_op(lambda t: fn(t, axis, keepdims), rand(shape, seed),
             torch_fn=(lambda t: tfn(t, axis, keepdims)) if tfn else None)


def test_var_torch_spellings():
    x = rand((3, 4), 2)
    t = Tensor(x)
    np.testing.assert_allclose(t.var(unbiased=True).data, np.var(x, ddof=1))
    np.testing.assert_allclose(t.var(unbiased=False).data, np.var(x))
    np.testing.assert_allclose(t.var(0, ddof=1).data, np.var(x, axis=0, ddof=1))
    np.testing.assert_allclose(t.std(dim=1, correction=1).data, np.std(x, axis=1, ddof=1))


def test_reduction_of_a_0d_tensor():
    t = Tensor(np.array(2.5), requires_grad=True)
    for r in (t.sum(), t.mean(), t.max(), t.min(), t.logsumexp()):
        assert r.shape == () and r.item() == pytest.approx(2.5)
    t.sum().backward()
    assert t.grad == 1.0


def test_max_min_ties_share_the_gradient():
    x = np.array([[3.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    t = Tensor(x, requires_grad=True)
    t.max(axis=1).sum().backward()
    np.testing.assert_allclose(t.grad, [[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    t.grad = None
    t.min().backward()
    np.testing.assert_allclose(t.grad, [[0, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    check_op(lambda a: a.amax(dim=1).sum() + a.min(), x, torch_fn=lambda a: a.amax(dim=1).sum() + a.amin())


def test_torch_and_numpy_axis_names_together():
    t = Tensor(rand((2, 3), 1))
    with pytest.raises(TypeError, match="either axis= or dim="):
        t.mean(axis=0, dim=1)
    np.testing.assert_allclose(t.sum(dim=-1, keepdim=True).data, t.data.sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------------------------------------------------------
# softmax family
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def shape_and_one_axis(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


SOFTMAX = {
    "softmax": (lambda t, a: t.softmax(a), _np_softmax),
    "log_softmax": (lambda t, a: t.log_softmax(a), lambda x, a: np.log(_np_softmax(x, a))),
}


@pytest.mark.parametrize("name", list(SOFTMAX))
@given(sa=shape_and_one_axis(), seed=SEEDS)
def test_softmax_family(name, sa, seed):
    shape, axis = sa
    fn, ref = SOFTMAX[name]
    x = rand(shape, seed) * 3
    out = fn(Tensor(x), axis)
    assert out.shape == shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref(x, axis), **F64)
    check_grad(lambda t: fn(t, axis), x)
    check_backends(lambda t: fn(t, axis), x)


@pytest.mark.parametrize("name", list(SOFTMAX))
@given(sa=shape_and_one_axis(), seed=SEEDS)
def test_softmax_family_matches_torch(name, sa, seed):
    shape, axis = sa
    call = {"softmax": lambda t: t.softmax(dim=axis), "log_softmax": lambda t: t.log_softmax(dim=axis)}[name]
    check_op(call, rand(shape, seed) * 3)


def test_softmax_axis_errors():
    with pytest.raises(ValueError, match=r"softmax: axis 2 is out of range .*\(2, 3\)"):
        Tensor.ones(2, 3).softmax(2)
    with pytest.raises(ValueError, match="log_softmax: axis"):
        Tensor.ones(2, 3).log_softmax(axis=-3)


# ---------------------------------------------------------------------------------------------------------------
# numerical stability
# ---------------------------------------------------------------------------------------------------------------

BIG = [-1e30, -1e10, -1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4, 1e10, 1e30]


@pytest.mark.parametrize("name", ["numpy", "numba"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_tanh_saturate_exactly(name, dtype):
    x = np.array(BIG, dtype=dtype)
    with backend(name), warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(x, requires_grad=True)
        s, th = t.sigmoid(), t.tanh()
        (s + th).sum().backward()
    for out in (s, th):
        assert out.dtype == dtype and np.all(np.isfinite(out.data))
    sd, td = s.data, th.data
    assert sd[0] == 0 and sd[1] == 0 and sd[2] == 0 and sd[-1] == 1 and sd[-2] == 1 and sd[-3] == 1
    assert sd[5] == 0.5 and td[5] == 0
    np.testing.assert_array_equal(td[[0, 1, 2, 3]], -1)
    np.testing.assert_array_equal(td[[-1, -2, -3, -4]], 1)
    assert np.all((sd >= 0) & (sd <= 1))
    with np.errstate(over="ignore"):
        expect = _sigmoid(x.astype(np.float64))
    # float32 on numba: a rational approximation, absolute error < 3e-7 (so sigmoid(-20) may round to 0)
    np.testing.assert_allclose(sd, expect, rtol=1e-6 if dtype == np.float32 else 1e-14,
                               atol=3e-7 if dtype == np.float32 else 1e-300)
    g = t.grad
    assert g.dtype == dtype and np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[[0, 1, 2, -3, -2, -1]], 0)
    assert g[5] == pytest.approx(1.25)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_and_logsumexp_never_overflow(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4], [1e30, -1e30, 0.0]], dtype=dtype)
    log3 = np.log(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(x, requires_grad=True)
        lse = t.logsumexp(axis=1)
        ls = t.log_softmax(axis=1)
        sm = t.softmax(axis=1)
        (lse.sum() + (ls * Tensor(np.arange(12.0, dtype=dtype).reshape(4, 3))).sum() + sm[:, 0].sum()).backward()
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(lse.data, [1e4, -1e4 + log3, 1e4 + log3, 1e30], rtol=rtol)
    np.testing.assert_allclose(ls.data[0], [0, -2e4, -1e4], rtol=rtol)
    np.testing.assert_allclose(ls.data[3], [0, -2e30, -1e30], rtol=rtol)
    np.testing.assert_allclose(ls.data[1:3], -log3, rtol=rtol)
    np.testing.assert_allclose(sm.data[:3], [[1, 0, 0], [1 / 3] * 3, [1 / 3] * 3], rtol=rtol, atol=1e-30)
    for out in (lse, ls, sm):
        assert out.dtype == dtype
    assert np.all(np.isfinite(t.grad)) and t.grad.dtype == dtype


def test_masked_rows_with_minus_inf():
    """A row partly -inf (a mask) gives zero probability there; a row all -inf has logsumexp -inf."""
    inf = np.inf
    x = np.array([[0.0, -inf, 0.0], [1.0, 2.0, -inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(x, requires_grad=True)
        sm, ls, lse = t.softmax(-1), t.log_softmax(-1), t.logsumexp(-1)
        (sm[:, 0].sum() + lse.sum()).backward()
        all_masked = Tensor(np.full((2, 3), -inf)).logsumexp(axis=1)
    np.testing.assert_allclose(sm.data[0], [0.5, 0, 0.5])
    np.testing.assert_allclose(ls.data[0], [-np.log(2), -inf, -np.log(2)])
    np.testing.assert_allclose(lse.data, [np.log(2), np.log(np.e + np.e ** 2)])
    assert np.all(np.isfinite(t.grad)) and t.grad[0, 1] == 0 and t.grad[1, 2] == 0
    np.testing.assert_array_equal(all_masked.data, [-inf, -inf])
    check_op(lambda a: a.softmax(dim=-1)[:, 0].sum() + a.logsumexp(dim=-1).sum() + a.log_softmax(dim=-1)[:, 0],
             x)


# ---------------------------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw):
    bs = draw(broadcast_shapes(2, max_dims=2))
    m, k, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a = (k,) if draw(st.booleans()) else bs.input_shapes[0] + (m, k)
    b = (k,) if draw(st.booleans()) else bs.input_shapes[1] + (k, n)
    return a, b


@given(ab=matmul_shapes(), seed=SEEDS)
def test_matmul(ab, seed):
    a, b = rand(ab[0], seed), rand(ab[1], seed + 1)
    expect = np.matmul(a, b)
    for fn in (operator.matmul, lambda p, q: p.matmul(q), lambda p, q: p.dot(q)):
        out = fn(Tensor(a), Tensor(b))
        assert out.shape == expect.shape and out.dtype == np.float64
        np.testing.assert_allclose(out.data, expect, **F64)
    check_grad(operator.matmul, a, b)
    check_backends(operator.matmul, a, b)


MATMUL_TORCH = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,))]


@pytest.mark.parametrize("sa,sb", MATMUL_TORCH)
def test_matmul_matches_torch(sa, sb):
    check_op(operator.matmul, rand(sa, 1), rand(sb, 2))


def test_matmul_float32_and_ndarray_operands():
    a, b = rand((2, 3), 1, dtype=np.float32), rand((3, 4), 2, dtype=np.float32)
    t = Tensor(a, requires_grad=True)
    for out in (t @ b, Tensor(b.T) @ t.T, b.T @ t.T):
        assert isinstance(out, Tensor) and out.dtype == np.float32 and out.requires_grad
    (t @ b).sum().backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_allclose(t.grad, np.ones((2, 4), np.float32) @ b.T, rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# movement: reshape, transpose, permute, expand, squeeze, unsqueeze, flatten
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def shape_and_reshape(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    new = list(draw(st.permutations(list(shape))))
    for _ in range(draw(st.integers(0, 2))):
        new.insert(draw(st.integers(0, len(new))), 1)
    if new and draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    return shape, tuple(new)


@given(ss=shape_and_reshape(), seed=SEEDS)
def test_reshape(ss, seed):
    shape, new = ss
    x = rand(shape, seed)
    expect = x.reshape(new)
    for fn in (lambda t: t.reshape(new), lambda t: t.reshape(*new), lambda t: t.view(new)):
        out = fn(Tensor(x))
        assert out.shape == expect.shape
        np.testing.assert_array_equal(out.data, expect)
    check_grad(lambda t: t.reshape(new), x)
    check_backends(lambda t: t.reshape(new) * 2, x)
    check_op(lambda t: t.reshape(new), x)


@given(shape=shapes(min_dims=0, max_dims=4), data=st.data(), seed=SEEDS)
def test_transpose_permute(shape, data, seed):
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    x = rand(shape, seed)
    np.testing.assert_array_equal(Tensor(x).transpose(perm).data, np.transpose(x, perm))
    np.testing.assert_array_equal(Tensor(x).permute(*perm).data, np.transpose(x, perm))
    np.testing.assert_array_equal(Tensor(x).permute(perm).data, np.transpose(x, perm))
    np.testing.assert_array_equal(Tensor(x).transpose().data, x.transpose())
    np.testing.assert_array_equal(Tensor(x).T.data, x.T)
    check_grad(lambda t: t.transpose(perm) * Tensor(np.arange(x.size).reshape(np.transpose(x, perm).shape)), x)
    check_backends(lambda t: t.permute(perm).tanh(), x)
    check_op(lambda t: t.permute(perm), x)


def test_transpose_two_axes_swaps_them_as_torch():
    x2, x3 = rand((2, 3), 1), rand((2, 3, 4), 2)
    for x, a, b in [(x2, 0, 1), (x2, 1, 0), (x2, -1, -2), (x3, 1, 2), (x3, 0, -1), (x3, 2, 0)]:
        check_op(lambda t, a=a, b=b: t.transpose(a, b), x)
        assert Tensor(x).transpose(a, b).shape == np.swapaxes(x, a, b).shape
    assert Tensor(x2).transpose(0, 0).shape == (2, 3)
    check_op(lambda t: t.swapaxes(0, 2), x3, torch_fn=lambda t: t.transpose(0, 2))
    np.testing.assert_array_equal(Tensor(x3).transpose((2, 0, 1)).data, x3.transpose(2, 0, 1))


@st.composite
def shape_and_expand(draw):
    shape = draw(shapes(min_dims=0, max_dims=3, max_side=3))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    target = [draw(st.integers(1, 3)) if n == 1 else n for n in shape]
    shown = [n if old == 1 or not draw(st.booleans()) else -1 for n, old in zip(target, shape)]
    return shape, lead + tuple(target), lead + tuple(shown)


@given(sx=shape_and_expand(), seed=SEEDS)
def test_expand(sx, seed):
    shape, target, call = sx
    x = rand(shape, seed)
    out = Tensor(x).expand(*call)
    assert out.shape == target
    np.testing.assert_array_equal(out.data, np.broadcast_to(x, target))
    np.testing.assert_array_equal(Tensor(x).broadcast_to(call).data, np.broadcast_to(x, target))
    check_grad(lambda t: t.expand(call) * Tensor(rand(target, 3)), x)
    check_backends(lambda t: t.expand(call).sigmoid(), x)
    check_op(lambda t: t.expand(call), x)


SHAPE_OPS = {
    "squeeze()": ((1, 3, 1, 2), lambda t: t.squeeze(), lambda x: x.squeeze()),
    "squeeze(0)": ((1, 3, 1, 2), lambda t: t.squeeze(0), lambda x: x.squeeze(0)),
    "squeeze(-2)": ((1, 3, 1, 2), lambda t: t.squeeze(-2), lambda x: x.squeeze(-2)),
    "squeeze(dim=1) keeps size 3": ((1, 3, 1, 2), lambda t: t.squeeze(dim=1), lambda x: x),
    "squeeze((0, 2))": ((1, 3, 1, 2), lambda t: t.squeeze((0, 2)), lambda x: x.squeeze((0, 2))),
    "unsqueeze(0)": ((3, 2), lambda t: t.unsqueeze(0), lambda x: x[None]),
    "unsqueeze(-1)": ((3, 2), lambda t: t.unsqueeze(-1), lambda x: x[..., None]),
    "unsqueeze(dim=1)": ((3, 2), lambda t: t.unsqueeze(dim=1), lambda x: x[:, None]),
    "unsqueeze(2)": ((3, 2), lambda t: t.unsqueeze(2), lambda x: x[:, :, None]),
    "flatten()": ((2, 3, 4), lambda t: t.flatten(), lambda x: x.reshape(-1)),
    "flatten(1)": ((2, 3, 4), lambda t: t.flatten(1), lambda x: x.reshape(2, 12)),
    "flatten(0, 1)": ((2, 3, 4), lambda t: t.flatten(0, 1), lambda x: x.reshape(6, 4)),
    "flatten(-2, -1)": ((2, 3, 4), lambda t: t.flatten(-2, -1), lambda x: x.reshape(2, 12)),
    "flatten 0-d": ((), lambda t: t.flatten(), lambda x: x.reshape(1)),
}


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_op(name):
    shape, fn, ref = SHAPE_OPS[name]
    x = rand(shape, 4)
    out = fn(Tensor(x))
    assert out.shape == ref(x).shape
    np.testing.assert_array_equal(out.data, ref(x))
    check_grad(lambda t: fn(t) * Tensor(rand(ref(x).shape, 5)), x)
    check_backends(fn, x)
    check_op(fn, x)


# ---------------------------------------------------------------------------------------------------------------
# indexing
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def shape_and_basic_index(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    return shape, draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))


@given(si=shape_and_basic_index(), seed=SEEDS)
def test_getitem_basic(si, seed):
    """ints, slices (any step), None and Ellipsis."""
    shape, index = si
    x = rand(shape, seed)
    out = Tensor(x)[index]
    assert out.shape == x[index].shape
    np.testing.assert_array_equal(out.data, x[index])
    check_grad(lambda t: t[index], x)
    check_backends(lambda t: t[index] * 3, x)


@st.composite
def shape_and_array_index(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    return shape, draw(hnp.integer_array_indices(shape, result_shape=shapes(min_dims=1, max_dims=2, max_side=5)))


@given(si=shape_and_array_index(), seed=SEEDS)
def test_getitem_integer_arrays_scatter_add(si, seed):
    """Integer-array indices; an element selected several times gets all those gradients added."""
    shape, index = si
    x = rand(shape, seed)
    out = Tensor(x)[index]
    np.testing.assert_array_equal(out.data, x[index])
    w = rand(out.shape, seed + 1)
    t = Tensor(x, requires_grad=True)
    (t[index] * Tensor(w)).sum().backward()
    expect = np.zeros_like(x)
    np.add.at(expect, index, w)
    np.testing.assert_allclose(t.grad, expect, **F64)
    check_grad(lambda t: t[index], x)
    check_backends(lambda t: t[index].exp(), x)


_MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
GETITEM = {
    "int": lambda t: t[1],
    "negative int": lambda t: t[-1, -2],
    "slice": lambda t: t[1:, ::2],
    "None and Ellipsis": lambda t: t[None, ..., 1:3, None],
    "int list": lambda t: t[[0, 2]],
    "repeated int array": lambda t: t[np.array([0, 2, 0, 0])],
    "2-d int array": lambda t: t[:, np.array([[0, 1], [3, 3]])],
    "two int arrays": lambda t: t[np.array([0, 1, 0]), np.array([3, 3, 3])],
    "int array and slice": lambda t: t[np.array([2, 2]), 1:],
    "bool mask": lambda t: t[_MASK],
    "bool row mask": lambda t: t[np.array([True, False, True])],
    "bool mask on axis 1": lambda t: t[:, np.array([False, True, True, False])],
}


@pytest.mark.parametrize("name", list(GETITEM))
def test_getitem_matches_torch(name):
    fn = GETITEM[name]
    x = rand((3, 4), 6)
    check_grad(fn, x)
    check_backends(fn, x)
    check_op(fn, x)


def test_getitem_with_tensor_indices():
    x = rand((3, 4), 1)
    idx = np.array([2, 0, 2])
    t = Tensor(x, requires_grad=True)
    out = t[Tensor(idx)]
    np.testing.assert_array_equal(out.data, x[idx])
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [[1] * 4, [0] * 4, [2] * 4])
    t.grad = None
    mask = Tensor(x) > 0
    t[mask].sum().backward()
    np.testing.assert_array_equal(t.grad, (x > 0).astype(float))
    assert t[Tensor(1)].shape == (4,)


def test_getitem_float32_scatter_keeps_dtype():
    t = Tensor(rand((4,), 1, dtype=np.float32), requires_grad=True)
    t[np.array([1, 1, 3])].sum().backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_array_equal(t.grad, [0, 2, 0, 1])


# ---------------------------------------------------------------------------------------------------------------
# split, chunk, concat, stack, where
# ---------------------------------------------------------------------------------------------------------------

SPLITS = {
    "split(2)": ((5, 3), lambda t: t.split(2), lambda x: np.split(x, [2, 4])),
    "split([1, 2], dim=1)": ((2, 3), lambda t: t.split([1, 2], dim=1), lambda x: np.split(x, [1], axis=1)),
    "split([2, 0, 3])": ((5,), lambda t: t.split([2, 0, 3]), lambda x: np.split(x, [2, 2])),
    "split(1, -1)": ((2, 3), lambda t: t.split(1, -1), lambda x: np.split(x, 3, axis=1)),
    "chunk(2)": ((5, 2), lambda t: t.chunk(2), lambda x: np.split(x, [3])),
    "chunk(4, dim=1)": ((2, 8), lambda t: t.chunk(4, dim=1), lambda x: np.split(x, 4, axis=1)),
    "chunk(3) of 4": ((4,), lambda t: t.chunk(3), lambda x: np.split(x, [2])),
}


@pytest.mark.parametrize("name", list(SPLITS))
def test_split_chunk(name):
    shape, fn, ref = SPLITS[name]
    x = rand(shape, 2)
    outs, expect = fn(Tensor(x)), ref(x)
    assert len(outs) == len(expect)
    for o, e in zip(outs, expect):
        assert o.shape == e.shape
        np.testing.assert_array_equal(o.data, e)
    check_grad(fn, x)
    check_backends(fn, x)
    check_op(fn, x)


def test_split_positional_axis_and_partial_use():
    """Only some pieces used: the others contribute zero gradient."""
    x = rand((2, 6), 3)
    t = Tensor(x, requires_grad=True)
    a, b, c = t.split(2, 1)
    (b * 3).sum().backward()
    expect = np.zeros_like(x)
    expect[:, 2:4] = 3
    np.testing.assert_array_equal(t.grad, expect)
    check_op(lambda t: t.split(2, 1)[1] * 3 + t.chunk(3, 1)[2], x)


def test_split_errors():
    t = Tensor.ones(4, 3)
    with pytest.raises(ValueError, match=r"split: sizes \[1, 2\] must be non-negative and sum to 4"):
        t.split([1, 2])
    with pytest.raises(ValueError, match="split: size must be positive"):
        t.split(0)
    with pytest.raises(ValueError, match="split: axis 2 is out of range"):
        t.split(1, 2)
    with pytest.raises(ValueError, match="chunk: number of chunks must be positive"):
        t.chunk(0)


@given(shape=shapes(min_dims=1, max_dims=3), data=st.data(), seed=SEEDS)
def test_concat_stack(shape, data, seed):
    nd = len(shape)
    axis = data.draw(st.integers(-nd, nd - 1))
    n = data.draw(st.integers(1, 3))
    sizes = [data.draw(st.integers(1, 3)) for _ in range(n)]
    parts = [rand(shape[:axis % nd] + (s,) + shape[axis % nd + 1:], seed + i) for i, s in enumerate(sizes)]
    np.testing.assert_array_equal(concat([Tensor(p) for p in parts], axis=axis).data,
                                  np.concatenate(parts, axis=axis))
    check_grad(lambda *ts: concat(ts, axis=axis) * Tensor(rand(np.concatenate(parts, axis).shape, 9)), *parts)
    check_backends(lambda *ts: concat(ts, axis=axis).tanh(), *parts)
    same = [rand(shape, seed + i) for i in range(n)]
    saxis = data.draw(st.integers(-nd - 1, nd))
    np.testing.assert_array_equal(stack([Tensor(p) for p in same], axis=saxis).data, np.stack(same, axis=saxis))
    check_grad(lambda *ts: stack(ts, axis=saxis) * Tensor(rand(np.stack(same, saxis).shape, 9)), *same)
    check_backends(lambda *ts: stack(ts, axis=saxis).tanh(), *same)


def test_concat_stack_match_torch():
    torch = pytest.importorskip("torch")
    a, b, c = rand((2, 3), 1), rand((2, 1), 2), rand((2, 3), 3)
    check_op(lambda p, q: concat([p, q], axis=1), a, b, torch_fn=lambda p, q: torch.cat([p, q], dim=1))
    check_op(lambda p, q: tl.cat([p, q], dim=-1), a, b, torch_fn=lambda p, q: torch.cat([p, q], dim=-1))
    check_op(lambda p, q: stack([p, q, p]), a, c, torch_fn=lambda p, q: torch.stack([p, q, p]))
    check_op(lambda p, q: stack([p, q], dim=-1), a, c, torch_fn=lambda p, q: torch.stack([p, q], dim=-1))


def test_concat_mixes_constants_and_one_tensor():
    t = Tensor(rand((2,), 1), requires_grad=True)
    out = concat([t, np.zeros(3), t])
    assert out.shape == (7,)
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [2, 2])
    assert concat([t]) is t


def test_concat_stack_errors():
    with pytest.raises(ValueError, match=r"concat: tensor 1 has shape \(3, 3\) but tensor 0 has shape \(2, 2\)"):
        concat([Tensor.ones(2, 2), Tensor.ones(3, 3)], axis=1)
    with pytest.raises(ValueError, match="concat: needs at least one tensor"):
        concat([])
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3,\) but tensor 0 has shape \(2,\)"):
        stack([Tensor.ones(2), Tensor.ones(3)])
    with pytest.raises(ValueError, match="stack: axis 3 is out of range"):
        stack([Tensor.ones(2), Tensor.ones(2)], axis=3)


@given(bs=broadcast_shapes(3), seed=SEEDS)
def test_where(bs, seed):
    cshape, ashape, bshape = bs.input_shapes
    cond = np.random.default_rng(seed).random(cshape) > 0.5
    a, b = rand(ashape, seed), rand(bshape, seed + 1)
    out = where(Tensor(cond), Tensor(a), Tensor(b))
    np.testing.assert_array_equal(out.data, np.where(cond, a, b))
    assert out.shape == bs.result_shape
    check_grad(lambda p, q: where(cond, p, q), a, b)
    check_backends(lambda p, q: where(Tensor(cond), p, q), a, b)


def test_where_with_scalars_and_torch():
    x = rand((2, 3), 1)
    t = Tensor(x, requires_grad=True)
    out = where(t > 0, t, 0.0)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, np.maximum(x, 0))
    out2 = where(x > 0, 1.0, t)
    np.testing.assert_array_equal(out2.data, np.where(x > 0, 1.0, x))
    (out.sum() + out2.sum()).backward()
    np.testing.assert_array_equal(t.grad, np.ones_like(x))
    torch = pytest.importorskip("torch")
    cond = x > 0
    check_op(lambda p, q: where(cond, p, q), x, rand((3,), 2),
             torch_fn=lambda p, q: torch.where(torch.tensor(cond), p, q))
    with pytest.raises(ValueError, match=r"where: shapes cond \(2,\), a \(3,\), b \(\) do not broadcast"):
        where(np.array([True, False]), Tensor.ones(3), 0.0)


# ---------------------------------------------------------------------------------------------------------------
# backends on large and strided data (the numba backend has its own code paths there: threads, row layouts)
# ---------------------------------------------------------------------------------------------------------------

LAYOUTS = {
    "contiguous": lambda t: t,
    "column slice": lambda t: t[:, 3:],
    "row step": lambda t: t[::2],
    "reversed columns": lambda t: t[:, ::-1],
    "transposed": lambda t: t.T,
}
LARGE_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "tanh": lambda a, b: (a - 1).tanh() * b,
    "sigmoid": lambda a, b: (a - 1).sigmoid() * b,
    "relu": lambda a, b: (a - 1).relu() * b,
    "sqrt": lambda a, b: a.sqrt() * b,
    "exp/log": lambda a, b: a.exp() + b.log(),
}
_SIDE = 260  # 260² = 67,600 elements: above the size where the numba backend switches to its threaded loops


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", list(LARGE_OPS))
def test_backends_agree_on_large_strided_data(name, layout, dtype):
    view, op = LAYOUTS[layout], LARGE_OPS[name]
    a, b = rand((_SIDE, _SIDE), 1, "pos", dtype), rand((_SIDE, _SIDE), 2, "pos", dtype)
    # float32 tanh/sigmoid on numba: a rational approximation (|error| < 3e-7)
    tol = dict(rtol=2e-6, atol=1e-6) if dtype == np.float32 else F64
    check_backends(lambda p, q: op(view(p), view(q)), a, b, **tol)


# ---------------------------------------------------------------------------------------------------------------
# dtypes: float32 by default, float64 kept, integers stay integers
# ---------------------------------------------------------------------------------------------------------------

DTYPE_OPS = {
    **{k: v[0] for k, v in UNARY.items()},
    **{k: (lambda t, f=v[0]: f(t, t * 0.5 + 1.0)) for k, v in BINARY.items()},
    **{k: (lambda t, f=v[0]: f(t, 1, False)) for k, v in REDUCE.items()},
    "softmax": lambda t: t.softmax(-1),
    "log_softmax": lambda t: t.log_softmax(-1),
    "matmul": lambda t: t @ t.T,
    "reshape": lambda t: t.reshape(-1),
    "transpose": lambda t: t.transpose(),
    "expand": lambda t: t.expand(2, 3, 4),
    "getitem": lambda t: t[np.array([1, 1])],
    "split": lambda t: t.split(2, axis=1)[0],
    "concat": lambda t: concat([t, t]),
    "stack": lambda t: stack([t, t]),
    "where": lambda t: where(t > 0.5, t, -t),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(DTYPE_OPS))
def test_dtype_is_kept_forward_and_backward(name, dtype):
    t = Tensor(rand((3, 4), 1, "pos", dtype), requires_grad=True)
    out = DTYPE_OPS[name](t)
    assert out.dtype == dtype, f"{name}: {dtype.__name__} in, {out.dtype} out"
    out.sum().backward()
    assert t.grad.dtype == dtype, f"{name}: {dtype.__name__} in, {t.grad.dtype} gradient"


def test_float32_is_the_default():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(1.5).dtype == np.float32
    assert (Tensor([1.0]) * 2.0 + 1).dtype == np.float32
    assert Tensor.ones(2).dtype == Tensor.randn(2).dtype == np.float32


def test_integer_data_stays_integer():
    i = Tensor([[1, 2, 3], [4, 5, 6]])
    assert i.dtype == np.int64
    for name, out in {
        "add": i + i, "sub": i - 1, "mul": 2 * i, "neg": -i, "pow": i ** 2, "sum": i.sum(), "sum axis": i.sum(1),
        "max": i.max(), "getitem": i[:, 1], "reshape": i.reshape(-1), "transpose": i.T, "concat": concat([i, i]),
        "stack": stack([i, i]), "matmul": i @ i.T, "maximum": i.maximum(2), "abs": i.abs(),
        "where": where(i > 2, i, 0),
    }.items():
        assert out.dtype.kind == "i", f"{name} gave {out.dtype}"
        assert not out.requires_grad
    np.testing.assert_array_equal((i @ i.T).data, [[14, 32], [32, 77]])
    assert (i / 2).dtype.kind == "f"
    assert (i > 2).dtype == np.bool_
