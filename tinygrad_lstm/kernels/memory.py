"""Keep freed memory for reuse instead of handing it back to the OS (glibc's malloc, Linux).

A training step allocates the same large temporaries again and again (gates, gradients, a (T, B, 4H) buffer).
By default glibc serves every allocation above 128 KiB with a fresh mmap and unmaps it on free, so each step
pays the page faults of touching that memory anew: measured here, filling a fresh 3.7 MB gradient buffer cost
2.4 ms against 0.3 ms for reused memory, and one LSTM training step (config a of benchmarks/lstm_train.py)
took 32 ms instead of 18. Raising glibc's mmap and trim thresholds makes freed blocks return to the heap and be
reused — what PyTorch's caching allocator achieves for its tensors. The cost: the process keeps its peak heap.

Set ``TINYGRAD_LSTM_MALLOC=system`` to leave malloc as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 30  # up to 1 GiB per allocation from the heap; larger ones still get their own mmap

tuned = False


def tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds once; True if they are raised (False elsewhere or when opted out)."""
    global tuned
    if tuned or not sys.platform.startswith("linux") or os.environ.get("TINYGRAD_LSTM_MALLOC") == "system":
        return tuned
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    tuned = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD))
    return tuned
