"""Programs written the PyTorch way with torch's own imports (tests/programs/torch_*.py) run under torch and,
with only the import lines changed, under tinygrad_lstm; both must train to the same standard.
(test_torch_programs.py runs examples written with our imports the other way round.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"

# the only lines that differ between the two runs
OURS = {
    r"^import torch$": "import tinygrad_lstm as torch",
    r"^from torch import nn$": "from tinygrad_lstm import nn",
    r"^import torch\.nn\.functional as F$": "import tinygrad_lstm.nn.functional as F",
    r"^from torch\.utils\.data import": "from tinygrad_lstm.utils.data import",
}


def run_program(name: str, lib: str) -> dict:
    """Execute tests/programs/<name> with torch ("torch") or with its imports swapped ("ours"); the
    program leaves what it measured in `results`."""
    source = (PROGRAMS / name).read_text()
    if lib == "ours":
        for pattern, line in OURS.items():
            source, n = re.subn(pattern, line, source, flags=re.M)
            assert n == 1, f"{name}: expected one line matching {pattern!r}"
        assert "import torch" not in source.replace("import tinygrad_lstm as torch", "")
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, str(PROGRAMS / name), "exec"), namespace)
    return namespace["results"]


@pytest.mark.parametrize("lib", ["ours", "torch"])
def test_torch_lstm_classifier(lib):
    if lib == "torch":
        torch = pytest.importorskip("torch")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small ops: two threads on a shared 2-core machine ran 7x slower
        try:
            r = run_program("torch_lstm_classifier.py", lib)
        finally:
            torch.set_num_threads(threads)
    else:
        r = run_program("torch_lstm_classifier.py", lib)
    assert r["n_params"] == 4 * 32 * (3 + 32) + 8 * 32 + 32 * 2 + 2  # torch's count: two bias vectors per gate
    assert r["losses"][-1] < 0.5 * r["losses"][0], r["losses"]
    assert r["accuracy"] > 0.85 and r["correct"] == round(r["accuracy"] * 256)
    assert 0.0 < r["soft_loss"] < 0.5 and r["same"] and 0.5 < r["confidence"] <= 1.0
