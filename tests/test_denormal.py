"""set_flush_denormal: subnormal products become 0 on the calling thread and on every numba worker thread, and
switching it off brings them back. Checked by computing (numpy, and a parallel numba kernel that reports which
thread computed what), never by timing."""

import numba
import numpy as np
import pytest
from numba import njit, prange

import tinygrad_lstm
from tinygrad_lstm.kernels import denormal
from tinygrad_lstm.kernels.mxcsr import flush_enter, flush_exit

pytestmark = pytest.mark.skipif(not denormal.SUPPORTED, reason="flush-to-zero is implemented for x86-64 only")

A, B = np.float32(1e-30), np.float32(1e-10)  # A * B = 1e-40: below float32's smallest normal 1.18e-38
SUB = np.float32(1e-40)
SUB_FLOAT = float(SUB)  # converted now, while subnormals are kept: with DAZ on, float(SUB) itself is 0.0


@pytest.fixture(autouse=True)
def _flush_off_after():
    yield
    denormal.reset()  # later tests compute with IEEE subnormals again, and the library's workers as by default
    assert not tinygrad_lstm.get_flush_denormal() and denormal.get_requested() is None


@njit(parallel=True)
def _products_per_thread(a, b, sub, chunks):
    """Row k: (numba thread that ran chunk k, a*b computed there, a subnormal input times 1e30)."""
    out = np.zeros((chunks, 3), np.float64)
    for k in prange(chunks):
        out[k, 0] = numba.get_thread_id()
        out[k, 1] = a[k] * b[k]
        out[k, 2] = sub[k] * np.float32(1e30)
    return out


def _run_everywhere() -> np.ndarray:
    n = numba.config.NUMBA_NUM_THREADS
    rows = _products_per_thread(np.full(16 * n, A), np.full(16 * n, B), np.full(16 * n, SUB), 16 * n)
    assert sorted(set(rows[:, 0].astype(int))) == list(range(n)), "every numba thread must have run a chunk"
    return rows


def test_subnormal_is_kept_by_default():
    assert not tinygrad_lstm.get_flush_denormal()
    assert A * B == SUB and 0 < A * B < np.finfo(np.float32).tiny
    rows = _run_everywhere()
    assert np.all(rows[:, 1] == np.float64(SUB)) and np.allclose(rows[:, 2], 1e-10, rtol=1e-6)


def test_flush_on_turns_subnormal_products_into_zero_on_this_thread_and_every_worker():
    assert tinygrad_lstm.set_flush_denormal(True) is True
    assert tinygrad_lstm.get_flush_denormal()
    assert denormal.worker_flush_denormal() == [True] * numba.config.NUMBA_NUM_THREADS
    assert A * B == 0  # FTZ: a subnormal result is 0
    assert SUB * np.float32(1e30) == 0  # DAZ: a subnormal input reads as 0 (1e-40 * 1e30 would be 1e-10)
    assert np.all(np.array([A] * 8) * np.array([B] * 8) == 0)  # numpy's SIMD loops too
    assert np.finfo(np.float64).tiny * 0.5 == 0.0  # and float64
    rows = _run_everywhere()
    assert np.all(rows[:, 1:] == 0)

    assert tinygrad_lstm.set_flush_denormal(False) is True
    assert not tinygrad_lstm.get_flush_denormal()
    assert denormal.worker_flush_denormal() == [False] * numba.config.NUMBA_NUM_THREADS
    assert A * B == SUB and SUB * np.float32(1e30) == pytest.approx(1e-10, rel=1e-6)
    rows = _run_everywhere()
    assert np.all(rows[:, 1] == np.float64(SUB)) and np.allclose(rows[:, 2], 1e-10, rtol=1e-6)


def test_threads_masked_by_set_num_threads_are_reached_and_the_mask_is_kept():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs numba's pool to have two threads")
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert tinygrad_lstm.set_flush_denormal(True)
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)
    assert all(denormal.worker_flush_denormal())
    assert np.all(_run_everywhere()[:, 1] == 0)


def test_unsupported_processor_reports_false_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(denormal, "SUPPORTED", False)
    assert tinygrad_lstm.set_flush_denormal(True) is False
    assert tinygrad_lstm.get_flush_denormal() is False and denormal.worker_flush_denormal() == []
    monkeypatch.undo()
    assert not tinygrad_lstm.get_flush_denormal() and A * B == SUB


def test_reads_the_mode_torch_sets():
    torch = pytest.importorskip("torch")
    try:
        assert torch.set_flush_denormal(True)
        assert tinygrad_lstm.get_flush_denormal()  # the same register bits, read independently of how they were set
        assert (torch.tensor([A]) * torch.tensor([B])).item() == 0
    finally:
        torch.set_flush_denormal(False)
    assert not tinygrad_lstm.get_flush_denormal()


def _in_thread(fn, ready=None):
    """Run fn in a new Python thread (started now; it waits for `ready` if given) and return a getter."""
    import threading

    out = []
    th = threading.Thread(target=lambda: (ready.wait() if ready else None, out.append(fn())))
    th.start()
    return lambda: (th.join(), out[0])[1]


def test_threads_started_later_inherit_and_older_threads_follow_sync_thread():
    import threading

    from tinygrad_lstm.kernels import mxcsr

    mxcsr.read()  # compiled before the threads run: the first call may take a second
    go = threading.Event()
    older = _in_thread(lambda: (float(A * B), denormal.sync_thread(), float(A * B)), go)
    try:
        assert tinygrad_lstm.set_flush_denormal(True)
        newer = _in_thread(lambda: float(A * B))
    finally:
        go.set()  # never leave the older thread waiting
    assert newer() == 0.0  # pthreads copy the creating thread's floating-point environment
    before_sync, _, after_sync = older()
    assert before_sync == SUB_FLOAT and after_sync == 0.0


@njit(parallel=True)
def _flushing_kernel(a, b, chunks):
    """Each chunk flushes only while it computes: its product is 0, its thread's mode afterwards as before."""
    out = np.zeros(chunks, np.float64)
    for k in prange(chunks):
        prev = flush_enter()
        out[k] = a[k] * b[k]
        flush_exit(prev)
    return out


def test_a_kernel_can_flush_only_while_it_runs():
    n = 16 * numba.config.NUMBA_NUM_THREADS
    assert np.all(_flushing_kernel(np.full(n, A), np.full(n, B), n) == 0)
    assert not tinygrad_lstm.get_flush_denormal() and denormal.worker_flush_denormal() == [False] * (n // 16)
    assert A * B == SUB and np.all(_run_everywhere()[:, 1] == np.float64(SUB))
    assert tinygrad_lstm.set_flush_denormal(True)  # and a caller that flushes keeps flushing
    _flushing_kernel(np.full(n, A), np.full(n, B), n)
    assert tinygrad_lstm.get_flush_denormal() and all(denormal.worker_flush_denormal())


def test_library_worker_threads_flush_until_a_mode_is_requested():
    assert denormal.get_requested() is None and denormal.WORKERS_FLUSH
    worker = _in_thread(lambda: (denormal.sync_thread(), float(A * B))[1])
    assert worker() == 0.0 and A * B == SUB  # the worker flushes, this thread does not
    assert tinygrad_lstm.set_flush_denormal(False)  # asked for: IEEE everywhere, the workers too
    assert _in_thread(lambda: (denormal.sync_thread(), float(A * B))[1])() == SUB_FLOAT
