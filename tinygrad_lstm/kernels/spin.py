"""Atomic loads, stores and spin-waits on int64 arrays, from numba code: how kernels/pool.py hands out work.

Why spin: on this machine a thread asleep in the kernel (a futex: a lock, a condition, Python's GIL) takes about
50 µs to wake, because an idle virtual CPU halts at once (`cpuidle haltpoll`, `guest_halt_poll_ns=0`). Two such
wakes per job made handing a chunk to a worker thread and getting it back cost 80-110 µs. A thread that spins in
compiled code, without the GIL, on a word that the other thread writes, sees the write within a microsecond.

- `load(a, i)` / `store(a, i, v)`: acquire load and release store of a[i] of an int64 array. Plain loads in a
  loop would be hoisted out of it by LLVM.
- `wait_until(a, i, value, budget)`: spin (with the `pause` instruction) until a[i] >= value; False if `budget`
  cycles of the time-stamp counter passed first. Releases the GIL (`nogil`).
- `arrived()`: a kernel run by the pool calls it first: it tells a waiting worker that the calling thread has
  left Python (holds no GIL), so that the worker can take the GIL without sleeping on it. It increments a
  counter at a fixed address (`GATE`), bound to the JIT by name as kernels/gemm.py binds BLAS, so that kernels
  calling it stay cacheable on disk.
"""

from __future__ import annotations

import time

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .jitcache import jit

_GATE_SYMBOL = "tinygrad_lstm_pool_gate"
# GATE[0]: how many threads have entered a pool kernel (`arrived`), ever; 64 bytes, so that the words the
# workers write (kernels/pool.py) are less likely to share its cache line
GATE = np.zeros(8, np.int64)
llvm.add_symbol(_GATE_SYMBOL, GATE.ctypes.data)
_I64 = ir.IntType(64)


def _element(context, builder, sig, args):
    arr = context.make_array(sig.args[0])(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, sig.args[0], arr, [args[1]], wraparound=False)


@intrinsic
def load(typingctx, a, i):
    """a[i] of an int64 array, an acquire load."""

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_element(context, builder, sig, args), "acquire", 8)

    return types.int64(a, i), codegen


@intrinsic
def store(typingctx, a, i, v):
    """a[i] = v for an int64 array, a release store."""

    def codegen(context, builder, sig, args):
        value = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(value, _element(context, builder, sig, args), "release", 8)
        return context.get_dummy_value()

    return types.void(a, i, v), codegen


@intrinsic
def pause(typingctx):
    """The x86 `pause` instruction (`llvm.x86.sse2.pause`): a spin loop's polite wait."""

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def cycles(typingctx):
    """The time-stamp counter (`llvm.readcyclecounter`)."""

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I64, []), "llvm.readcyclecounter")
        return builder.call(fn, [])

    return types.int64(), codegen


@intrinsic
def _gate_add(typingctx):
    def codegen(context, builder, sig, args):
        try:
            gv = builder.module.get_global(_GATE_SYMBOL)
        except KeyError:
            gv = ir.GlobalVariable(builder.module, _I64, _GATE_SYMBOL)
            gv.linkage = "external"
        builder.atomic_rmw("add", gv, ir.Constant(_I64, 1), "seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen


@jit(nogil=True)
def arrived():
    """Tell the pool's waiting workers that this thread is in compiled code (see the module docstring)."""
    _gate_add()


@jit(nogil=True)
def wait_until(a, i, value, budget):
    """Spin until a[i] >= value (True), or until `budget` time-stamp cycles have passed (False)."""
    if load(a, i) >= value:
        return True
    start = cycles()
    while True:
        for _ in range(64):
            pause()
            if load(a, i) >= value:
                return True
        if cycles() - start > budget:
            return False


def cycles_per_second() -> float:
    """The time-stamp counter's rate, measured over 5 ms (the pool's time budgets need ~10%)."""
    c0, t0 = _now(), time.perf_counter()
    time.sleep(0.005)
    return (_now() - c0) / (time.perf_counter() - t0)


@jit(nogil=True)
def _now():
    return cycles()
