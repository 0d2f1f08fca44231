"""MkDocs hooks (mkdocs.yml: `hooks`): show doctest examples in docstrings as code in the API reference.

A docstring may hold an interactive example (lines starting ``>>> ``, then the output). Markdown would read the
``>`` marks as nested block quotes; this preprocessor fences each such example as a ``pycon`` code block first.
It runs before the fenced-code extension, skips lines inside existing fences, and only touches examples that start
a paragraph at column 0, so the tutorials' own code blocks are left alone.
"""

from __future__ import annotations

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
