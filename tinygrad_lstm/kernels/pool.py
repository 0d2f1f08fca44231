"""The library's worker threads: one job split into chunks that run side by side, one thread each.

Who uses it: the whole-sequence loops (jit/sequence.py: each chunk of a batch's rows runs all T steps) and the
large products after them (kernels/gemm.py `matmul`: each chunk computes some rows or columns of the result, or
a partial sum). The work runs in numba's `nogil` functions, so no Python runs while the chunks work and two
cores give ~2x.

The first chunk runs on the calling thread, the others on pool threads, and every chunk in the same subnormal
mode: flushing to zero unless `set_flush_denormal` asked otherwise (kernels/denormal.py says why), so that the
answer does not depend on how many chunks a batch made; the caller's own mode is put back after its chunk.

How a job is handed over (kernels/spin.py says why): waking a sleeping thread costs ~50 µs here, and a job
handed over through a queue and back cost 80-110 µs, twice per job. So the workers spin, in compiled code and
without the GIL, for `SPIN_SECONDS` after each chunk, watching a job counter; the caller publishes a job by
bumping it and then waits for the workers, spinning too. No thread ever waits for the GIL while another holds it
(that wait sleeps): a worker takes the GIL only once the caller is inside its own chunk's kernel (the kernel
calls `spin.arrived()` first), and the caller takes it back only once every worker is spinning again. A worker
that spun for `SPIN_SECONDS` with no job sleeps on an event until the next one (the slow, ~50 µs path).

``TINYGRAD_LSTM_THREADS=n`` sets the number of threads (default: the cores this process may use).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np

from . import spin
from .denormal import as_worker, get_flush_denormal, set_thread, sync_thread
from .jitcache import jit

# How long a worker spins for its next job before it sleeps. A training step hands out 3-5 jobs with 0.2-3 ms
# of Python between them (benchmarks/lstm_train.py configs a-d).
SPIN_SECONDS = 3e-3
# How long a worker that has a job waits for the caller to enter its chunk's kernel before it takes the GIL
# anyway (a chunk function that does not call `spin.arrived()`: correct, only slower)
ENTER_SECONDS = 2e-4


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
        per_chunk: Callable[[int], list] = lambda c: [], callers_mode: bool = False) -> None:
    """fn(*args, a, b, *per_chunk(c)) for every chunk c = (a, b) of `bounds`, and wait: the first on the calling
    thread, the others on pool threads, every one in the workers' subnormal mode (denormal.as_worker), or in the
    caller's with `callers_mode` (an eager op split for speed gives what it gives on the caller's thread)."""
    first = nullcontext() if callers_mode else as_worker()
    if len(bounds) == 1:
        with first:
            fn(*args, *bounds[0], *per_chunk(0))
        return
    mode = get_flush_denormal() if callers_mode else None  # what the workers switch to: None, their own mode
    with _lock:
        team = _team(len(bounds) - 1)
        team.publish([(fn, [*args, a, b, *per_chunk(c)], mode) for c, (a, b) in enumerate(bounds) if c > 0])
        try:
            with first:
                fn(*args, *bounds[0], *per_chunk(0))
        finally:
            team.join()


class _Team:
    """n worker threads and the words they spin on: `ctl` [job counter, gate value that says the caller has
    entered its kernel], `idle[w]` the last job worker w finished."""

    def __init__(self, n: int) -> None:
        self.n, self.seq = n, 0
        self.ctl, self.idle = np.zeros(2, np.int64), np.zeros(n, np.int64)
        self.jobs: list[Any] = [None] * n
        self.errors: list[BaseException | None] = [None] * n
        self.asleep = [False] * n
        self.wake = [threading.Event() for _ in range(n)]
        rate = spin.cycles_per_second()
        self.spin_budget, self.enter_budget = int(SPIN_SECONDS * rate), int(ENTER_SECONDS * rate)
        started = threading.Barrier(n + 1)
        for w in range(n):
            threading.Thread(target=self._serve, args=(w, started), name=f"tinygrad_lstm-{w}", daemon=True).start()
        started.wait()

    def publish(self, jobs: list[tuple[Callable, list, bool | None]]) -> None:
        self.seq += 1
        for w, job in enumerate(jobs):
            self.jobs[w] = job
        for w in range(len(jobs), self.n):
            self.jobs[w] = None  # nothing for this worker: it only reports back
        self.ctl[1] = spin.GATE[0] + 1  # the caller's own kernel will bump the gate to this
        self.ctl[0] = self.seq
        for w in range(self.n):
            if self.asleep[w]:
                self.wake[w].set()

    def join(self) -> None:
        _wait_all(self.idle, self.seq)
        errors = [e for e in self.errors if e is not None]
        self.errors = [None] * self.n
        if errors:
            raise errors[0]

    def _serve(self, w: int, started: threading.Barrier) -> None:
        started.wait()
        done = 0
        while True:
            if not _finish_and_wait(self.idle, w, done, self.ctl, self.spin_budget, spin.GATE, self.enter_budget):
                self.asleep[w] = True  # the caller sets the event after publishing if it sees this
                while self.ctl[0] <= done:
                    self.wake[w].wait()
                    self.wake[w].clear()
                self.asleep[w] = False
                spin.wait_until(spin.GATE, 0, self.ctl[1], self.enter_budget)
            done += 1
            job = self.jobs[w]
            if job is None:
                continue
            try:
                if job[2] is None:
                    sync_thread()
                else:
                    set_thread(job[2])
                job[0](*job[1])
            except BaseException as e:  # noqa: BLE001 - handed to the caller, which raises it
                self.errors[w] = e


@jit(nogil=True)
def _finish_and_wait(idle, w, done, ctl, budget, gate, enter_budget):
    """Report job `done` finished, then spin until the next job is published (False if `budget` cycles pass
    first), and then until the caller has entered its own chunk's kernel (the gate reaches ctl[1]) or
    `enter_budget` cycles pass: returning to Python takes the GIL, which must be free by then."""
    spin.store(idle, w, done)
    if not spin.wait_until(ctl, 0, done + 1, budget):
        return False
    spin.wait_until(gate, 0, spin.load(ctl, 1), enter_budget)
    return True


@jit(nogil=True)
def _wait_all(idle, seq):
    for w in range(idle.shape[0]):
        while not spin.wait_until(idle, w, seq, 1 << 40):
            pass


_lock = threading.Lock()
_teams: list[_Team] = []


def _team(n: int) -> _Team:
    """The worker threads, at least n of them (started once, all at once: no call after that starts one)."""
    if not _teams or _teams[0].n < n:
        _teams[:] = [_Team(max(n, n_workers() - 1))]
    return _teams[0]
