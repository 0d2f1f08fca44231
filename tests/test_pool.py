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
