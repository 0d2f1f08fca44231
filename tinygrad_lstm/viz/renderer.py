"""`render`: DOT text -> an SVG or PNG file, through whichever Graphviz-compatible binary is installed.

Looks for `dot` on PATH (Graphviz), else `graphviz-pure` (a dependency: one static binary from PyPI) on PATH or
beside the running Python. Files are written atomically: a temp file in the same folder, then `os.replace`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..tensor import Tensor
from .dot import to_dot
from .text import finish_svg, for_format

FORMATS = ("svg", "png")
BINARIES = ("dot", "graphviz-pure")
# PNG: 96 dpi, at most 50 inches (4,800 px) a side. Uncapped, 50 unrolled LSTM steps made a 23,000 x 38,000 px
# image (40 s, 7 GB of memory); capped, 2 s. Big graphs are for SVG.
FORMAT_ARGS = {"svg": (), "png": ("-Gdpi=96", "-Gsize=50,50")}


class RendererNotFoundError(RuntimeError):
    """No Graphviz-compatible binary was found; the `.dot` source was written anyway (see `dot_path`)."""

    def __init__(self, dot_path: str) -> None:
        self.dot_path = dot_path
        super().__init__(
            f"viz.render: no Graphviz renderer found (looked for {' and '.join(BINARIES)} on PATH and beside "
            f"{sys.executable}). The DOT source is in {dot_path}. Install one with `pip install graphviz-pure` "
            "(a self-contained binary) or `apt-get install graphviz` (or brew/conda), then render again, or "
            f"run `dot -Tsvg {dot_path} -o out.svg` yourself.")


def find_renderer() -> str | None:
    """Path of the binary to render with: `dot` on PATH, else `graphviz-pure` on PATH or beside sys.executable."""
    for name in BINARIES:
        found = shutil.which(name)
        if found:
            return found
    here = Path(sys.executable).parent
    for name in ("graphviz-pure", "graphviz-pure.exe"):
        if (here / name).is_file() and os.access(here / name, os.X_OK):
            return str(here / name)
    return None


def configure_graphviz() -> str | None:
    """Point the `graphviz` package at the binary found (it only looks for `dot` itself), for `Digraph.render`
    and Jupyter's inline display. Returns the binary's path, or None."""
    binary = find_renderer()
    if binary is not None:
        from graphviz.backend import dot_command

        dot_command.DOT_BINARY = Path(binary)
    return binary


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_source(source: str, path: str | os.PathLike, format: str | None = None, keep_dot: bool = False,
                  timeout: float = 300.0) -> str:
    """Render DOT text to `path` (format from `format`, else from the suffix, else svg). Returns the path."""
    out = Path(path)
    fmt = (format or out.suffix.lstrip(".") or "svg").lower()
    if fmt not in FORMATS:
        raise ValueError(f"viz.render: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not out.suffix:
        out = out.with_suffix("." + fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    dot_file = out.with_suffix(".dot")
    binary = find_renderer()
    if keep_dot or binary is None:
        _write_atomic(dot_file, source.encode())
    if binary is None:
        raise RendererNotFoundError(str(dot_file))
    # stderr is kept, shown only on failure: graphviz-pure warns about every character beyond ASCII, whose width
    # text.py has made up for
    proc = subprocess.run([binary, f"-T{fmt}", *FORMAT_ARGS[fmt]], input=for_format(source, fmt).encode(),
                          capture_output=True, timeout=timeout)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"viz.render: {binary} failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace').strip()[:2000]}")
    _write_atomic(out, finish_svg(proc.stdout.decode()).encode() if fmt == "svg" else proc.stdout)
    return str(out)


def render(root: Tensor | Sequence[Tensor], path: str | os.PathLike, format: str | None = None, *,
           keep_dot: bool = False, **options: Any) -> str:
    """Draw the graph of `root` into `path` as SVG or PNG and return the path written.

    `format` defaults to the file's suffix (else svg); `options` are `to_dot`'s (show_values, show_grads, group,
    collapse, rankdir, max_nodes). `keep_dot=True` also writes the `.dot` source beside it. Without a renderer the
    `.dot` file is written and `RendererNotFoundError` says how to get one.
    """
    return render_source(to_dot(root, **options), path, format, keep_dot)
