"""kernels.memory: glibc's malloc keeps freed memory for reuse, unless the user opts out."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")


def _tuned(env_value=None):
    import os

    env = dict(os.environ)
    env.pop("TINYGRAD_LSTM_MALLOC", None)
    if env_value is not None:
        env["TINYGRAD_LSTM_MALLOC"] = env_value
    code = "import tinygrad_lstm.kernels.memory as m, tinygrad_lstm; print(m.tuned)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True).stdout.strip()


def test_importing_the_package_tunes_malloc():
    assert _tuned() == "True"


def test_opt_out_leaves_malloc_alone():
    assert _tuned("system") == "False"
