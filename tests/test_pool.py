"""kernels/pool.py: how work is split over the library's worker threads, and where it runs."""

from __future__ import annotations

import threading

import pytest

from tinygrad_lstm.kernels import pool


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


def test_one_chunk_runs_on_a_worker_too() -> None:
    """A job too small to split still runs on a worker thread (whose subnormal mode is the library's), never on
    the caller's: the answer must not depend on the batch size."""
    seen: list[int] = []
    pool.run(lambda a, b: seen.append(threading.get_ident()), [], [(0, 3)])
    assert len(seen) == 1 and seen[0] != threading.get_ident()
