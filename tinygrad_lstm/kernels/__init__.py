"""Kernels: the array math under every op, in two interchangeable backends.

`numpy_backend` is the reference (obvious numpy code); `numba_backend` (the default) runs `@njit` loops for
elementwise math and activations and sends matmul to BLAS through numpy. Both expose the same functions on plain
ndarrays and know nothing of Tensors, so a compiled path can call them directly.

Choose with the environment variable ``TINYGRAD_LSTM_BACKEND=numpy|numba``, ``set_backend(name)``, or for a block::

    with backend("numpy"):
        ...
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from .memory import tune_malloc

tune_malloc()  # reuse freed memory: see memory.py (TINYGRAD_LSTM_MALLOC=system to opt out)

BACKENDS = ("numba", "numpy")
_loaded: dict[str, ModuleType] = {}
_active: ModuleType | None = None


def _load(name: str) -> ModuleType:
    if name not in BACKENDS:
        raise ValueError(f"backend: unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
    if name not in _loaded:
        _loaded[name] = importlib.import_module(f"{__name__}.{name}_backend")
    return _loaded[name]


def active() -> ModuleType:
    """The backend module ops call into right now."""
    global _active
    if _active is None:
        _active = _load(os.environ.get("TINYGRAD_LSTM_BACKEND", "numba").strip().lower() or "numba")
    return _active


def get_backend() -> str:
    """Name of the active backend: ``"numba"`` or ``"numpy"``."""
    return active().NAME


def set_backend(name: str) -> None:
    """Make `name` the active backend for the rest of the process."""
    global _active
    _active = _load(name)


class backend:
    """``with backend("numpy"): ...`` runs a block on another backend; ``backend()`` alone names the active one.

    Also usable as a decorator.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name if name is None else _load(name).NAME
        self._saved: list[ModuleType] = []

    def __enter__(self) -> ModuleType:
        self._saved.append(active())
        if self.name is not None:
            set_backend(self.name)
        return active()

    def __exit__(self, *exc: object) -> None:
        global _active
        _active = self._saved.pop()

    def __call__(self, fn):  # decorator form
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with backend(self.name):
                return fn(*args, **kwargs)

        return wrapped

    def __repr__(self) -> str:
        return f"backend({(self.name or get_backend())!r})"

    def __str__(self) -> str:
        return self.name or get_backend()

    def __eq__(self, other: object) -> bool:
        return str(self) == other if isinstance(other, str) else NotImplemented

    __hash__ = None  # type: ignore[assignment]
