"""Matrix products inside compiled loops (jit/sequence.py): `gemm(A, B, C, beta)`: C = A B + beta C.

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

``TINYGRAD_LSTM_GEMM=mkl|openblas|numpy`` picks one (default: the first found). `NAME` says which this process
uses; jit/sequence.py puts it in the source of the loops it caches, and `gemm` itself is not cached on disk.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types

_SYMBOL = "tinygrad_lstm_{}gemm"
_MKL_SEQUENTIAL, _MKL_LP64 = 1, 0  # MKL_Set_Threading_Layer / MKL_Set_Interface_Layer values (mkl_service.h)


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
    for t in "sd":
        llvm.add_symbol(_SYMBOL.format(t), ctypes.cast(getattr(lib, pattern.format(t)), ctypes.c_void_p).value)
    return f"{os.path.basename(lib._name)}:{pattern}:{'ilp64' if ilp64 else 'lp64'}"


NAME = _bind()
_INT = types.int64 if NAME.endswith("ilp64") else types.int32
_U64, _I32 = types.uint64, types.int32
# cblas_?gemm(order, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); pointers passed as integers
_sgemm = types.ExternalFunction(_SYMBOL.format("s"), types.void(
    _I32, _I32, _I32, _INT, _INT, _INT, types.float32, _U64, _INT, _U64, _INT, types.float32, _U64, _INT))
_dgemm = types.ExternalFunction(_SYMBOL.format("d"), types.void(
    _I32, _I32, _I32, _INT, _INT, _INT, types.float64, _U64, _INT, _U64, _INT, types.float64, _U64, _INT))
_ROW_MAJOR, _NO_TRANS = 101, 111
_CBLAS = NAME != "numpy"


@njit(nogil=True, error_model="numpy")
def gemm(A, B, C, beta):  # noqa: ANN001, ANN201 - a numba function: types come from the call
    """C = A @ B + beta · C, for 2-D arrays whose rows are contiguous (row slices of C arrays); A, B, C of one
    dtype, float32 or float64."""
    item = A.itemsize
    if not _CBLAS or A.strides[1] != item or B.strides[1] != item or C.strides[1] != item:
        P = np.dot(A, B)
        if beta == 0.0:
            C[:, :] = P
        else:
            C[:, :] = beta * C + P
        return
    m, n, k = C.shape[0], C.shape[1], A.shape[1]
    if m == 0 or n == 0:
        return
    lda, ldb, ldc = _ld(A), _ld(B), _ld(C)
    if item == 4:  # float32
        _sgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, np.float32(1.0), A.ctypes.data, lda, B.ctypes.data, ldb,
               np.float32(beta), C.ctypes.data, ldc)
    else:
        _dgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, 1.0, A.ctypes.data, lda, B.ctypes.data, ldb, np.float64(beta),
               C.ctypes.data, ldc)


@njit(nogil=True)
def _ld(X):  # noqa: ANN001, ANN202
    """The leading dimension BLAS wants for a 2-D array with contiguous rows (any stride will do for one row)."""
    return X.strides[0] // X.itemsize if X.shape[0] > 1 else max(X.shape[1], 1)
