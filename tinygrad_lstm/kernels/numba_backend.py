"""Fast backend: numba `@njit` loops where they beat numpy, numpy where it is already fast.

- Activations (tanh, sigmoid, relu, sqrt), their fused backward kernels, and large same-shape arithmetic run in
  `@njit` loops: one pass over memory instead of numpy's temporaries, and on all threads for large arrays.
- exp, log, float64 tanh and matmul stay in numpy: its SIMD exp/log/tanh beat numba's per-element libm calls
  5-6x, and `@`/`np.dot` inside numba need scipy to reach BLAS (not a dependency).
- Integer, bool and mixed-dtype inputs, broadcasting and small arithmetic go to the numpy reference backend.

Results agree with `numpy_backend` to float rounding, except float32 tanh/sigmoid, which use a rational
approximation (|error| < 3e-7) with exact limits.

Speed: `python -m benchmarks.kernels`. The size from which kernels use all threads, PAR_MIN, is explained below.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
from numba import njit, prange

from . import numpy_backend as _ref
from .blas import use_threads_for

NAME = "numba"

# Kernels run on all threads from PAR_MIN elements. On an idle 2-core machine that would pay from ~10k elements
# (float32 tanh/sigmoid) or ~30k (memory-bound ops): starting the thread team costs ~2-3 µs. But the team waits
# for its slowest thread, and while the other core is busy, with another process or with numpy's OpenBLAS
# threads (they spin for ~0.1 s after every matmul), a parallel kernel took 8-40 ms instead of microseconds.
# LSTM training calls elementwise kernels between matmuls, so its sizes (gates up to ~1e5 elements, weights
# ~3e5) stay serial. numba.set_num_threads(1) or NUMBA_NUM_THREADS=1 makes every kernel serial.
PAR_MIN = 1 << 19
# Below PAR_MIN, add/sub/mul/div and float32 tanh go to numpy: its loops are as fast as serial njit ones (and
# numpy's SIMD tanh is exact); above, the numba kernels use all threads.

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_FLOATS = (_F32, _F64)


def _jit(fn: Callable | None = None, **options) -> Callable:
    """`njit(cache=True, error_model='numpy')`, or cache=False where numba finds no writable cache directory."""
    if fn is None:
        return lambda f: _jit(f, **options)
    options = {"error_model": "numpy", **options}  # 'numpy': x/0 gives inf/nan instead of raising
    try:
        return njit(cache=True, **options)(fn)
    except RuntimeError as e:  # numba raises this at decoration time, not at the first call
        if "cannot cache" not in str(e):
            raise
        return njit(cache=False, **options)(fn)


# ---------------------------------------------------------------- per-element math (LLVM inlines these)

# float32 tanh(x) ~ x * P(x^2) / Q(x^2): the degree 13/6 rational minimax approximation used by Eigen
# (`generic_fast_tanh_float`) and XLA. It has no calls and no branches (the clamps become min/max), so LLVM
# vectorizes the loop. Measured max |error| 2.9e-7 over every float32 in [0, 10]. Clamping the input to +-9
# (float32 tanh rounds to +-1 beyond ~9.01) keeps x^13 finite, and clamping the output makes the limits exactly
# +-1. All constants are float32: one float64 constant would promote the whole expression and halve SIMD width.
_T_CLAMP = np.float32(9.0)
_T_A1 = np.float32(4.89352455891786e-03)  # numerator, odd powers
_T_A3 = np.float32(6.37261928875436e-04)
_T_A5 = np.float32(1.48572235717979e-05)
_T_A7 = np.float32(5.12229709037114e-08)
_T_A9 = np.float32(-8.60467152213735e-11)
_T_A11 = np.float32(2.00018790482477e-13)
_T_A13 = np.float32(-2.76076847742355e-16)
_T_B0 = np.float32(4.89352518554385e-03)  # denominator, even powers
_T_B2 = np.float32(2.26843463243900e-03)
_T_B4 = np.float32(1.18534705686654e-04)
_T_B6 = np.float32(1.19825839466702e-06)
_ONE32, _HALF32 = np.float32(1.0), np.float32(0.5)
# fastmath 'contract' only lets LLVM fuse a*b+c into one FMA: ~20 % faster here and slightly more accurate.
# (Full fastmath also assumes no inf/NaN, which turns saturated inputs into NaN.)
_FMA = {"contract"}


@njit(fastmath=_FMA)
def _tanh32(x):
    v = _T_CLAMP if x > _T_CLAMP else x  # written as selects so that NaN passes through
    v = -_T_CLAMP if v < -_T_CLAMP else v
    v2 = v * v
    p = ((((((_T_A13 * v2 + _T_A11) * v2 + _T_A9) * v2 + _T_A7) * v2 + _T_A5) * v2 + _T_A3) * v2 + _T_A1) * v
    q = ((_T_B6 * v2 + _T_B4) * v2 + _T_B2) * v2 + _T_B0
    r = p / q
    r = _ONE32 if r > _ONE32 else r
    return -_ONE32 if r < -_ONE32 else r


@njit(fastmath=_FMA)
def _sigmoid32(x):
    # sigmoid(x) = (1 + tanh(x/2)) / 2: exact 0 and 1 at the limits; absolute (not relative) error ~1.5e-7.
    return _HALF32 + _HALF32 * _tanh32(_HALF32 * x)


@njit
def _sigmoid64(x):
    # Stable split: z = exp(-|x|) <= 1 never overflows, and z / (1 + z) for x < 0 keeps relative accuracy.
    # A select, not an if/else: random signs would mispredict a branch half the time.
    z = np.exp(-abs(x))
    d = 1.0 / (1.0 + z)
    return d if x >= 0 else z * d


# ---------------------------------------------------------------- loops
# Each `*_rows` kernel walks rows r0..r1. Row i of an input is x[i*xs : i*xs + cols] of its flat source, row i
# of the output is out[i*cols : (i+1)*cols]. A contiguous array is one row (one per thread when parallel); a
# column slice a[:, j:k] keeps its rows and is read in place from the parent's memory. Inner loops run over
# contiguous memory, so LLVM vectorizes them.
# Related ops share a kernel, chosen by an op code outside the inner loop: fewer functions to compile (0.5-1 s
# each). The `*_par` drivers give each of `parts` threads a block of rows. They are spelled out per kernel
# because numba does not cache functions that take a function argument, and the thread count is an argument
# because calling numba.get_num_threads() inside a kernel makes it uncacheable.

_TANH, _SIGMOID, _RELU, _SQRT = 0, 1, 2, 3
_ADD, _SUB, _MUL, _DIV = 0, 1, 2, 3


@_jit(fastmath=_FMA)
def _act32_rows(op, x, xs, out, cols, r0, r1):
    for i in range(r0, r1):
        xi, oi = x[i * xs : i * xs + cols], out[i * cols : i * cols + cols]
        if op == _TANH:
            for j in range(oi.size):
                oi[j] = _tanh32(xi[j])
        else:
            for j in range(oi.size):
                oi[j] = _sigmoid32(xi[j])


@_jit
def _sigmoid64_rows(op, x, xs, out, cols, r0, r1):  # `op` unused: the same signature as the other kernels
    for i in range(r0, r1):
        xi, oi = x[i * xs : i * xs + cols], out[i * cols : i * cols + cols]
        for j in range(oi.size):
            oi[j] = _sigmoid64(xi[j])


@_jit
def _unary_rows(op, x, xs, out, cols, r0, r1):
    zero = out.dtype.type(0)  # typed: an int literal would turn float32 math into float64
    for i in range(r0, r1):
        xi, oi = x[i * xs : i * xs + cols], out[i * cols : i * cols + cols]
        if op == _RELU:
            for j in range(oi.size):
                v = xi[j]
                oi[j] = zero if v < zero else v  # NaN stays NaN, as with np.maximum
        else:
            for j in range(oi.size):
                oi[j] = np.sqrt(xi[j])  # NaN for x < 0, as numpy (without its warning)


@_jit
def _backward_rows(op, y, ys, g, gs, out, cols, r0, r1):
    one = out.dtype.type(1)
    for i in range(r0, r1):
        yi, gi, oi = y[i * ys : i * ys + cols], g[i * gs : i * gs + cols], out[i * cols : i * cols + cols]
        if op == _TANH:
            for j in range(oi.size):
                oi[j] = gi[j] * (one - yi[j] * yi[j])
        elif op == _SIGMOID:
            for j in range(oi.size):
                oi[j] = gi[j] * yi[j] * (one - yi[j])  # numpy's order: (g * y) * (1 - y)
        else:  # relu: y is the forward input; a product, not a select, so NaN/inf in g propagate like numpy's
            for j in range(oi.size):
                oi[j] = gi[j] * (yi[j] > 0)


@_jit
def _arith_rows(op, a, as_, b, bs, out, cols, r0, r1):
    for i in range(r0, r1):
        ai, bi, oi = a[i * as_ : i * as_ + cols], b[i * bs : i * bs + cols], out[i * cols : i * cols + cols]
        if op == _ADD:
            for j in range(oi.size):
                oi[j] = ai[j] + bi[j]
        elif op == _SUB:
            for j in range(oi.size):
                oi[j] = ai[j] - bi[j]
        elif op == _MUL:
            for j in range(oi.size):
                oi[j] = ai[j] * bi[j]
        else:
            for j in range(oi.size):
                oi[j] = ai[j] / bi[j]


@_jit(parallel=True)
def _act32_par(op, x, xs, out, cols, rows, parts):
    for t in prange(parts):
        _act32_rows(op, x, xs, out, cols, t * rows // parts, (t + 1) * rows // parts)


@_jit(parallel=True)
def _sigmoid64_par(op, x, xs, out, cols, rows, parts):
    for t in prange(parts):
        _sigmoid64_rows(op, x, xs, out, cols, t * rows // parts, (t + 1) * rows // parts)


@_jit(parallel=True)
def _unary_par(op, x, xs, out, cols, rows, parts):
    for t in prange(parts):
        _unary_rows(op, x, xs, out, cols, t * rows // parts, (t + 1) * rows // parts)


@_jit(parallel=True)
def _backward_par(op, y, ys, g, gs, out, cols, rows, parts):
    for t in prange(parts):
        _backward_rows(op, y, ys, g, gs, out, cols, t * rows // parts, (t + 1) * rows // parts)


@_jit(parallel=True)
def _arith_par(op, a, as_, b, bs, out, cols, rows, parts):
    for t in prange(parts):
        _arith_rows(op, a, as_, b, bs, out, cols, t * rows // parts, (t + 1) * rows // parts)


# ---------------------------------------------------------------- memory layout


@_jit
def _offset(owner, x):
    return (x.ctypes.data - owner.ctypes.data) // x.itemsize  # numba reads data pointers for free


def _rows(x: np.ndarray) -> tuple[np.ndarray, int]:
    """(flat, step): row i of 2-D `x` is flat[i*step : i*step + x.shape[1]]. Copies only if rows are strided."""
    if x.flags.c_contiguous:
        return x.ravel(), x.shape[1]
    owner, (s0, s1), size = x.base, x.strides, x.itemsize
    # A column slice: contiguous rows inside a parent that owns contiguous memory of the same dtype ('aligned'
    # makes the strides multiples of the itemsize).
    if s1 == size and s0 > 0 and type(owner) is np.ndarray and owner.dtype == x.dtype and x.flags.aligned:
        if owner.flags.c_contiguous or owner.flags.f_contiguous:
            flat = owner.ravel() if owner.flags.c_contiguous else owner.T.ravel()  # memory order, no copy
            step, start = s0 // size, _offset(flat, x)
            return flat[start : start + (x.shape[0] - 1) * step + x.shape[1]], step
    return np.ascontiguousarray(x).ravel(), x.shape[1]


def _layout(parts: int, *arrays: np.ndarray) -> tuple[int, list[np.ndarray | int]]:
    """(cols, [flat, step, flat, step, ...]) for a parallel kernel over same-shaped `arrays` (see the loops)."""
    first = arrays[0]
    if first.ndim == 2 and not all(a.flags.c_contiguous for a in arrays):  # keep rows: slices stay in place
        return first.shape[1], [v for a in arrays for v in _rows(a)]
    cols = -(-first.size // parts)  # contiguous (or copied): one row per thread
    return cols, [v for a in arrays for v in (np.ascontiguousarray(a).ravel(), cols)]


def _unary(rows_k: Callable, par_k: Callable, op: int, x: np.ndarray, par_min: int) -> np.ndarray:
    n = x.size
    out = np.empty(n, x.dtype)
    if n == 0:
        return out.reshape(x.shape)
    if n >= par_min and (parts := numba.get_num_threads()) > 1:  # NUMBA_NUM_THREADS=1: always serial
        cols, src = _layout(parts, x)
        par_k(op, *src, out, cols, -(-n // cols), parts)
    elif x.flags.c_contiguous:  # the common case, kept short: for small arrays the Python code is the cost
        rows_k(op, x.ravel(), n, out, n, 0, 1)
    elif x.ndim == 2:
        src, step = _rows(x)
        rows_k(op, src, step, out, x.shape[1], 0, x.shape[0])
    else:
        rows_k(op, np.ascontiguousarray(x).ravel(), n, out, n, 0, 1)
    return out.reshape(x.shape)


def _binary(rows_k: Callable, par_k: Callable, op: int, a: np.ndarray, b: np.ndarray, par_min: int) -> np.ndarray:
    n = a.size
    out = np.empty(n, a.dtype)
    if n == 0:
        return out.reshape(a.shape)
    if n >= par_min and (parts := numba.get_num_threads()) > 1:
        cols, src = _layout(parts, a, b)
        par_k(op, *src, out, cols, -(-n // cols), parts)
    elif a.flags.c_contiguous and b.flags.c_contiguous:
        rows_k(op, a.ravel(), n, b.ravel(), n, out, n, 0, 1)
    elif a.ndim == 2:
        (sa, ta), (sb, tb) = _rows(a), _rows(b)
        rows_k(op, sa, ta, sb, tb, out, a.shape[1], 0, a.shape[0])
    else:
        sa, sb = np.ascontiguousarray(a).ravel(), np.ascontiguousarray(b).ravel()
        rows_k(op, sa, n, sb, n, out, n, 0, 1)
    return out.reshape(a.shape)


def _is_float(x: np.ndarray) -> bool:
    return isinstance(x, np.ndarray) and x.dtype in _FLOATS


def _same_float(a: np.ndarray, b: np.ndarray) -> bool:
    return _is_float(a) and _is_float(b) and a.dtype == b.dtype and a.shape == b.shape


# ---------------------------------------------------------------- public kernels

exp = _ref.exp  # numpy's SIMD exp and log: 5-7x faster than numba's per-element libm calls
log = _ref.log
def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """BLAS through numpy (numba's own `@` needs scipy), on one thread for small products (see blas.py).

    A product over a single index (a column times a row: an input with one feature) is a broadcast multiply, the
    same numbers without a sum: BLAS took 114 µs for (512, 1) @ (1, 200), numpy's multiply 28."""
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1 and b.shape[0] == 1 and a.dtype == b.dtype in _FLOATS:
        return np.multiply(a, b)
    use_threads_for(a.size * (b.shape[-1] if b.ndim > 1 else 1))
    return _ref.matmul(a, b)


def tanh(x: np.ndarray) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.size >= PAR_MIN and x.dtype == _F32:
        return _unary(_act32_rows, _act32_par, _TANH, x, PAR_MIN)
    # Smaller float32: numpy's SIMD tanh is as fast as the serial rational kernel (0.36 vs 0.32 ns/element) and
    # has less call overhead. float64: numpy's tanh is exact and 6x faster than libm's expm1 per element.
    return _ref.tanh(x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype == _F32:
        return _unary(_act32_rows, _act32_par, _SIGMOID, x, PAR_MIN)
    if isinstance(x, np.ndarray) and x.dtype == _F64:
        return _unary(_sigmoid64_rows, _sigmoid64_par, _SIGMOID, x, PAR_MIN)
    return _ref.sigmoid(x)


def relu(x: np.ndarray) -> np.ndarray:
    return _unary(_unary_rows, _unary_par, _RELU, x, PAR_MIN) if _is_float(x) else _ref.relu(x)


def sqrt(x: np.ndarray) -> np.ndarray:
    return _unary(_unary_rows, _unary_par, _SQRT, x, PAR_MIN) if _is_float(x) else _ref.sqrt(x)


def _backward(op: int, y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _binary(_backward_rows, _backward_par, op, y, g, PAR_MIN)


def tanh_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _backward(_TANH, y, g) if _same_float(y, g) else _ref.tanh_backward(y, g)


def sigmoid_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _backward(_SIGMOID, y, g) if _same_float(y, g) else _ref.sigmoid_backward(y, g)


def relu_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _backward(_RELU, x, g) if _same_float(x, g) else _ref.relu_backward(x, g)


def _large_pair(a: np.ndarray, b: np.ndarray) -> bool:
    return isinstance(a, np.ndarray) and a.size >= PAR_MIN and _same_float(a, b)  # size first: cheap


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _binary(_arith_rows, _arith_par, _ADD, a, b, 0) if _large_pair(a, b) else _ref.add(a, b)


def sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _binary(_arith_rows, _arith_par, _SUB, a, b, 0) if _large_pair(a, b) else _ref.sub(a, b)


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _binary(_arith_rows, _arith_par, _MUL, a, b, 0) if _large_pair(a, b) else _ref.mul(a, b)


def div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _binary(_arith_rows, _arith_par, _DIV, a, b, 0) if _large_pair(a, b) else _ref.div(a, b)
