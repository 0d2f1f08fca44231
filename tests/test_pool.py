"""kernels/pool.py: how work is split over the library's worker threads, and where it runs."""

from __future__ import annotations

import threading

import pytest

from tinygrad_lstm.kernels import pool
from tinygrad_lstm.kernels.denormal import SUPPORTED, get_flush_denormal


@pytest.mark.parametrize("n, min_size, align", [(32, 4, 1), (7, 4, 1), (1000, 64, 16), (0, 4, 1), (130, 64, 16)])
def test_split_covers_the_range_in_order(monkeypatch: pytest.MonkeyPatch, n: int, min_size: int, align: int) -> None:
    """The chunks tile [0, n) in order, one per worker at most, none under min_size (unless n is), inner cuts
    aligned."""
    monkeypatch.setenv("TINYGRAD_LSTM_THREADS", "2")
    parts = pool.split(n, min_size, align)
    assert parts[0][0] == 0 and parts[-1][1] == n
    assert all(b == c for (_, b), (c, _) in zip(parts, parts[1:]))
    assert 1 <= len(parts) <= 2
    if len(parts) > 1:
        assert all(b - a >= min_size for a, b in parts) and all(b % align == 0 for _, b in parts[:-1])
    assert len(parts) == (2 if n >= 2 * min_size else 1)


@pytest.mark.skipif(not SUPPORTED, reason="flush-to-zero is an x86 register")
@pytest.mark.parametrize("n_chunks", [1, 2])
def test_every_chunk_runs_in_the_workers_mode_and_the_caller_keeps_its_own(n_chunks: int) -> None:
    """The first chunk runs on the calling thread, the others on pool threads; each sees the workers' subnormal
    mode (flushing by default), and afterwards the caller's own mode is what it was (IEEE)."""
    seen: list[tuple[int, bool]] = []
    pool.run(lambda a, b: seen.append((threading.get_ident(), get_flush_denormal())), [],
             [(k, k + 1) for k in range(n_chunks)])
    assert len(seen) == n_chunks and all(flag for _, flag in seen)
    assert seen[0][0] == threading.get_ident() and threading.get_ident() not in {t for t, _ in seen[1:]}
    assert not get_flush_denormal()


def test_a_chunk_that_raises_on_a_worker_raises_in_the_caller_and_the_pool_goes_on() -> None:
    """An error in a worker's chunk reaches the caller once every chunk has finished; the next job runs."""
    ran: list[int] = []

    def chunk(a: int, b: int) -> None:
        ran.append(a)
        if a == 1:
            raise ValueError("chunk 1 failed")

    with pytest.raises(ValueError, match="chunk 1 failed"):
        pool.run(chunk, [], [(0, 1), (1, 2)])
    assert sorted(ran) == [0, 1]
    ran.clear()
    pool.run(lambda a, b: ran.append(a), [], [(0, 1), (2, 3)])
    assert sorted(ran) == [0, 2]


def test_workers_that_fell_asleep_wake_for_the_next_job() -> None:
    """After SPIN_SECONDS with no job a worker sleeps on an event; the next job still runs on it."""
    import time

    where: list[int] = []
    pool.run(lambda a, b: where.append(threading.get_ident()), [], [(0, 1), (1, 2)])
    time.sleep(10 * pool.SPIN_SECONDS)
    assert all(pool._teams[0].asleep)
    where.clear()
    pool.run(lambda a, b: where.append(threading.get_ident()), [], [(0, 1), (1, 2)])
    assert len(where) == 2 and where[0] == threading.get_ident() != where[1]


def test_spin_primitives() -> None:
    """The atomics read and write the array, and `wait_until` sees a store made by another thread (True) or gives
    up after its budget (False)."""
    import numpy as np

    from tinygrad_lstm.kernels import spin

    a = np.zeros(3, np.int64)
    from tinygrad_lstm.kernels.jitcache import jit

    @jit
    def poke(a):
        spin.store(a, 1, 5)
        return spin.load(a, 1), spin.load(a, 2)

    assert poke(a) == (5, 0) and a.tolist() == [0, 5, 0]
    rate = spin.cycles_per_second()
    assert 1e8 < rate < 1e11
    assert not spin.wait_until(a, 0, 1, int(1e-3 * rate))
    timer = threading.Timer(0.01, lambda: a.__setitem__(0, 7))
    timer.start()
    assert spin.wait_until(a, 0, 7, int(5.0 * rate))
    timer.join()
