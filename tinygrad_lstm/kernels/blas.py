"""How many threads numpy's BLAS may use for one product: one for small products, its default for large ones.

OpenBLAS splits every product above a tiny size over all its threads, and its threads then spin for a while
waiting for more work. On a 2-core machine that spin competes with the Python thread that issues the next op: an
LSTM step's (16, 128) @ (128, 512) took 39 µs on two threads and 34 on one, (128, 16) @ (16, 512) 127 µs against 38,
and a training step of config (d) of benchmarks/lstm_train.py ran 1.4x slower. Products of at least `PAR_MIN`
multiply-adds (a 160³ product) keep the default thread count, where two threads are 1.4-1.9x faster. The numba
backend sends its 2-D float products of that size to the library's own workers instead (kernels/gemm.py
`matmul`), so numpy's BLAS threads are woken only by what remains (batched products, integers, mixed dtypes).

The thread count is set through threadpoolctl, only when it has to change (1.6 µs a switch). Set
``TINYGRAD_LSTM_BLAS_THREADS=keep`` to leave BLAS threading alone (for example under your own
``threadpool_limits``).
"""

from __future__ import annotations

import os
from typing import Any

PAR_MIN = 1 << 22  # multiply-adds (m·k·n)

_state: dict[str, Any] = {"ready": False, "libs": [], "default": [], "current": None}


def _setup() -> None:
    _state["ready"] = True
    if os.environ.get("TINYGRAD_LSTM_BLAS_THREADS", "auto").strip().lower() == "keep":
        return
    try:
        from threadpoolctl import ThreadpoolController

        libs = ThreadpoolController().select(user_api="blas").lib_controllers
    except Exception:  # noqa: BLE001 - no threadpoolctl or no BLAS it knows: leave threading alone
        return
    _state["libs"] = libs
    _state["default"] = [lib.num_threads for lib in libs]
    _state["current"] = "default"


def use_threads_for(work: int) -> None:
    """Before a product of `work` multiply-adds: one BLAS thread below PAR_MIN, the default count above."""
    if not _state["ready"]:
        _setup()
    want = "one" if work < PAR_MIN else "default"
    if want == _state["current"] or not _state["libs"]:
        return
    for lib, n in zip(_state["libs"], _state["default"]):
        lib.set_num_threads(1 if want == "one" else n)
    _state["current"] = want
