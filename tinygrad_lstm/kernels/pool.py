"""The library's worker threads: one job split into chunks that run side by side, one thread each.

Who uses it: the whole-sequence loops (jit/sequence.py: each chunk of a batch's rows runs all T steps) and the
large products after them (kernels/gemm.py `matmul`: each chunk computes some rows or columns of the result, or
a partial sum). The work
runs in numba's `nogil` functions, so no Python runs while the chunks work and two cores give ~2x.

The first chunk runs on the calling thread, the others on pool threads, and every chunk in the same subnormal
mode: flushing to zero unless `set_flush_denormal` asked otherwise (kernels/denormal.py says why), so that the
answer does not depend on how many chunks a batch made; the caller's own mode is put back after its chunk.
Handing a chunk to a pool thread and getting it back cost 80-110 µs, measured: a job too small to split costs
none of that, and a split one overlaps it with the caller's chunk.

``TINYGRAD_LSTM_THREADS=n`` sets the number of threads (default: the cores this process may use).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .denormal import as_worker, sync_thread

_pool: list[ThreadPoolExecutor] = []


def n_workers() -> int:
    """Threads for the chunks: TINYGRAD_LSTM_THREADS, else the cores this process may use."""
    env = os.environ.get("TINYGRAD_LSTM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def split(n: int, min_size: int, align: int = 1) -> list[tuple[int, int]]:
    """Ranges [a, b) splitting range(n) into near-equal chunks, one per worker, none under `min_size` (unless n
    is), inner cuts on multiples of `align`."""
    k = max(1, min(n_workers(), n // max(1, min_size)))
    cuts = [0] + [min(n, (n * i // k) // align * align) for i in range(1, k)] + [n]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a] or [(0, n)]


def run(fn: Callable, args: list, bounds: list[tuple[int, int]],
        per_chunk: Callable[[int], list] = lambda c: []) -> None:
    """fn(*args, a, b, *per_chunk(c)) for every chunk c = (a, b) of `bounds`, and wait: the first on the calling
    thread, the others on pool threads, every one in the workers' subnormal mode (denormal.as_worker)."""
    if len(bounds) > 1 and (not _pool or _pool[0]._max_workers < len(bounds) - 1):
        _pool[:] = [_start(max(len(bounds) - 1, n_workers() - 1))]
    futures = [_pool[0].submit(_task, fn, *args, a, b, *per_chunk(c)) for c, (a, b) in enumerate(bounds) if c > 0]
    with as_worker():
        fn(*args, *bounds[0], *per_chunk(0))
    for f in futures:
        f.result()


def _start(n: int) -> ThreadPoolExecutor:
    """A pool with all its n threads running (each waits for the others once), so that no call after this one
    starts a thread: the work each call does is the same every time."""
    executor = ThreadPoolExecutor(max_workers=n, thread_name_prefix="tinygrad_lstm")
    everyone = threading.Barrier(n)
    for f in [executor.submit(everyone.wait) for _ in range(n)]:
        f.result()
    return executor


def _task(fn: Callable, *args: Any) -> None:
    """One chunk, with the flush-to-zero mode last asked for (`set_flush_denormal`), else flushing: the register
    is per thread and the pool's threads may predate the request."""
    sync_thread()
    fn(*args)
