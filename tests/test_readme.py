"""The README's code blocks run (the 10-line taste of the API must stay true)."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README should show a taste of the API"
    ns: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), ns)
    # the taste trains one step: its loss is a finite scalar and every parameter got a gradient
    assert np.isfinite(ns["loss"].item())
    assert all(p.grad is not None for p in ns["lstm"].parameters())


def test_readme_names_exactly_the_two_setup_commands():
    text = README.read_text()
    setup = text.split("## Set-up", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make (\w+)", setup, flags=re.M)
    assert commands == ["demo", "test"]
