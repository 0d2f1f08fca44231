"""kernels/gemm.py: C = A B + beta C from compiled code, against numpy, for every BLAS it can bind."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_lstm.kernels import gemm as gemm_module

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def check_products(gemm, dtypes=((np.float64, 1e-13), (np.float32, 1e-5))) -> float:  # noqa: ANN001
    """The worst relative error of gemm(A, B, C, beta) against A @ B + beta C over shapes with 0 and 1 rows, B
    given row-major and as a transposed view (W_hhᵀ in a recurrent layer)."""
    rng = np.random.default_rng(0)
    worst = 0.0
    for dt, tol in dtypes:
        for m, k, n in ((5, 7, 3), (1, 4, 6), (16, 128, 512), (3, 0, 4), (0, 3, 4)):
            A = rng.standard_normal((m + 2, k)).astype(dt)[1:m + 1]  # a row slice, as the loops pass
            B = rng.standard_normal((k, n)).astype(dt)
            At = np.ascontiguousarray(A.T)  # the same product asked for as Aᵀ's transpose
            Bt = np.ascontiguousarray(B.T).T  # B's values, columns contiguous
            for beta, trans_a, b in ((0.0, False, B), (1.0, False, B), (0.0, True, B), (1.0, True, B),
                                     (0.0, False, Bt), (1.0, True, Bt)):
                C = rng.standard_normal((m, n)).astype(dt)
                want = A.astype(np.float64) @ B + beta * C
                gemm(At if trans_a else A, b, C, beta, trans_a)
                err = np.abs(C - want).max(initial=0.0) / max(1.0, np.abs(want).max(initial=0.0))
                assert err < tol, (dt, m, k, n, beta, trans_a, b.flags.c_contiguous, err)
                worst = max(worst, err)
    return worst


def test_gemm_matches_numpy() -> None:
    """This process's provider (MKL where installed): float32 and float64, beta 0 and 1, A or Aᵀ, 0 and 1 rows,
    k = 0."""
    assert check_products(gemm_module.gemm) < 1e-5


CHECK = """
import numpy as np
from tinygrad_lstm.kernels import gemm as g
from test_gemm import check_products
print(g.NAME, check_products(g.gemm, ((np.float32, 1e-5),)))
"""


@pytest.mark.parametrize("provider", ["openblas", "numpy"])
def test_gemm_matches_numpy_with_the_other_blas(provider: str) -> None:
    """The fallbacks (numpy's OpenBLAS's cblas, numba's np.dot) give the same products; the process says which it
    bound."""
    env = {**os.environ, "TINYGRAD_LSTM_GEMM": provider,
           "PYTHONPATH": os.pathsep.join([ROOT, os.path.join(ROOT, "tests")])}
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    name = out.stdout.split()[0]
    assert name == "numpy" if provider == "numpy" else "mkl" not in name and name != "numpy"



def test_gemm_falls_back_for_strided_rows() -> None:
    """A column slice (rows not contiguous) cannot go to BLAS as it is: the np.dot path gives the same product."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 10))[:, ::2]
    B = rng.standard_normal((5, 4))
    C = np.ones((6, 4))
    gemm_module.gemm(A, B, C, 1.0)
    np.testing.assert_allclose(C, A @ B + 1.0, rtol=1e-13)


def test_gemm_accumulates_in_place_on_a_row_slice() -> None:
    """beta = 1 adds into the rows given and nothing else (the backward loop's dh += dG Wᵀ on a chunk)."""
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((3, 8)).astype(np.float32), rng.standard_normal((8, 5)).astype(np.float32)
    C = np.zeros((7, 5), np.float32)
    gemm_module.gemm(A, B, C[2:5], 1.0)
    gemm_module.gemm(A, B, C[2:5], 1.0)
    np.testing.assert_allclose(C[2:5], 2 * (A @ B), rtol=1e-5)
    assert not C[:2].any() and not C[5:].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, m, n", [(300, 40, 200), (7, 3, 5), (50, 6, 0), (0, 4, 130),
                                     (20000, 40, 64), (300, 400, 400)])
def test_matmul_on_the_workers_matches_numpy(dtype: type, k: int, m: int, n: int) -> None:
    """gemm.matmul(A, B, trans_a=True) = Aᵀ B, and A @ B from a transposed view: on one worker (small), split
    by rows of A and B with partial sums (20000 x 40 x 64), by columns (300 x 400 x 400), or by rows of the
    result (A @ B); B also as a transposed view, read as it is in every split."""
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((k, m)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    want = A.T.astype(np.float64) @ B
    got = gemm_module.matmul(A, B, trans_a=True)
    assert got.dtype == dtype and got.shape == (m, n)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1, k))
    np.testing.assert_allclose(gemm_module.matmul(A.T, B), want, rtol=tol, atol=tol * max(1, k))
    Bt = np.ascontiguousarray(B.T).T
    assert gemm_module.operand(Bt) is Bt  # not copied
    np.testing.assert_allclose(gemm_module.matmul(A, Bt, trans_a=True), want, rtol=tol, atol=tol * max(1, k))
    np.testing.assert_allclose(gemm_module.matmul(A.T, Bt), want, rtol=tol, atol=tol * max(1, k))


def test_cached_loops_are_keyed_by_the_gemm_module_they_call() -> None:
    """numba's cached code of a sequence loop names the generated gemm module it calls: the loop's cache key
    must change with that module (else a cache written by another version of gemm_code.py is loaded and fails
    with ModuleNotFoundError)."""
    from tinygrad_lstm import Tensor, nn
    from tinygrad_lstm.jit import sequence

    layer = nn.GRU(3, 4)
    layer(Tensor(np.zeros((3, 2, 3), np.float32)))
    plans = [p for p in sequence._plans.values() if p is not None]
    assert plans
    for p in plans:
        assert gemm_module.MODULE in open(sys.modules[p.fwd.__module__].__file__).read()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, k, n", [(32, 256, 1024), (7, 5, 3), (1, 4, 6)])
def test_packed_products_match_numpy(dtype: type, rows: int, k: int, n: int) -> None:
    """gemm_packed(A, W, pack(W, rows), C, beta) = A W + beta C, where the BLAS packs (MKL) and where it does
    not (an empty pack: the plain product); a row slice as A and C, as the loops pass; W row-major and as a
    transposed view (W_hhᵀ: packed straight from W_hh)."""
    rng = np.random.default_rng(4)
    W = rng.standard_normal((k, n)).astype(dtype)
    Wt = np.ascontiguousarray(W.T).T
    A = rng.standard_normal((rows + 2, k)).astype(dtype)[1:rows + 1]
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for w in (W, Wt):
        for P in (gemm_module.pack(w, rows), np.empty(0, np.uint8)):
            for beta in (0.0, 1.0):
                C = rng.standard_normal((rows + 1, n)).astype(dtype)
                want = A.astype(np.float64) @ W + beta * C[1:]
                gemm_module.gemm_packed(A, w, P, C[1:], beta)
                np.testing.assert_allclose(C[1:], want, rtol=tol, atol=tol * k)
    assert gemm_module.pack(Wt, rows).size > 0 or ":packed" not in gemm_module.NAME
    assert gemm_module.pack(W, rows).size > 0 or ":packed" not in gemm_module.NAME
