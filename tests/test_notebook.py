"""The tutorial notebook (examples/notebooks/lstm_in_a_notebook.ipynb) runs top to bottom in a real Jupyter kernel
(nbclient + ipykernel, the `dev` extra), and shows what a notebook user should see, with nothing on stderr: the
graph inline as SVG, the plots inline as PNG (plots return a Figure when given no path), gradient errors at
float64's level, and fit's progress bar redrawn in place (carriage returns) rather than silent or one line per
epoch.

About 5-10 s: one kernel start, a few small models."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "notebooks" / "lstm_in_a_notebook.ipynb"


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "ship the notebook without outputs"
    root = str(Path(__file__).resolve().parent.parent)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = root + (os.pathsep + env_path if env_path else "")  # the kernel imports this checkout
    try:
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}})
        client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    finally:
        os.environ["PYTHONPATH"] = env_path
        if not env_path:
            del os.environ["PYTHONPATH"]
    return nb


def _outputs(nb, marker: str) -> list:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and marker in _source(c)]
    return cell.outputs


def _stdout(outputs) -> str:
    return "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")


def test_the_notebook_runs_and_shows_its_pictures_inline(executed):
    outputs = [o for c in executed.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"the notebook printed to stderr (red boxes in Jupyter): {stderr}"
    (graph,) = [o for o in _outputs(executed, "viz.draw(loss)") if o.output_type == "execute_result"]
    svg = graph.data["image/svg+xml"]
    assert "<svg" in svg and all(symbol in svg for symbol in ("i_t", "f_t", "g_t", "o_t", "c_t", "h_t"))
    assert "Transpose" in svg  # the op view: every recorded op
    (graph,) = [o for o in _outputs(executed, 'view="equations"') if o.output_type == "execute_result"]
    svg = graph.data["image/svg+xml"]
    assert "<svg" in svg and "σ" in svg and "tanh" in svg and "Transpose" not in svg  # the equations view
    for marker in ("plot_gradient_flow(norms)", "plot_history(history)"):
        (fig,) = [o for o in _outputs(executed, marker) if o.output_type == "execute_result"]
        assert "image/png" in fig.data, f"{marker} did not display as a picture: {fig.data.get('text/plain')}"


def test_the_notebook_reports_small_gradient_errors(executed):
    text = _stdout(_outputs(executed, "gradient_errors("))
    found = re.findall(r"^(\w+) +off by (\S+) \(relative (\S+)\)$", text, flags=re.M)
    assert [name for name, _, _ in found] == ["x", "h_prev", "c_prev"]
    assert all(float(a) < 1e-7 and float(r) < 1e-7 for _, a, r in found)


def test_fit_redraws_its_progress_bar_in_the_notebook(executed):
    text = _stdout(_outputs(executed, "model.fit("))
    assert text.count("Epoch ") == 6 and "Epoch 6/6" in text
    assert text.count("\r") == 6 * 9  # per epoch: redrawn after each of its 8 batches, then finished
    assert "\033" not in text  # no terminal escapes in a notebook
    finished = re.findall(r"8/8 ━{20} .* val_accuracy: (\d\.\d+) - val_loss: \S+\n", text)
    assert len(finished) == 6 and float(finished[-1]) > 0.8  # the model learned the sign of a sum
