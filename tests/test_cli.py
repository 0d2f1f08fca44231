"""The command-line tool: `--help` lists the commands, and each command does its job."""

import argparse
import os
import re
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


def test_every_option_of_every_command_has_help_text(monkeypatch):
    parsers = []
    real = argparse.ArgumentParser.parse_args

    def grab(self, *a, **k):  # the top-level parser, as main() built it
        parsers.append(self)
        return real(self, *a, **k)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", grab)
    main([])
    (top,) = parsers
    (sub,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    assert {"demo", "graph", "train", "gradcheck", "bench"} <= set(sub.choices)
    for name, parser in sub.choices.items():
        for action in parser._actions:
            assert action.help, f"`tinygrad-lstm {name}`: {action.dest} has no help text"


@pytest.mark.parametrize("cell", ["lstm", "peephole", "gru", "rnn"])
def test_gradcheck_command_passes_for_every_cell_and_prints_the_errors(cell, capsys):
    assert main(["gradcheck", cell]) == 0
    out = capsys.readouterr().out
    assert "ok" in out
    rows = re.findall(r"^ +(\w+) +\([\d, ]*\) +(\S+) +(\S+)$", out, flags=re.M)
    assert {r[0] for r in rows} >= {"x", "h", "weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    assert ("c" in {r[0] for r in rows}) == (cell in ("lstm", "peephole"))
    for name, abs_err, rel_err in rows:
        assert 0 <= float(abs_err) < 1e-6 and 0 <= float(rel_err) < 1e-6, name  # float64: ~1e-10 expected


def test_gradient_errors_measures_a_wrong_gradient():
    """The error sizes are real measurements: a function whose recorded derivative is wrong by a known amount
    shows that amount."""
    import numpy as np

    from tinygrad_lstm import Tensor
    from tinygrad_lstm.gradcheck import gradient_errors

    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="x")
    good = gradient_errors(lambda x: (x * x).sum(), [x])
    assert list(good) == ["x"] and good["x"][0] < 1e-8
    # x·stop(x): autograd sees d/dx = stop(x) = x, the true derivative is 2x: off by half the largest gradient
    # (gradient_errors contracts the scalar output with one random weight w: both errors scale with |w|)
    abs_err, rel_err = gradient_errors(lambda x: (x * Tensor(x.data.copy())).sum(), [x])["x"]
    assert rel_err == pytest.approx(0.5, rel=1e-6) and abs_err > 1e-3


def test_train_runs_an_example_and_rejects_unknown_ones(capsys):
    assert main(["train", "nope"]) == 2
    assert "unknown example 'nope'" in capsys.readouterr().err
    assert main(["train", "digits_lstm", "--help"]) == 0
    assert "--quick" in capsys.readouterr().out


def test_demo_trains_and_writes_its_pictures(tmp_path):
    """The demo at reduced size: it prints a test accuracy and writes valid SVG and PNG files."""
    proc = subprocess.run([sys.executable, "-m", "tinygrad_lstm", "demo", "--epochs", "2", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, preexec_fn=lambda: os.umask(0o022))
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = re.search(r"gradcheck, autograd vs finite differences: dL/da off by (\S+), dL/db off by (\S+), "
                       r"dL/dc off by (\S+)$", proc.stdout, flags=re.M)
    assert errors and all(float(e) < 1e-8 for e in errors.groups())  # the README's "checked ... by gradcheck"
    assert len(re.findall(r"^\d+/\d+ ━{20} ", proc.stdout, flags=re.M)) == 2  # a line per epoch into a pipe
    acc = float(proc.stdout.split("test accuracy:")[1].split("%")[0]) / 100
    assert acc > 0.5  # 10 classes: chance is 0.1; two epochs reach ~0.8
    names = {"lstm_cell.svg", "lstm_unrolled_collapsed.svg", "gradient_flow.png", "loss_curve.png"}
    assert names <= {p.name for p in tmp_path.iterdir()}
    for name in names:
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, f"{name} is not readable by everyone"
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
