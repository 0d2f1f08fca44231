"""Fast backend: numba loops generated from the elementwise ops' definitions, where they beat numpy.

Each elementwise op is defined once, as math (ops/elementwise.py). For the ops listed in `ACCELERATED` this
backend renders the op's forward or derivative tree into a scalar expression and generates loops around it
(`loop_source`); everything else, and integer, mixed-dtype or broadcast inputs, goes to the numpy reference
backend, which evaluates the same definitions on whole arrays. The loops call the numba implementations of the
primitives (kernels/scalar.py): float32 tanh, sigmoid and exp are fast approximations that keep relative accuracy.
Matmul goes to BLAS through numpy.

Results agree with `numpy_backend` to float rounding, except float32 tanh/sigmoid (|error| < 3e-7).

Speed: `python -m benchmarks.kernels`. The size from which kernels use all threads, PAR_MIN, is explained below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..ops.expr import Dialect, Expr, free_vars, render
from . import blas, gemm, jitcache, pool
from . import numpy_backend as _ref
from .blas import use_threads_for
from .named import by_name, grads_by_name

NAME = "numba"

# Kernels run on the library's worker threads (kernels/pool.py) from PAR_MIN elements, in the caller's subnormal
# mode. Handing half of the rows to a worker costs 30-50 µs, a pass over 2^19 float32 elements ~0.2 ms. Not on
# numba's own thread team: its OpenMP threads spin after a parallel loop on the core the workers need (a bias add
# run that way took config a of benchmarks/lstm_train.py from 7.3 to 9.9 ms a step). LSTM training's per-step
# sizes (gates up to ~1e5 elements, weights ~3e5) stay serial. TINYGRAD_LSTM_THREADS=1: every kernel serial.
PAR_MIN = 1 << 19

# 2-D float products from this many multiply-adds run on the library's workers (gemm.matmul, one of them below
# gemm.SPLIT_MIN), not on numpy's BLAS: its threads, once woken by a product this size, spin for a while on the core
# the compiled loops need (one 8M-multiply-add product per call, from tracing the step, took config c from 17 to
# 31 ms a step). The cost: a step-by-step layer's per-step products (4-8M) on one thread, not two (config a
# step by step: 12.1 -> 13.0 ms).
WORKERS_MIN = blas.PAR_MIN
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_FLOATS = (_F32, _F64)

# Which op parts run as generated loops, and from which size (float32, float64); None: numpy always.
# "f" is the forward, an int k the gradient of input k. Below PAR_MIN, add/sub/mul/div and float32 tanh go to
# numpy: its loops are as fast as serial njit ones (and numpy's SIMD tanh is exact); float64 tanh stays in numpy
# (exact and 6x faster than libm's per element). exp and log stay in numpy: its SIMD versions beat scalar calls.
ACCELERATED: dict[tuple[str, Any], tuple[int | None, int | None]] = {
    ("Tanh", "f"): (PAR_MIN, None), ("Sigmoid", "f"): (0, 0), ("Relu", "f"): (0, 0), ("Sqrt", "f"): (0, 0),
    ("Add", "f"): (PAR_MIN, PAR_MIN), ("Sub", "f"): (PAR_MIN, PAR_MIN), ("Mul", "f"): (PAR_MIN, PAR_MIN),
    ("Div", "f"): (PAR_MIN, PAR_MIN),
    ("Tanh", 0): (0, 0), ("Sigmoid", 0): (0, 0), ("Relu", 0): (0, 0),
}


# ---------------------------------------------------------------- generated loops
# Each `rows<n>` kernel walks rows r0..r1 of n input arrays. Row i of input k is ak[i*sk : i*sk + cols] of its
# flat source, row i of the output is out[i*cols : (i+1)*cols]; a row step of 0 repeats one row (a bias). A
# contiguous array is one row (one per worker when split, kernels/pool.py); a column slice a[:, j:k] keeps its
# rows and is read in place from the parent's memory. Inner loops run over contiguous memory, so LLVM vectorizes
# them. All the op parts with n inputs share one kernel, chosen by an op code outside the inner loop: fewer
# functions to compile (0.5-1 s each, once: they are cached on disk).


class Spec(NamedTuple):
    """One accelerated op part: its kernel family (number of inputs), op code, input names, size thresholds."""

    arity: int
    code: int
    args: tuple[str, ...]
    min_size: tuple[int | None, int | None]
    least: int  # the smaller threshold: below it, numpy whatever the dtype (checked first: it is cheap)


class ScalarCode(Dialect):
    """Scalar numba code: primitives as `P_<name>`, constants hoisted as locals of the kernel's dtype."""

    def __init__(self) -> None:
        self.consts: dict[float, str] = {}
        super().__init__(self._const, lambda n: f"P_{n}", scalar=True)

    def _const(self, v: Any) -> str:
        if v not in self.consts:
            self.consts[v] = f"c{len(self.consts)}"
        return self.consts[v]

    def prologue(self, like: str) -> list[str]:
        return [f"{name} = {like}.dtype.type({v!r})" for v, name in self.consts.items()]


def loop_source(parts: list[tuple[Expr, tuple[str, ...]]], arity: int) -> str:
    """`rows<arity>` and `par<arity>`: one branch per (expression, its input names) in `parts`."""
    code = ScalarCode()
    ins = [f"a{k}" for k in range(arity)]
    sig = ", ".join(f"{a}, s{k}" for k, a in enumerate(ins))
    body = []
    for op, (expr, args) in enumerate(parts):
        names = {n: f"x{k}[j]" for k, n in enumerate(args)}
        body += [f"        {'if' if op == 0 else 'elif'} op == {op}:", "            for j in range(o.size):",
                 f"                o[j] = {render(expr, code, names)}"]
    views = [f"        x{k} = a{k}[i * s{k} : i * s{k} + cols]" for k in range(arity)]
    return "\n".join([
        "@jit(nogil=True)", f"def rows{arity}(op, {sig}, out, cols, r0, r1):", "    arrived()",
        *("    " + line for line in code.prologue("out")),
        "    for i in range(r0, r1):", *views, "        o = out[i * cols : i * cols + cols]", *body, "", ""])


_state: dict[str, Any] = {"module": None, "specs": {}}


def _build() -> None:
    """Generate (or load from the disk cache) the loops of every accelerated op part."""
    from ..ops import elementwise as E  # the definitions (ops import the kernels package: imported late)

    families: dict[int, list[tuple[Expr, tuple[str, ...]]]] = {}
    specs: dict[tuple[str, Any], Spec] = {}
    for (op, part), min_size in ACCELERATED.items():
        low = getattr(E, op).lower()
        expr = low.forward if part == "f" else low.grads[part]
        order = low.inputs if part == "f" else ("g", *low.saves)
        args = tuple(n for n in order if n in free_vars(expr))
        fam = families.setdefault(len(args), [])
        least = min(m for m in min_size if m is not None)
        specs[(op, part)] = Spec(len(args), len(fam), args, min_size, least)
        fam.append((expr, args))
    source = "\n".join(["from tinygrad_lstm.kernels.spin import arrived",
                        "from tinygrad_lstm.kernels.jitcache import jit",
                        "from tinygrad_lstm.kernels.scalar import *", "", ""]
                       + [loop_source(parts, n) for n, parts in sorted(families.items())])
    _state["module"] = jitcache.load(source, "elementwise")
    _state["specs"] = specs


def _specs(low: Any) -> tuple[Spec | None, tuple[Spec | None, ...]]:
    """The accelerated parts of a lowered op (forward, then each gradient): looked up once per op."""
    found = low.impl.get(NAME)
    if found is None:
        if _state["module"] is None:
            _build()
        specs = _state["specs"]
        if low.attrs:
            found = (None, (None,) * len(low.grads))
        else:
            found = (specs.get((low.name, "f")), tuple(specs.get((low.name, k)) for k in range(len(low.grads))))
        low.impl[NAME] = found
    return found


def _kernel(arity: int) -> Callable:
    return getattr(_state["module"], f"rows{arity}")


# ---------------------------------------------------------------- memory layout


@jitcache.jit
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
    """(cols, [flat, step, flat, step, ...]) for a kernel split over `parts` workers, over same-shaped `arrays`
    (see the loops)."""
    first = arrays[0]
    if first.ndim == 2 and not all(a.flags.c_contiguous for a in arrays):  # keep rows: slices stay in place
        return first.shape[1], [v for a in arrays for v in _rows(a)]
    cols = -(-first.size // parts)  # contiguous (or copied): one row per thread
    return cols, [v for a in arrays for v in (np.ascontiguousarray(a).ravel(), cols)]


def _fits(spec: Spec, arrays: list[np.ndarray]) -> bool:
    """Same-shape float arrays of one dtype, at least as large as the op part's threshold for that dtype."""
    first = arrays[0]
    if type(first) is not np.ndarray:
        return False
    dt = first.dtype
    m = spec.min_size[0] if dt == _F32 else spec.min_size[1] if dt == _F64 else None
    if m is None or first.size < m:
        return False
    return all(type(a) is np.ndarray and a.dtype == dt and a.shape == first.shape for a in arrays)


def _row_broadcast(spec: Spec, arrays: list[np.ndarray]) -> tuple[tuple[int, ...], int] | None:
    """(shape, cols) when every array is C-contiguous, of one float dtype, and either of the largest one's shape or
    one row of it, (cols,) or (1, …, cols): a bias added to every row, which the loops read with a row step of 0.
    Else None. The largest must reach the op part's threshold."""
    full = max(arrays, key=lambda a: a.size)
    if type(full) is not np.ndarray or full.ndim == 0 or full.dtype not in _FLOATS:
        return None
    m = spec.min_size[0] if full.dtype == _F32 else spec.min_size[1]
    cols = full.shape[-1]
    if m is None or full.size < m or cols == 0:
        return None
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != full.dtype or not a.flags.c_contiguous:
            return None
        if a.shape != full.shape and not (a.size == cols and a.ndim <= full.ndim and a.shape[-1:] == (cols,)):
            return None
    return full.shape, cols


def _run_row_broadcast(spec: Spec, arrays: list[np.ndarray], shape: tuple[int, ...], cols: int) -> np.ndarray:
    """`_run` where some arrays are one row, repeated for every row (row step 0): a bias add stays one pass over
    the rows, split over the workers when large ((1600, 1024) + (1024,): numpy 0.59 ms, this 0.26)."""
    n = int(np.prod(shape))
    out = np.empty(n, arrays[0].dtype)
    src = [v for a in arrays for v in (a.ravel(), cols if a.size == n else 0)]
    rows = n // cols
    bounds = pool.split(rows, max(1, PAR_MIN // 2 // cols)) if n >= PAR_MIN else [(0, rows)]
    pool.run(_kernel(spec.arity), [spec.code, *src, out, cols], bounds, callers_mode=True)
    return out.reshape(shape)


def _run(spec: Spec, arrays: list[np.ndarray]) -> np.ndarray:
    like = arrays[0]
    n = like.size
    out = np.empty(n, like.dtype)
    if n == 0:
        return out.reshape(like.shape)
    rows_k = _kernel(spec.arity)
    if n >= PAR_MIN and (parts := pool.n_workers()) > 1:  # TINYGRAD_LSTM_THREADS=1: always serial
        cols, src = _layout(parts, *arrays)
        rows = -(-n // cols)
        pool.run(rows_k, [spec.code, *src, out, cols], pool.split(rows, 1), callers_mode=True)
    elif all(a.flags.c_contiguous for a in arrays):  # the common case, kept short: for small arrays it is the cost
        rows_k(spec.code, *[v for a in arrays for v in (a.ravel(), n)], out, n, 0, 1)
    elif like.ndim == 2:
        rows_k(spec.code, *[v for a in arrays for v in _rows(a)], out, like.shape[1], 0, like.shape[0])
    else:
        rows_k(spec.code, *[v for a in arrays for v in (np.ascontiguousarray(a).ravel(), n)], out, n, 0, 1)
    return out.reshape(like.shape)


# ---------------------------------------------------------------- the backend's interface


def elementwise(low: Any, xs: tuple[np.ndarray, ...]) -> np.ndarray:
    """z = op(*xs) for a lowered elementwise op: a generated loop when it pays, else numpy (see ACCELERATED)."""
    spec = (low.impl.get(NAME) or _specs(low))[0]
    if spec is not None and xs[0].size >= spec.least:
        arrays = list(xs)
        if _fits(spec, arrays):
            return _run(spec, arrays)
        if (broadcast := _row_broadcast(spec, arrays)) is not None:
            return _run_row_broadcast(spec, arrays, *broadcast)
    return _ref.elementwise(low, xs)


def elementwise_grad(low: Any, k: int, g: np.ndarray, saved: tuple[np.ndarray, ...]) -> np.ndarray:
    """The gradient of input k from the output's gradient and the op's saved arrays (`low.saves`)."""
    spec = (low.impl.get(NAME) or _specs(low))[1][k]
    if spec is not None and g.size >= spec.least:
        vals = dict(zip(low.saves, saved), g=g)
        arrays = [vals[n] for n in spec.args]
        if _fits(spec, arrays):
            return _run(spec, arrays)
    return _ref.elementwise_grad(low, k, g, saved)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A large 2-D float product on the library's worker threads (gemm.matmul: MKL where installed); others
    through numpy, on one thread when small (see blas.py).

    A product over a single index (a column times a row: an input with one feature) is a broadcast multiply, the
    same numbers without a sum: BLAS took 114 µs for (512, 1) @ (1, 200), numpy's multiply 28."""
    work = a.size * (b.shape[-1] if b.ndim > 1 else 1)
    if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype in _FLOATS:
        if a.shape[1] == 1 and b.shape[0] == 1:
            return np.multiply(a, b)
        if work >= WORKERS_MIN:
            return gemm.matmul(a, b)
    use_threads_for(work)
    return _ref.matmul(a, b)


exp, log, sqrt, tanh, sigmoid, relu, add, sub, mul, div = by_name(elementwise)
tanh_backward, sigmoid_backward, relu_backward = grads_by_name(elementwise_grad)


def adam_update(d: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, vmax: np.ndarray | None,
                beta1: float, beta2: float, step_size: float, bias2_sqrt: float, eps: float) -> None:
    """numpy_backend.adam_update in one pass over the arrays (numpy's takes ten: 0.95 ms a step on config c of
    benchmarks/lstm_train.py), the same numbers to the last bit; the reference for arrays not C-contiguous."""
    arrays = (d, g, m, v) + ((vmax,) if vmax is not None else ())
    if d.dtype not in _FLOATS or any(a.dtype != d.dtype or not a.flags.c_contiguous for a in arrays):
        return _ref.adam_update(d, g, m, v, vmax, beta1, beta2, step_size, bias2_sqrt, eps)
    t = d.dtype.type
    flat = [a.reshape(-1) for a in arrays]
    _adam(*flat[:4], flat[4] if vmax is not None else flat[3], vmax is not None, t(beta1), t(1 - beta1), t(beta2),
          t(1 - beta2), t(step_size), t(bias2_sqrt), t(eps), np.empty(1, d.dtype))


@jitcache.jit(nogil=True)
def _adam(d, g, m, v, vmax, amsgrad, b1, c1, b2, c2, step_size, bias2_sqrt, eps, root):  # noqa: ANN001, ANN202
    # root: numba's sqrt of a float32 is a float64; stored in root[0] it is the float32 numpy computes
    for i in range(d.size):
        mi = m[i] * b1 + g[i] * c1
        m[i] = mi
        vi = v[i] * b2 + (g[i] * g[i]) * c2
        v[i] = vi
        if amsgrad:  # np.maximum: a NaN on either side wins
            w = vmax[i]
            vi = w if (w >= vi or w != w) else vi
            vmax[i] = vi
        root[0] = np.sqrt(vi)
        d[i] -= (mi / (root[0] / bias2_sqrt + eps)) * step_size

