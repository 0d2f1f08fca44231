"""What the example-script tests (test_examples.py, test_examples_more.py) share: where the scripts live, how to
import one as a module, how to run one as a user would, and how to leave the BLAS environment as it was."""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


@contextlib.contextmanager
def blas_environment_restored(one_thread: bool = False) -> Iterator[None]:
    """Put the BLAS thread variables back afterwards (importing a script imports _common, which sets them); with
    `one_thread`, also limit BLAS to one thread meanwhile, as the scripts do (threadpoolctl, if installed)."""
    saved = {k: os.environ.get(k) for k in BLAS_VARS}
    ctx: contextlib.AbstractContextManager = contextlib.nullcontext()
    if one_thread:
        try:
            from threadpoolctl import threadpool_limits
            ctx = threadpool_limits(limits=1, user_api="blas")
        except ImportError:
            pass
    with ctx:
        yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def example(name: str):
    """Import examples/<name>.py as a module (the scripts import their neighbour _common)."""
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    return importlib.import_module(name)


def run_script(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run this Python with `args` from the repository root; fail (showing its output) unless it exits with 0."""
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc
