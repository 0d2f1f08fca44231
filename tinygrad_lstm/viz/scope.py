"""`time_step(t)`: tag what a hand-written loop computes with its time step, as the RNN/LSTM/GRU layers do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..autograd import ScopeEntry, scope


@contextmanager
def time_step(t: int) -> Iterator[None]:
    """Ops recorded inside are drawn in the cluster "t=<t>" and their named tensors read "c_t (t=<t>)"."""
    with scope(ScopeEntry("step", f"t={t}", "", int(t))):
        yield
