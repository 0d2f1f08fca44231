"""The numba side of kernels/gemm.py. Not imported as it is: gemm.py loads this text through the kernel cache
(kernels/jitcache.py) with the two settings below replaced by the BLAS it bound, so that code compiled for one BLAS
is never loaded in a process that bound another."""

import numpy as np
from numba import types

from tinygrad_lstm.kernels import spin
from tinygrad_lstm.kernels.jitcache import jit

CBLAS = False  # replaced: whether the tinygrad_lstm_?gemm symbols are bound
ILP64 = False  # replaced: whether that BLAS takes 64-bit integers
PACKED = False  # replaced: whether tinygrad_lstm_?gemm_compute is MKL's product with a packed B (gemm.pack)

_INT = types.int64 if ILP64 else types.int32
_U64, _I32 = types.uint64, types.int32
# cblas_?gemm(order, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); pointers passed as integers
_sgemm = types.ExternalFunction("tinygrad_lstm_sgemm", types.void(
    _I32, _I32, _I32, _INT, _INT, _INT, types.float32, _U64, _INT, _U64, _INT, types.float32, _U64, _INT))
_dgemm = types.ExternalFunction("tinygrad_lstm_dgemm", types.void(
    _I32, _I32, _I32, _INT, _INT, _INT, types.float64, _U64, _INT, _U64, _INT, types.float64, _U64, _INT))
# cblas_?gemm_compute(order, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc), transb = packed
_scompute = types.ExternalFunction("tinygrad_lstm_sgemm_compute", types.void(
    _I32, _I32, _I32, _INT, _INT, _INT, _U64, _INT, _U64, _INT, types.float32, _U64, _INT))
_dcompute = types.ExternalFunction("tinygrad_lstm_dgemm_compute", types.void(
    _I32, _I32, _I32, _INT, _INT, _INT, _U64, _INT, _U64, _INT, types.float64, _U64, _INT))
_ROW_MAJOR, _NO_TRANS, _TRANS, _PACKED = 101, 111, 112, 151


@jit(nogil=True)
def gemm(A, B, C, beta, trans_a=False):
    """C = A @ B + beta · C (Aᵀ @ B when trans_a: A is then (k, m)), for 2-D arrays whose rows are contiguous
    (row or column slices of C arrays), B also with contiguous columns (a transposed view: W_hhᵀ); A, B, C of one
    dtype, float32 or float64."""
    item = A.itemsize
    b_rows = B.strides[1] == item
    if not CBLAS or A.strides[1] != item or not (b_rows or B.strides[0] == item) or C.strides[1] != item:
        P = np.dot(np.ascontiguousarray(A.T) if trans_a else np.ascontiguousarray(A), np.ascontiguousarray(B))
        if beta == 0.0:
            C[:, :] = P
        else:
            C[:, :] = beta * C + P
        return
    m, n, k = C.shape[0], C.shape[1], A.shape[0] if trans_a else A.shape[1]
    if m == 0 or n == 0:
        return
    ta = _TRANS if trans_a else _NO_TRANS
    tb, ldb = (_NO_TRANS, _ld(B)) if b_rows else (_TRANS, _ld(B.T))
    if item == 4:  # float32
        _sgemm(_ROW_MAJOR, ta, tb, m, n, k, np.float32(1.0), A.ctypes.data, _ld(A), B.ctypes.data, ldb,
               np.float32(beta), C.ctypes.data, _ld(C))
    else:
        _dgemm(_ROW_MAJOR, ta, tb, m, n, k, 1.0, A.ctypes.data, _ld(A), B.ctypes.data, ldb,
               np.float64(beta), C.ctypes.data, _ld(C))


@jit(nogil=True)
def gemm_packed(A, B, P, C, beta):
    """C = A @ B + beta · C, B also given as P = gemm.pack(B, rows of A) (an empty P: plain `gemm`)."""
    item = A.itemsize
    if not PACKED or P.size == 0 or A.strides[1] != item or C.strides[1] != item:
        gemm(A, B, C, beta)
        return
    m, n, k = C.shape[0], C.shape[1], A.shape[1]
    if m == 0 or n == 0:
        return
    if item == 4:  # float32
        _scompute(_ROW_MAJOR, _NO_TRANS, _PACKED, m, n, k, A.ctypes.data, _ld(A), P.ctypes.data, n,
                  np.float32(beta), C.ctypes.data, _ld(C))
    else:
        _dcompute(_ROW_MAJOR, _NO_TRANS, _PACKED, m, n, k, A.ctypes.data, _ld(A), P.ctypes.data, n,
                  np.float64(beta), C.ctypes.data, _ld(C))


@jit(nogil=True)
def gemm_columns(A, B, C, trans_a, c0, c1):
    """C[:, c0:c1] = A @ B[:, c0:c1] (Aᵀ when trans_a): one worker's share of a product (gemm.matmul)."""
    spin.arrived()  # first, in every kernel that kernels/pool.py runs: see there
    gemm(A, B[:, c0:c1], C[:, c0:c1], 0.0, trans_a)


@jit(nogil=True)
def gemm_rows(A, B, C, trans_a, r0, r1):
    """C[r0:r1] = A[r0:r1] @ B: one worker's share of a product (gemm.matmul); trans_a only for the whole."""
    spin.arrived()
    if trans_a:
        gemm(A, B, C, 0.0, True)
    else:
        gemm(A[r0:r1], B, C[r0:r1], 0.0, False)


@jit(nogil=True)
def gemm_sum_rows(A, B, r0, r1, part):
    """part = A[r0:r1]ᵀ @ B[r0:r1]: one worker's partial sum of Aᵀ B (gemm.matmul)."""
    spin.arrived()
    gemm(A[r0:r1], B[r0:r1], part, 0.0, True)


@jit(nogil=True)
def _ld(X):
    """The leading dimension BLAS wants: the row stride, at least the row length, at least 1."""
    return max(X.strides[0] // X.itemsize, X.shape[1], 1)
