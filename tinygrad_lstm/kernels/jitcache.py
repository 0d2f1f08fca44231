"""Generated numba kernels, cached on disk by their source, so that a new process does not compile them again.

Generated source (the backend's elementwise loops, jit/fuse.py's fused kernels) is written to a file named by a
hash of that source and of the code it calls (kernels/scalar.py), then imported as a module whose functions use
numba's own `cache=True`: numba stores the machine code beside the file and reloads it in later processes (a
kernel then costs a few ms instead of 0.2-1 s of compiling). Change the source and the name changes with it.

Where: ``$TINYGRAD_LSTM_CACHE_DIR``, else ``$XDG_CACHE_HOME/tinygrad_lstm`` (``~/.cache/tinygrad_lstm``). If no
directory is writable the source runs from memory, compiled in each process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numba
from numba import njit

_modules: dict[str, ModuleType] = {}


def jit(fn: Callable | None = None, **options) -> Callable:
    """`njit(cache=True, error_model='numpy')`, or cache=False where numba finds no writable cache directory.

    error_model 'numpy': x/0 gives inf/nan instead of raising, as numpy and torch."""
    if fn is None:
        return lambda f: jit(f, **options)
    options = {"error_model": "numpy", **options}
    try:
        return njit(cache=True, **options)(fn)
    except RuntimeError as e:  # numba raises this at decoration time, not at the first call
        if "cannot cache" not in str(e):
            raise
        return njit(cache=False, **options)(fn)


def cache_dir() -> Path | None:
    """The directory generated kernels go to, created if needed; None if none is writable."""
    base = os.environ.get("TINYGRAD_LSTM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinygrad_lstm")
    path = Path(base) / f"kernels-numba{numba.__version__}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return path if os.access(path, os.W_OK) else None
    except OSError:
        return None


def _fingerprint() -> str:
    """What generated code depends on besides its own text: the scalar primitives it calls."""
    from . import scalar

    return hashlib.sha1(Path(scalar.__file__).read_bytes()).hexdigest()


def load(source: str, tag: str) -> ModuleType:
    """Import `source` as a module (once per process), through the on-disk cache when there is one."""
    key = hashlib.sha1((_fingerprint() + source).encode()).hexdigest()[:20]
    name = f"tinygrad_lstm_kernels_{tag}_{key}"
    mod = _modules.get(name)
    if mod is not None:
        return mod
    directory = cache_dir()
    if directory is None:
        mod = ModuleType(name)
        exec(compile(source, f"<{name}>", "exec"), mod.__dict__)  # noqa: S102 - our own generated code
    else:
        path = directory / f"{name}.py"
        if not path.exists():
            _write_atomically(path, source)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    _modules[name] = mod
    return mod


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
