"""A character corpus that ships with Python (no download), and a character vocabulary."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np


def load_text(path: str | os.PathLike[str] | None = None) -> str:
    """The text of `path` (UTF-8), or by default the standard library's ``pydoc_data.topics``: the prose of
    Python's reference manual (~0.47 M characters), its topics joined in sorted-key order so it is the same on
    every run of a given Python version."""
    if path is not None:
        with open(path, encoding="utf-8") as f:
            return f.read()
    from pydoc_data.topics import topics

    return "\n".join(topics[k] for k in sorted(topics))


class CharVocab:
    """The sorted set of characters of `text`, with id <-> character maps.

        v = CharVocab("hello")
        v.encode("hole")      # array([1, 3, 2, 0])
        v.decode([1, 0])      # 'he'
    """

    def __init__(self, text: str) -> None:
        self.chars: list[str] = sorted(set(text))
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, s: str) -> np.ndarray:
        """Character ids of `s` (int64). A character not in the vocabulary raises KeyError."""
        try:
            return np.fromiter((self.stoi[c] for c in s), dtype=np.int64, count=len(s))
        except KeyError as e:
            raise KeyError(f"CharVocab.encode: character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """The string of character ids `ids` (any iterable of ints, e.g. an int array)."""
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters)"


__all__ = ["CharVocab", "load_text"]
