"""Programs written the PyTorch way run here with only their import lines changed.

examples/pytorch_packed_classifier.py (a Dataset, a DataLoader with a padding collate_fn, an nn.LSTM on a
PackedSequence of an unsorted batch, CrossEntropyLoss, Adam) runs as it is, and with its three import lines
switched to torch's it runs under PyTorch: the rest of the text is the same program for both libraries, and
both learn the task.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS_TO_TORCH = {
    "import tinygrad_lstm as torch": "import torch",
    "from tinygrad_lstm import nn": "from torch import nn",
    "from tinygrad_lstm.utils.data import DataLoader, Dataset": "from torch.utils.data import DataLoader, Dataset",
}


def _run(source: str, **kw) -> float:
    namespace: dict = {"__name__": "program"}
    exec(compile(source, "program.py", "exec"), namespace)  # noqa: S102 - our own example file
    return namespace["main"](**kw)


def _imported_modules(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    return found


def test_packed_sequence_program_runs_as_torch_code_with_only_the_imports_changed(capsys):
    source = (ROOT / "examples" / "pytorch_packed_classifier.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    assert all(lines.count(line) == 1 for line in OURS_TO_TORCH)
    torch_source = "\n".join(OURS_TO_TORCH.get(line, line) for line in lines)
    assert _imported_modules(torch_source) == {"torch", "torch.utils.data"}  # nothing of ours is left

    size = {"n_train": 512, "n_test": 256, "epochs": 4}
    ours = _run(source, **size)
    assert ours >= 0.85, f"test accuracy {ours}"
    assert "epoch 4: train loss" in capsys.readouterr().out
    pytest.importorskip("torch")
    theirs = _run(torch_source, **size)
    assert theirs >= 0.85, f"the same program under torch: test accuracy {theirs}"
