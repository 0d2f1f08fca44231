"""MkDocs hooks (mkdocs.yml: `hooks`): doctest examples shown as code, and math rendered to MathML at build time.

- A docstring may hold an interactive example (lines starting ``>>> ``, then the output). Markdown would read the
  ``>`` marks as nested block quotes; this preprocessor fences each such example as a ``pycon`` code block first.
  It runs before the fenced-code extension, skips lines inside existing fences, and only touches examples that
  start a paragraph at column 0, so the tutorials' own code blocks are left alone.
- Math: ``$...$`` inline and ``$$...$$`` on its own lines are found by pymdownx.arithmatex (which keeps Markdown off
  the TeX: no emphasis from underscores), and each is turned into MathML here by latex2mathml. Browsers draw MathML
  themselves, so the pages need no script, no font and nothing from the internet. TeX that latex2mathml cannot
  translate fails the build (the site is built with --strict in the tests), naming the page and the formula.
"""

from __future__ import annotations

import html
import re
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

FENCES = ("```", "~~~")


class _DoctestFences(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        in_fence = in_example = False
        for line in lines:
            if in_example and not line.strip():
                out.append("```")
                in_example = False
            elif not in_fence and not in_example and line.startswith(">>> ") and (not out or not out[-1].strip()):
                out.append("```pycon")
                in_example = True
            elif not in_example and line.lstrip().startswith(FENCES):
                in_fence = not in_fence
            out.append(line)
        if in_example:
            out.append("```")
        return out


class DoctestFences(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        md.preprocessors.register(_DoctestFences(md), "doctest_fences", 40)  # before fenced code (25-30)


@event_priority(100)  # before mkdocstrings copies the extension list for its docstrings
def on_config(config: Any) -> Any:
    config.markdown_extensions.append(DoctestFences())
    return config


MATH = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
UNTRANSLATED = ("<mi>&</mi>", "<merror")  # latex2mathml's output for TeX it does not know (e.g. aligned's &)


def to_mathml(tex: str, display: bool, where: str = "") -> str:
    """One formula as MathML (`display`: a centred block, else inline with the text)."""
    from latex2mathml.converter import convert

    out = convert(tex.strip(), display="block" if display else "inline")
    if any(bad in out for bad in UNTRANSLATED):
        raise ValueError(f"{where}: latex2mathml cannot translate ${tex}$ (use array instead of aligned)")
    return out


def on_page_content(content: str, page: Any, **kwargs: Any) -> str:
    where = page.file.src_uri

    def replace(m: re.Match[str]) -> str:
        math = to_mathml(html.unescape(m.group(2)), m.group(1) == "div", where)
        return f'<div class="math">{math}</div>' if m.group(1) == "div" else math

    return MATH.sub(replace, content)
