"""Matrix products from compiled loops, `gemm(A, B, C, beta)`: C = A B + beta C; and `matmul` on the workers.

The recurrent product of an LSTM step is small: (B, H) @ (H, 4H) with B a chunk of 8-64 rows. How fast it runs
decides the speed of a whole-sequence loop, and libraries differ a lot there. Config (c) of
benchmarks/lstm_train.py, (32, 256) @ (256, 1024) 50 times on one thread (16 rows in brackets), GFLOP/s:

    numba's np.dot (scipy's OpenBLAS 0.3.30)       71 (48)
    scipy's sgemm called directly                  76 (51)
    numpy's OpenBLAS 0.3.31, cblas_sgemm          100 (82)
    Intel MKL 2026.2, cblas_sgemm                 153 (154)       a, d and the backward's shapes: 159-172

So `gemm` calls Intel's MKL where the `mkl` wheel is installed (a dependency on Linux x86-64), run sequentially on
its caller's thread (jit/sequence.py runs the chunks of rows on threads of its own), else the cblas of the BLAS
numpy ships, else `np.dot`. The function's address is given to the JIT as a named symbol
(`llvmlite.binding.add_symbol`), which keeps the compiled loops cacheable on disk: they refer to the name, bound
again in each process. An accumulating beta costs nothing, where `np.dot` needs a temporary. Pass B with
contiguous rows: OpenBLAS's own transposed B ran the backward's product at 69 GFLOP/s against 104 for a
contiguous copy of Wᵀ.

`matmul(A, B)` splits a large product (the weight gradients after a recurrence, the input projection) over the
library's worker threads (kernels/pool.py), with the same BLAS, and with the workers' handling of subnormal
numbers: config (d)'s weight gradients, whose early steps are subnormal, took 19 ms through numpy on the caller's
thread and 3.9 so.

``TINYGRAD_LSTM_GEMM=mkl|openblas|numpy`` picks one (default: the first found). `NAME` says which this process
uses. The numba code is kernels/gemm_code.py, loaded through the kernel cache with that choice written into its
text, as jit/sequence.py does with the loops that call it: code compiled for one BLAS never runs with another.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import ModuleType
from typing import Any

import llvmlite.binding as llvm
import numpy as np

from . import jitcache, pool

_SYMBOL = "tinygrad_lstm_{}gemm"
_MKL_SEQUENTIAL, _MKL_LP64 = 1, 0  # MKL_Set_Threading_Layer / MKL_Set_Interface_Layer values (mkl_service.h)
MIN_SHARE = 64  # a worker's least share of a `matmul`, in rows or columns
# Split a `matmul` over the workers from this many multiply-adds: handing a share to a worker and back costs
# 30-50 µs (kernels/pool.py). (1792, 28) @ (28, 512), 26M: one thread 0.35 ms, two 0.23, and its Aᵀ B form 0.41
# and 0.23; (1600, 64) @ (64, 1024), 105M: one 1.28, two 0.69 (by rows)
SPLIT_MIN = 1 << 23
# Aᵀ B (a weight gradient) with a result smaller than this is split by rows of A and B, each worker summing its
# rows, the partial sums added last; a larger one by columns of the result. (51200, 50)ᵀ @ (51200, 200): 5.1 ms
# by columns, 4.2 by rows; (1792, 128)ᵀ @ (1792, 512): 1.03 and 0.93; (1600, 256)ᵀ @ (1600, 1024): 2.87 and 2.90
SUM_SPLIT_MAX = 1 << 17


def _mkl() -> tuple[ctypes.CDLL, str, bool] | None:
    """Intel's MKL (the `mkl` wheel), set to run each call on its caller's thread, or None where it is absent."""
    names = [os.path.join(sys.prefix, "lib", f"libmkl_rt.so{v}") for v in (".3", ".2", "")]
    names += [n for n in (ctypes.util.find_library("mkl_rt"),) if n]
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.MKL_Set_Threading_Layer(_MKL_SEQUENTIAL)
        lib.MKL_Set_Interface_Layer(_MKL_LP64)
        _sequential.append(True)
        return lib, "cblas_{}gemm", False
    return None


def _numpy_blas() -> tuple[ctypes.CDLL, str, bool] | None:
    """(library, symbol pattern, 64-bit ints?) of the cblas_?gemm in the BLAS numpy uses, or None."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    found = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    found.sort(key=lambda i: not os.path.dirname(i["filepath"]).startswith(os.path.join(numpy_dir, "numpy")))
    for info in found:
        try:
            lib = ctypes.CDLL(info["filepath"])
        except OSError:
            continue
        for prefix in ("scipy_", ""):
            for suffix in ("64_", "_64", ""):
                if hasattr(lib, f"{prefix}cblas_sgemm{suffix}") and hasattr(lib, f"{prefix}cblas_dgemm{suffix}"):
                    return lib, f"{prefix}cblas_{{}}gemm{suffix}", bool(suffix)
    return None


def _bind() -> str:
    """Give the JIT the two gemm symbols; return the name of what they call ('numpy' when there is none)."""
    want = os.environ.get("TINYGRAD_LSTM_GEMM", "").strip().lower()
    found = None
    if want in ("", "mkl"):
        found = _mkl()
    if found is None and want in ("", "mkl", "openblas"):
        found = _numpy_blas()
    if found is None:
        return "numpy"
    lib, pattern, ilp64 = found
    packs = all(hasattr(lib, f"cblas_{t}gemm_{f}") for t in "sd" for f in ("pack", "compute", "pack_get_size"))
    for t in "sd":
        address = ctypes.cast(getattr(lib, pattern.format(t)), ctypes.c_void_p).value
        llvm.add_symbol(_SYMBOL.format(t), address)
        # without packing, the _compute name is bound to the plain product, never called (PACKED is False)
        compute = ctypes.cast(getattr(lib, f"cblas_{t}gemm_compute"), ctypes.c_void_p).value if packs else address
        llvm.add_symbol(_SYMBOL.format(t) + "_compute", compute)
    if packs:
        for t, scalar in (("s", ctypes.c_float), ("d", ctypes.c_double)):
            size_of, into = getattr(lib, f"cblas_{t}gemm_pack_get_size"), getattr(lib, f"cblas_{t}gemm_pack")
            size_of.restype, size_of.argtypes = ctypes.c_size_t, [ctypes.c_int] * 4
            into.restype = None
            into.argtypes = [ctypes.c_int] * 6 + [scalar, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        _packer.append(lib)
    return f"{os.path.basename(lib._name)}:{pattern}:{'ilp64' if ilp64 else 'lp64'}{':packed' if packs else ''}"


_packer: list[ctypes.CDLL] = []  # the library whose cblas_?gemm_pack / _compute `pack` and `gemm_packed` use
_sequential: list[bool] = []  # [True] once MKL is bound: it runs every call on its caller's thread
NAME = _bind()


def _load() -> ModuleType:
    """kernels/gemm_code.py with this process's BLAS settings, through the kernel cache."""
    text = Path(__file__).with_name("gemm_code.py").read_text()
    settings = {"CBLAS = False  # replaced": f"CBLAS = {NAME != 'numpy'}  # set",
                "ILP64 = False  # replaced": f"ILP64 = {':ilp64' in NAME}  # set",
                "PACKED = False  # replaced": f"PACKED = {bool(_packer)}  # set"}
    for line, value in settings.items():
        assert line in text, f"kernels/gemm_code.py: the line {line!r} changed"
        text = text.replace(line, value)
    return jitcache.load(f"# BLAS: {NAME}\n{text}", "gemm")


_code = _load()
# The generated module's name (a hash of its text): code that calls `gemm` puts it in its own cached source, as
# numba's cached machine code refers to that module by name (jit/sequence.py)
MODULE = _code.__name__
gemm = _code.gemm  # gemm(A, B, C, beta, trans_a=False): C = A B + beta C (see gemm_code.py), from compiled code
gemm_packed = _code.gemm_packed  # gemm_packed(A, B, P, C, beta): the same with P = pack(B, rows of A)


def one_thread() -> AbstractContextManager:
    """``with one_thread():`` around work whose chunks call `gemm` side by side: OpenBLAS (numpy's, or scipy's for
    numba's np.dot) held to one thread meanwhile, as its own threads would only spin between products this small
    (3x slower, measured). MKL runs sequentially already: nothing to do (threadpoolctl's limit cost ~10 µs a
    call)."""
    if _sequential:
        return nullcontext()
    if not _limits:
        from threadpoolctl import ThreadpoolController

        _limits.append(ThreadpoolController())
    return _limits[0].limit(limits=1, user_api="blas")


_limits: list[Any] = []


def matmul(A: np.ndarray, B: np.ndarray, trans_a: bool = False) -> np.ndarray:
    """A @ B (Aᵀ @ B when trans_a) for 2-D float arrays of one dtype, computed by the library's workers
    (kernels/pool.py): with that BLAS, with the workers' subnormal handling, and without waking numpy's BLAS
    threads (which then spin on a core the workers need: config c ran 33 ms a step with them and 21 without).
    A transposed view is read as it is (trans_a), anything else is copied. Each worker computes some rows of
    the result (some columns for Aᵀ @ B, whose rows would need all of A); below SPLIT_MIN multiply-adds, one."""
    if not trans_a and not _rows_contiguous(A) and _rows_contiguous(A.T):
        A, trans_a = A.T, True
    A, B = A if _rows_contiguous(A) else np.ascontiguousarray(A), operand(B)
    C = np.empty((A.shape[1] if trans_a else A.shape[0], B.shape[1]), A.dtype)
    m, n = C.shape
    k = A.shape[0] if trans_a else A.shape[1]
    with one_thread():
        if C.size * k < SPLIT_MIN:
            pool.run(_code.gemm_rows, [A, B, C, trans_a], [(0, m)])
        elif not trans_a:
            pool.run(_code.gemm_rows, [A, B, C, trans_a], pool.split(m, MIN_SHARE, align=16))
        elif C.size >= SUM_SPLIT_MAX:
            pool.run(_code.gemm_columns, [A, B, C, trans_a], pool.split(n, MIN_SHARE, align=16))
        else:  # a small Aᵀ B over many rows: each worker sums some of the rows, then the partial sums are added
            bounds = pool.split(k, MIN_SHARE, align=16)
            parts = np.empty((len(bounds), m, n), A.dtype)
            pool.run(_code.gemm_sum_rows, [A, B], bounds, lambda c: [parts[c]])
            C = parts[0] if len(bounds) == 1 else np.add.reduce(parts, axis=0)
    return C


# CBLAS_IDENTIFIER CblasBMatrix, CBLAS_LAYOUT, CBLAS_TRANSPOSE
_B_MATRIX, _ROW_MAJOR, _NO_TRANS, _TRANS = 162, 101, 111, 112


def pack(W: np.ndarray, rows: int) -> np.ndarray:
    """W (k, n), C-contiguous float32/64 or the transposed view of one (W_hhᵀ), in MKL's internal layout for
    `gemm_packed` products whose A has `rows` rows (cblas_?gemm_pack): a loop multiplies by the same weight at every
    step, and a packed weight made those products 7-20% faster (config a-d's shapes, one thread). Packing straight
    from the transposed view costs no copy: config c's (1024, 256)ᵀ 0.05 ms, against 0.39 for a row-major copy
    and its packing. An empty array where the BLAS has no packing."""
    transposed = not W.flags.c_contiguous and W.T.flags.c_contiguous
    if not _packer or W.dtype not in (np.float32, np.float64) or not (W.flags.c_contiguous or transposed) \
            or W.size == 0 or rows == 0:
        return np.empty(0, np.uint8)
    lib, t = _packer[0], "s" if W.dtype == np.float32 else "d"
    k, n = W.shape
    size = getattr(lib, f"cblas_{t}gemm_pack_get_size")(_B_MATRIX, rows, n, k)
    buffer = np.empty(size + 64, np.uint8)  # a fresh array: MKL's layout must not move once packed
    start = -buffer.ctypes.data % 64  # on a cache line
    packed = buffer[start:start + size]
    getattr(lib, f"cblas_{t}gemm_pack")(_ROW_MAJOR, _B_MATRIX, _TRANS if transposed else _NO_TRANS, rows, n, k, 1.0,
                                         W.ctypes.data, k if transposed else n, packed.ctypes.data)
    return packed


def operand(B: np.ndarray) -> np.ndarray:
    """B as `gemm` takes it: itself when its rows or its columns are contiguous (a transposed view, W_hhᵀ, is
    multiplied as it is: BLAS reads it transposed), else a row-major copy."""
    return B if _rows_contiguous(B) or _rows_contiguous(B.T) else np.ascontiguousarray(B)


def _rows_contiguous(x: np.ndarray) -> bool:
    return x.strides[1] == x.itemsize and x.strides[0] >= x.shape[1] * x.itemsize and x.strides[0] % x.itemsize == 0
