"""Both kernel backends against plain numpy/math references, and against each other.

Warnings are errors here: an overflow warning in tanh/sigmoid, or a numba warning such as "cannot cache", fails.
Sizes sit on both sides of every numba threshold, so serial and parallel kernels both run.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from tinygrad_lstm.kernels import numba_backend, numpy_backend

pytestmark = pytest.mark.filterwarnings("error")

BACKENDS = [numpy_backend, numba_backend]
DTYPES = [np.float32, np.float64]
NB = numba_backend


@pytest.fixture(params=BACKENDS, ids=lambda m: m.NAME)
def K(request):
    return request.param


# ---------------------------------------------------------------- references (float64, independent formulas)


def _seed(*key):
    return zlib.crc32(repr(key).encode())  # hash() of str varies between runs


def _sigmoid_ref(x):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # both branches are evaluated
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


UNARY = {  # name: (reference on float64, input sampler, numba threshold or None when numba calls numpy)
    "exp": (np.exp, lambda rng, n: rng.uniform(-20, 20, n), None),
    "log": (np.log, lambda rng, n: rng.uniform(1e-3, 1e3, n), None),
    "sqrt": (np.sqrt, lambda rng, n: rng.uniform(0, 1e3, n), NB.PAR_MIN),
    "tanh": (np.tanh, lambda rng, n: rng.standard_normal(n) * 4, NB.PAR_MIN),
    "sigmoid": (_sigmoid_ref, lambda rng, n: rng.standard_normal(n) * 8, NB.PAR_MIN),
    "relu": (lambda x: np.maximum(x, 0), lambda rng, n: rng.standard_normal(n), NB.PAR_MIN),
}
BACKWARD = {  # name: (reference, sampler of the first argument)
    "tanh_backward": (lambda y, g: g * (1 - y * y), lambda rng, n: np.tanh(rng.standard_normal(n) * 2)),
    "sigmoid_backward": (lambda y, g: g * y * (1 - y), lambda rng, n: _sigmoid_ref(rng.standard_normal(n) * 3)),
    "relu_backward": (lambda x, g: g * (x > 0), lambda rng, n: rng.standard_normal(n)),
}
BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}
APPROX32 = {"tanh", "sigmoid"}  # rational approximation in the numba backend


def _tol(name, dtype):
    if dtype == np.float64:
        return {"rtol": 1e-13, "atol": 1e-300}
    if name in APPROX32:
        return {"rtol": 0, "atol": 1e-6}
    return {"rtol": 1e-6, "atol": 1e-6}


# ---------------------------------------------------------------- layouts (all of shape (rows, 64) but "1d")


def _layout(kind, values, dtype):
    """`values` (rows*64 numbers) placed in an array of the given memory layout."""
    v = np.asarray(values, dtype).reshape(-1, 64)
    rows = v.shape[0]
    if kind == "1d":
        return v.reshape(-1).copy()
    if kind == "contiguous":
        return v.copy()
    if kind == "column_slice":  # like one LSTM gate out of the (B, 4H) gate matrix
        parent = np.zeros((rows, 256), dtype)
        parent[:, 64:128] = v
        return parent[:, 64:128]
    if kind == "fortran_owner":  # column slice of a transposed F-ordered array: rows contiguous, owner F-order
        parent = np.zeros((256, rows), dtype, order="F")
        parent[64:128, :] = v.T
        return parent.T[:, 64:128]
    if kind == "transposed":
        return v.T.copy().T
    if kind == "reversed_rows":
        parent = np.zeros((rows, 128), dtype)
        parent[::-1, 32:96] = v
        return parent[::-1, 32:96]
    if kind == "strided_3d":
        parent = np.zeros((2, rows, 64), dtype)
        parent[:, ::2, :] = v.reshape(2, rows // 2, 64)
        return parent[:, ::2, :]
    raise ValueError(kind)


LAYOUTS = ["1d", "contiguous", "column_slice", "fortran_owner", "transposed", "reversed_rows", "strided_3d"]
# Every layout serially ("small"); the three layout paths (flat, rows in place, copied) in parallel ("large").
LAYOUT_CASES = [(layout, "small") for layout in LAYOUTS] + [(layout, "large") for layout in LAYOUTS[:5:2]]


def _n(threshold, size):
    """rows*64 elements (an even row count) below or just above a numba threshold."""
    if size == "small" or threshold is None:
        return 4096
    return 128 * (threshold // 128 + 1)


def _check_fresh(out, x_before, *inputs, dtype, shape):
    assert isinstance(out, np.ndarray) and out.flags.c_contiguous
    assert out.dtype == dtype and out.shape == shape
    for x, before in zip(inputs, x_before):
        assert not np.shares_memory(out, x)
        np.testing.assert_array_equal(x, before)  # input untouched


# ---------------------------------------------------------------- unary forward


@pytest.mark.parametrize(("layout", "size"), LAYOUT_CASES, ids="-".join)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_matches_reference(K, name, dtype, layout, size):
    ref, sample, _ = UNARY[name]
    rng = np.random.default_rng(_seed(name, layout, size))
    x = _layout(layout, sample(rng, _n(UNARY[name][2], size)), dtype)
    before = x.copy()
    out = getattr(K, name)(x)
    _check_fresh(out, [before], x, dtype=dtype, shape=x.shape)
    np.testing.assert_allclose(out, ref(x.astype(np.float64)), **_tol(name, dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_backends_agree(name, dtype):
    rng = np.random.default_rng(1)
    sample = UNARY[name][1]
    for n in (64, 1024, _n(UNARY[name][2], "large")):
        x = _layout("column_slice", sample(rng, n), dtype)
        a, b = getattr(numpy_backend, name)(x), getattr(numba_backend, name)(x)
        if name in APPROX32 and dtype == np.float32:
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)
        elif name == "sigmoid":  # different (both stable) float64 formulas
            np.testing.assert_allclose(b, a, rtol=1e-15, atol=0)
        else:
            np.testing.assert_array_equal(b, a)  # same IEEE operations: bit-identical


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_zero_d_and_empty(K, name, dtype):
    ref = UNARY[name][0]
    x0 = np.array(0.75, dtype)
    out = getattr(K, name)(x0)
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == dtype
    np.testing.assert_allclose(out, ref(np.float64(0.75)), **_tol(name, dtype))
    for shape in [(0,), (3, 0), (0, 5)]:
        out = getattr(K, name)(np.empty(shape, dtype))
        assert out.shape == shape and out.dtype == dtype


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_])
def test_unary_integer_and_bool_inputs_follow_numpy(K, name, dtype):
    x = np.array([0, 1, 2, 3], dtype) if dtype != np.bool_ else np.array([True, False, True])
    with np.errstate(divide="ignore"):  # log(0)
        out = getattr(K, name)(x)
        expected = np.asarray(
            getattr(np, name)(x) if name in ("exp", "log", "sqrt", "tanh") else getattr(numpy_backend, name)(x)
        )
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected)


# ---------------------------------------------------------------- stability


EXTREMES = [
    -np.inf,
    -1e30,
    -1e4,
    -100.0,
    -30.0,
    -20.0,
    -9.0,
    -1e-30,
    -0.0,
    0.0,
    1e-30,
    9.0,
    20.0,
    30.0,
    100.0,
    1e4,
    1e30,
    np.inf,
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("n_copies", [1, NB.PAR_MIN // len(EXTREMES) + 1])  # serial and parallel numba kernels
def test_tanh_sigmoid_exact_limits_no_warnings(K, dtype, n_copies):
    x = np.tile(np.array(EXTREMES, dtype), n_copies)
    t, s = K.tanh(x), K.sigmoid(x)
    assert not np.isnan(t).any() and not np.isnan(s).any()
    big = np.abs(x) >= 1e4
    np.testing.assert_array_equal(t[big], np.sign(x[big]))
    np.testing.assert_array_equal(s[big], (x[big] > 0).astype(dtype))
    assert t[x == 0].tolist() == [0.0] * (2 * n_copies) and np.all(s[x == 0] == 0.5)
    assert np.all(np.abs(t) <= 1) and np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(t, np.tanh(x.astype(np.float64)), **_tol("tanh", dtype))
    np.testing.assert_allclose(s, _sigmoid_ref(x), **_tol("sigmoid", dtype))


def test_float32_max_and_nan(K):
    x = np.array([np.finfo(np.float32).max, -np.finfo(np.float32).max], np.float32)
    assert K.tanh(x).tolist() == [1, -1] and K.sigmoid(x).tolist() == [1, 0]
    for name in UNARY:
        for dtype in DTYPES:
            assert np.isnan(getattr(K, name)(np.full(3, np.nan, dtype))).all(), name


@pytest.mark.parametrize("x", [-30.0, -100.0, -700.0, -5.0, -1e-3])
def test_sigmoid_float64_relative_accuracy(K, x):
    expected = math.exp(x) / (1 + math.exp(x))
    np.testing.assert_allclose(K.sigmoid(np.full(NB.PAR_MIN + 1, x))[0], expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(K.sigmoid(np.array([x]))[0], expected, rtol=1e-12, atol=0)
    if x == -30.0:
        assert abs(K.sigmoid(np.array([x]))[0] - 9.357623e-14) < 1e-19


def test_float32_tanh_sigmoid_dense_error_bound():
    # Every 1e-5 step over [-12, 12]: the numba rational approximation stays within 3e-7 of tanh.
    x = np.arange(-12, 12, 1e-5, dtype=np.float64).astype(np.float32)
    exact = np.tanh(x.astype(np.float64))
    assert np.max(np.abs(numba_backend.tanh(x) - exact)) < 3e-7
    assert np.max(np.abs(numba_backend.sigmoid(x) - _sigmoid_ref(x))) < 2e-7


def test_log_sqrt_of_negatives_and_zero_like_numpy(K):
    x = np.array([-1.0, 0.0, -0.0, 4.0, -np.inf, np.inf])
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(K.log(x), np.log(x))
        np.testing.assert_array_equal(K.sqrt(x), np.sqrt(x))
        big = np.tile(x, NB.PAR_MIN // x.size + 1)
        np.testing.assert_array_equal(K.sqrt(big), np.sqrt(big))


# ---------------------------------------------------------------- fused backward


PAIR_LAYOUTS = [
    ("contiguous", "contiguous"),
    ("1d", "1d"),
    ("column_slice", "contiguous"),
    ("column_slice", "column_slice"),
    ("transposed", "column_slice"),
    ("fortran_owner", "reversed_rows"),
]
PAIR_CASES = [(*pair, "small") for pair in PAIR_LAYOUTS] + [(*pair, "large") for pair in PAIR_LAYOUTS[::2]]


@pytest.mark.parametrize(("first", "second", "size"), PAIR_CASES, ids="-".join)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(BACKWARD))
def test_backward_matches_reference(K, name, dtype, first, second, size):
    layouts = (first, second)
    ref, sample = BACKWARD[name]
    rng = np.random.default_rng(_seed(name, layouts, size))
    n = _n(NB.PAR_MIN, size)
    y, g = _layout(layouts[0], sample(rng, n), dtype), _layout(layouts[1], rng.standard_normal(n), dtype)
    before = (y.copy(), g.copy())
    out = getattr(K, name)(y, g)
    _check_fresh(out, before, y, g, dtype=dtype, shape=y.shape)
    np.testing.assert_allclose(out, ref(y.astype(np.float64), g.astype(np.float64)), **_tol(name, dtype))
    np.testing.assert_array_equal(out, getattr(numpy_backend, name)(y, g))  # same operations, same order


@pytest.mark.parametrize("name", list(BACKWARD))
def test_backward_special_values_dtypes_and_0d(K, name):
    y = np.array([0.0, 0.5, -0.5, 1.0, np.nan, -2.0])
    g = np.array([np.inf, 1.0, np.nan, 2.0, 1.0, np.inf])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(getattr(K, name)(y, g), getattr(numpy_backend, name)(y, g))
    out = getattr(K, name)(np.array(0.5, np.float32), np.array(2.0, np.float32))
    assert out.shape == () and out.dtype == np.float32
    mixed = getattr(K, name)(np.full(3, 0.5, np.float32), np.ones(3))  # result_type(y, g)
    assert mixed.dtype == np.float64
    assert getattr(K, name)(np.empty((0, 4), np.float32), np.empty((0, 4), np.float32)).shape == (0, 4)


# ---------------------------------------------------------------- binary arithmetic


@pytest.mark.parametrize(("first", "second", "size"), PAIR_CASES, ids="-".join)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_same_shape(K, name, dtype, first, second, size):
    layouts = (first, second)
    rng = np.random.default_rng(_seed(name, layouts, size))
    n = _n(NB.PAR_MIN, size)
    a = _layout(layouts[0], rng.standard_normal(n), dtype)
    b = _layout(layouts[1], rng.uniform(0.5, 2, n) * rng.choice([-1, 1], n), dtype)
    before = (a.copy(), b.copy())
    out = getattr(K, name)(a, b)
    _check_fresh(out, before, a, b, dtype=dtype, shape=a.shape)
    np.testing.assert_array_equal(out, BINARY[name](a, b))  # IEEE add/sub/mul/div: exact


BROADCASTS = [((3, 1), (1, 4)), ((), (5,)), ((), ()), ((2, 3, 4), (4,)), ((4,), (2, 1, 4)), ((0, 3), (1, 3))]


@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
@pytest.mark.parametrize(
    "dtypes",
    [
        (np.float32, np.float32),
        (np.float32, np.float64),
        (np.int64, np.float32),
        (np.int32, np.int64),
        (np.bool_, np.float32),
    ],
    ids=str,
)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_broadcasting_and_dtypes_follow_numpy(K, name, shapes, dtypes):
    rng = np.random.default_rng(2)
    a = np.asarray(rng.uniform(1, 5, shapes[0]) * 3, dtypes[0])
    b = np.asarray(rng.uniform(1, 5, shapes[1]) * 3, dtypes[1])
    out = getattr(K, name)(a, b)
    expected = BINARY[name](a, b)
    assert isinstance(out, np.ndarray) and out.dtype == expected.dtype and out.shape == expected.shape
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)


def test_binary_large_mixed_dtypes_and_division_by_zero(K):
    a = np.ones(NB.PAR_MIN + 1, np.float32)
    b = np.zeros(NB.PAR_MIN + 1, np.float32)
    b[1], a[2] = 2, 0
    assert K.add(a, b.astype(np.float64)).dtype == np.float64  # mixed: numpy's promotion
    with np.errstate(divide="ignore", invalid="ignore"):
        out = K.div(a, b)
    assert out[0] == np.inf and out[1] == 0.5 and np.isnan(out[2])


# ---------------------------------------------------------------- matmul


MATMUL_SHAPES = [
    ((5,), (5,)),
    ((3, 5), (5,)),
    ((5,), (5, 4)),
    ((64, 28), (28, 512)),
    ((2, 3, 5), (5, 4)),
    ((2, 1, 3, 5), (4, 5, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_matmul(K, shapes, dtype):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(shapes[0]).astype(dtype), rng.standard_normal(shapes[1]).astype(dtype)
    out = K.matmul(a, b)
    expected = np.matmul(a, b)
    assert isinstance(out, np.ndarray) and out.shape == expected.shape and out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(K.matmul(a.T.copy().T, b), expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


# ---------------------------------------------------------------- numba specifics


def test_column_slices_are_read_in_place():
    parent = np.arange(64 * 512, dtype=np.float32).reshape(64, 512)
    gate = parent[:, 128:256]
    flat, step = numba_backend._rows(gate)
    assert np.shares_memory(flat, parent) and step == 512
    assert flat[0] == gate[0, 0] and flat[step + 127] == gate[1, 127] and flat.size == 63 * 512 + 128
    flat, _ = numba_backend._rows(parent.T[:, 10:20])  # rows not contiguous: copied
    assert not np.shares_memory(flat, parent)


def test_single_thread_runs_serial_kernels():
    import numba

    saved = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        x = _layout("column_slice", np.linspace(-5, 5, NB.PAR_MIN + 128), np.float32)
        np.testing.assert_allclose(numba_backend.sigmoid(x), _sigmoid_ref(x), atol=1e-6)
        np.testing.assert_array_equal(numba_backend.mul(x, x), x * x)
        np.testing.assert_array_equal(numba_backend.relu_backward(x, x), x * (x > 0))
    finally:
        numba.set_num_threads(saved)


def test_cache_fallback_when_no_cache_dir_is_writable(monkeypatch):
    calls = []

    def fake_njit(cache=False, **options):
        calls.append(cache)
        if cache:
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return lambda fn: fn

    from tinygrad_lstm.kernels import jitcache

    monkeypatch.setattr(jitcache, "njit", fake_njit)
    f = jitcache.jit(lambda x: x + 1)
    assert calls == [True, False] and f(1) == 2


# ---------------------------------------------------------------- torch


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
@pytest.mark.parametrize("n", [1000, NB.PAR_MIN + 1])
def test_float32_activations_match_torch(K, name, n):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(n) * 6).astype(np.float32)
    x[:6] = [1e30, -1e30, np.inf, -np.inf, 0, 30]
    expected = getattr(torch, name)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(getattr(K, name)(x), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("shapes", [((1600, 1024), (1024,)), ((600, 1000), (1, 1000)), ((2, 300, 1000), (1000,)),
                                    ((700, 1000), (700, 1000))])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_row_broadcast_runs_compiled_with_numpys_bits(monkeypatch, shapes, op):
    """A large array with one row broadcast over it (a bias) runs through the generated loops (row step 0), with
    numpy's numbers to the last bit."""
    from tinygrad_lstm.kernels import numba_backend as nb
    from tinygrad_lstm.kernels import numpy_backend as npb

    taken = []
    orig = nb._run_row_broadcast
    monkeypatch.setattr(nb, "_run_row_broadcast", lambda *a: taken.append(1) or orig(*a))
    rng = np.random.default_rng(0)
    a, b = (rng.random(s).astype(np.float32) + 0.5 for s in shapes)
    got, want = getattr(nb, op)(a, b), getattr(npb, op)(a, b)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert bool(taken) == (shapes[0] != shapes[1])
