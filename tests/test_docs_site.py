"""The documentation site builds with `mkdocs build --strict`, offline, and has every page of its nav.

The tutorials' code blocks run separately (docs/conftest.py, Sybil); this test checks the site around them:
broken links, missing pictures, pages left out of the nav, API-reference directives that name a moved object.
Skipped when mkdocs (the `dev` extra) is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["index", "getting-started", "autograd", "lstm", "graphs", "vanishing-gradients", "custom-cell", "char-lm",
         "keras", "api"]


def _mkdocs_available() -> bool:
    try:
        import material  # noqa: F401 - the theme
        import mkdocs  # noqa: F401
        import mkdocstrings_handlers.python  # noqa: F401 - the API reference
    except ImportError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _mkdocs_available(), reason="mkdocs, mkdocs-material or mkdocstrings-python "
                                "not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    yield out
    shutil.rmtree(out, ignore_errors=True)


def test_every_page_is_built(site: Path) -> None:
    for page in PAGES:
        html = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert html.is_file(), f"{page} was not built"
        assert "<h1" in html.read_text(encoding="utf-8")
    assert not (site / "conftest.py").exists()  # the test hook is not published


def test_pictures_are_published(site: Path) -> None:
    used = set()
    for md in (ROOT / "docs").glob("*.md"):
        text = md.read_text(encoding="utf-8")
        used.update(part.split(")")[0] for part in text.split("](img/")[1:])
    assert {"gradient_flow.png", "adding_curves.png", "cifg_cell.svg"} <= used
    for name in used:
        assert (site / "img" / name).is_file(), f"docs/img/{name} is referenced but not in the site"
        assert (ROOT / "docs" / "img" / name).stat().st_size < 200_000, f"docs/img/{name} is too large"


def test_api_reference_has_the_main_names(site: Path) -> None:
    html = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("tensor.Tensor", "nn.cells.LSTMCell", "nn.cells.RNNCellBase", "nn.recurrent.LSTM",
                 "gradcheck.gradcheck", "optim.adam.Adam", "plots.gradient_flow", "data.text.load_text",
                 "viz.dot.to_dot"):
        name = "tinygrad_lstm." + name
        assert f'id="{name}"' in html, f"{name} is missing from the API reference"


def test_the_site_fetches_nothing(site: Path) -> None:
    """No web fonts or scripts from a CDN: the pages read offline as they build offline."""
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        for host in ("fonts.googleapis.com", "fonts.gstatic.com", "cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
            assert host not in text, f"{html.relative_to(site)} loads from {host}"


# pages whose math must be rendered, with symbols each must show as MathML
MATH = {"lstm": ("σ", "⊙", "tanh", "∂"), "autograd": ("∂", "β", "∑"), "vanishing-gradients": ("∂", "⊤", "diag")}


class _Text(HTMLParser):
    """The text a reader sees outside code, math, scripts and styles."""

    SKIP = {"code", "pre", "math", "script", "style"}

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.depth += tag in self.SKIP

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag in self.SKIP

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def test_math_is_rendered_as_mathml(site: Path) -> None:
    """Every formula is MathML in the page (drawn by the browser: no script, nothing fetched), well-formed, with
    the symbols of its equations; no TeX is left over in the text."""
    for page, symbols in MATH.items():
        text = (site / page / "index.html").read_text(encoding="utf-8")
        maths = re.findall(r"<math\b.*?</math>", text, flags=re.S)
        assert len(maths) >= 5, f"{page}: {len(maths)} formulas rendered"
        for m in maths:
            ET.fromstring(m)  # well-formed XML, as MathML must be
        shown = unescape(" ".join(ET.tostring(ET.fromstring(m), encoding="unicode", method="text")
                                       for m in maths))
        for symbol in symbols:
            assert symbol in shown, f"{page}: no {symbol} in its rendered math"
        reader = _Text()
        reader.feed(text)
        prose = "".join(reader.parts)
        for tex in ("$", "\\sigma", "\\frac", "_{", "\\odot", "arithmatex"):
            assert tex not in prose, f"{page}: TeX {tex!r} left in the text"
    lstm = (site / "lstm" / "index.html").read_text(encoding="utf-8")
    assert 'display="block"' in lstm  # the peephole equations as one displayed block
    assert "<mtable>" in lstm


def test_python_code_fits_the_column() -> None:
    """The tutorials' code blocks are at most 88 columns wide, so they fit the page's text column."""
    for md in sorted((ROOT / "docs").glob("*.md")):
        fence = None
        for number, line in enumerate(md.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                fence = None if fence else (line.lstrip()[3:].strip() or "text")
            elif fence == "python":
                assert len(line) <= 88, f"{md.name}:{number} is {len(line)} columns wide"
