"""Flush subnormal floats to zero, on the calling thread and on numba's worker threads (x86 MXCSR FTZ and DAZ).

A float below the smallest normal number (1.2e-38 in float32, 2.2e-308 in float64) is *subnormal*. x86 cores
compute with such numbers through a microcode assist, many times slower than ordinary arithmetic, and
backpropagation through long sequences can make many of them: gradients shrink with every step back in time.
Two bits of the SSE control register MXCSR make the core treat them as zero instead: FTZ (a subnormal result
becomes 0) and DAZ (a subnormal input reads as 0). docs/subnormals.md has the measurements and the default.

MXCSR belongs to a thread. `set_flush_denormal` sets it on the calling thread and on every thread of numba's
pool (a parallel kernel sets it in each chunk and reads it back: `mxcsr.py`); threads the calling thread starts
later inherit it. A thread that already exists (a `ThreadPoolExecutor`'s worker, say) takes the last requested
mode when it calls `sync_thread()`, which costs ~0.3 µs: the library's workers (kernels/pool.py) do, before each
chunk, and until a mode is requested they flush (`WORKERS_FLUSH`), while the threads of the program keep
subnormals; the chunk a job runs on the caller's thread runs in the workers' mode too, and the caller's mode is
put back after it (`as_worker`). OpenBLAS's own worker threads, started when numpy loaded, are not reached: the
workers call BLAS on one thread, their own.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from contextlib import contextmanager

SUPPORTED = platform.machine().lower() in ("x86_64", "amd64")
_requested: list[bool] = []  # the mode of the last successful set_flush_denormal, if any
# Until set_flush_denormal is called, the threads the library starts for itself flush; yours keep subnormals.
# Why (measured, docs/subnormals.md): they made a compiled T=200 recurrence ~12x slower, and flushing them
# left the weights' gradients bit for bit the same; those threads run only our kernels.
WORKERS_FLUSH = True


def _flushes(mxcsr: int) -> bool:
    from .mxcsr import DAZ, FTZ

    return (int(mxcsr) & (FTZ | DAZ)) == FTZ | DAZ


def _pool(mode: int) -> list[bool]:
    """Run `switch_everywhere(mode)` over numba's whole pool, 8 chunks per thread; one flag per thread id."""
    import numba

    from .mxcsr import switch_everywhere

    n = numba.config.NUMBA_NUM_THREADS
    before = numba.get_num_threads()
    numba.set_num_threads(n)  # threads masked off by numba.set_num_threads are still in the pool: reach them too
    try:
        rows = switch_everywhere(mode, 8 * n)
    finally:
        numba.set_num_threads(before)
    states: dict[int, bool] = {}
    for tid, reg in rows:
        states[int(tid)] = states.get(int(tid), True) and _flushes(reg)
    if sorted(states) != list(range(n)):
        raise RuntimeError(f"flush_denormal: numba threads {sorted(states)} ran a chunk; expected 0..{n - 1}")
    return [states[t] for t in range(n)]


def set_flush_denormal(mode: bool) -> bool:
    """Flush subnormal floats to zero (mode=True) or compute with them (False), like `torch.set_flush_denormal`.

    Sets the calling thread and every numba worker thread, then reads each back. Returns True if the processor
    supports it (x86-64) and every thread now has the requested mode; False, changing nothing, elsewhere.

        >>> import numpy as np
        >>> set_flush_denormal(True)
        True
        >>> float(np.float32(1e-30) * np.float32(1e-10))    # 1e-40 is subnormal: flushed
        0.0
        >>> set_flush_denormal(False)
        True
    """
    if not SUPPORTED:
        return False
    from .mxcsr import switch

    mode = bool(mode)
    here = _flushes(switch(mode)) == mode
    for _ in range(3):  # a pool thread that got no chunk (not seen with static scheduling): try again
        try:
            ok = here and all(s == mode for s in _pool(int(mode)))
        except RuntimeError:
            continue
        _requested[:] = [mode] if ok else []
        return ok
    return False


def get_requested() -> bool | None:
    """The mode of the last successful `set_flush_denormal` in this process, None if it was never called."""
    return _requested[0] if _requested else None


def sync_thread() -> None:
    """For the library's own worker threads (jit/sequence.py calls it before each chunk of a compiled recurrence):
    give the calling thread the mode of the last `set_flush_denormal`, or, if there was none, flushing
    (`WORKERS_FLUSH`). Also for a thread of yours that existed before `set_flush_denormal`."""
    if SUPPORTED:
        from .mxcsr import switch

        switch(_requested[0] if _requested else WORKERS_FLUSH)


def set_thread(flush: bool) -> None:
    """Flush subnormals (True) or keep them (False) on the calling thread only: a worker taking its caller's
    mode for an eager op's share (kernels/pool.py `run(..., callers_mode=True)`)."""
    if SUPPORTED:
        from .mxcsr import switch

        switch(flush)


@contextmanager
def as_worker() -> Iterator[None]:
    """``with as_worker(): kernel(...)`` runs the library's kernel on the calling thread in the mode of its worker
    threads (`sync_thread`), then puts the thread's own mode back (kernels/pool.py runs a job's first chunk so)."""
    if not SUPPORTED:
        yield
        return
    from .mxcsr import flush_exit, read, switch

    prev = read()
    switch(_requested[0] if _requested else WORKERS_FLUSH)
    try:
        yield
    finally:
        flush_exit(prev)


def reset() -> None:
    """Back to the start: the calling thread and numba's pool keep subnormals, and the library's worker threads
    go back to their default (the tests use this between cases)."""
    if SUPPORTED:
        set_flush_denormal(False)
    _requested.clear()


def get_flush_denormal() -> bool:
    """Whether the calling thread flushes subnormals to zero (FTZ and DAZ both set). False where unsupported."""
    if not SUPPORTED:
        return False
    from .mxcsr import read

    return _flushes(read())


def worker_flush_denormal() -> list[bool]:
    """Whether each of numba's worker threads flushes subnormals (index: `numba.get_thread_id()`), read inside a
    parallel kernel on every thread of the pool. [] where unsupported."""
    return _pool(-1) if SUPPORTED else []
