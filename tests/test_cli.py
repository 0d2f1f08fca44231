"""The command-line tool: `--help` lists the commands, and each command does its job."""

import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_lstm.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "tinygrad_lstm", "--help"], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    for command in ("demo", "graph", "train", "gradcheck", "bench"):
        assert command in out


@pytest.mark.parametrize("cell", ["lstm", "peephole", "gru", "rnn"])
def test_gradcheck_command_passes_for_every_cell(cell, capsys):
    assert main(["gradcheck", cell]) == 0
    assert "ok" in capsys.readouterr().out


def test_train_runs_an_example_and_rejects_unknown_ones(capsys):
    assert main(["train", "nope"]) == 2
    assert "unknown example 'nope'" in capsys.readouterr().err
    assert main(["train", "digits_lstm", "--help"]) == 0
    assert "--quick" in capsys.readouterr().out


def test_demo_trains_and_writes_its_pictures(tmp_path):
    """The demo at reduced size: it prints a test accuracy and writes valid SVG and PNG files."""
    proc = subprocess.run([sys.executable, "-m", "tinygrad_lstm", "demo", "--epochs", "2", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    acc = float(proc.stdout.split("test accuracy:")[1].split("%")[0]) / 100
    assert acc > 0.5  # 10 classes: chance is 0.1; two epochs reach ~0.8
    names = {"lstm_cell.svg", "lstm_unrolled_collapsed.svg", "gradient_flow.png", "loss_curve.png"}
    assert names <= {p.name for p in tmp_path.iterdir()}
    for name in names:
        data = (tmp_path / name).read_bytes()
        if name.endswith(".png"):
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        else:
            import xml.etree.ElementTree as ET

            root = ET.fromstring(data)
            assert root.tag.endswith("svg")
            texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
            assert "LSTMCell" in texts
    assert "i_t" in (tmp_path / "lstm_cell.svg").read_text()
