"""Read and write the x86 SSE control register MXCSR from numba code, on one thread or on all of numba's pool.

MXCSR is per thread. LLVM's `llvm.x86.sse.stmxcsr` / `ldmxcsr` intrinsics store it to / load it from memory;
numba emits them through `@intrinsic`. `switch_everywhere` runs a parallel loop with several chunks per pool
thread; each chunk switches the thread it runs on and reads the register back, with `numba.get_thread_id()`, so
the caller can check that every thread was reached. Used by `denormal.py`; importing this module needs x86.
`flush_enter`/`flush_exit` let a compiled kernel flush only while it runs, leaving its caller's mode alone.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .jitcache import jit

FTZ, DAZ = 1 << 15, 1 << 6  # flush subnormal results to zero; read subnormal inputs as zero
_BOTH = np.uint32(FTZ | DAZ)
_CLEAR = np.uint32(~(FTZ | DAZ) & 0xFFFFFFFF)


def _call(builder: Any, name: str, slot: Any) -> None:
    i8p = ir.IntType(8).as_pointer()
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p]), name)
    builder.call(fn, [builder.bitcast(slot, i8p)])


@intrinsic
def _stmxcsr(typingctx):
    """The calling thread's MXCSR, as a uint32."""

    def codegen(context, builder, sig, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        _call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.load(slot)

    return types.uint32(), codegen


@intrinsic
def _ldmxcsr(typingctx, value):
    """Load the uint32 `value` into the calling thread's MXCSR."""

    def codegen(context, builder, sig, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        builder.store(args[0], slot)
        _call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return types.void(types.uint32), codegen


@jit
def read() -> int:
    """The calling thread's MXCSR."""
    return _stmxcsr()


@jit
def switch(on):
    """Set (on=True) or clear FTZ and DAZ on the calling thread, keeping the other bits; returns the new MXCSR."""
    v = _stmxcsr()
    _ldmxcsr((v | _BOTH) if on else (v & _CLEAR))
    return _stmxcsr()


@jit(parallel=True)
def switch_everywhere(mode, chunks):
    """mode 1/0: switch FTZ and DAZ on/off, -1: only read, in each of `chunks` parallel chunks.
    Row k of the result: (numba thread id that ran chunk k, its MXCSR afterwards)."""
    out = np.zeros((chunks, 2), np.int64)
    for k in prange(chunks):
        out[k, 1] = _stmxcsr() if mode < 0 else switch(mode == 1)
        out[k, 0] = numba.get_thread_id()
    return out


@jit
def flush_enter():
    """For a compiled kernel that wants flushing only while it runs (its caller's mode untouched): switch this
    thread to flushing; returns the register as it was, for `flush_exit`. Callable from other numba code."""
    prev = _stmxcsr()
    _ldmxcsr(prev | _BOTH)
    return prev


@jit
def flush_exit(prev):
    """Put FTZ and DAZ back as `prev` had them (the exception flags raised meanwhile stay raised)."""
    _ldmxcsr((_stmxcsr() & _CLEAR) | (prev & _BOTH))
