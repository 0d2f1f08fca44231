"""`pad_sequences`: lists of token ids of different lengths → one (samples, maxlen) array.

Keras pads and truncates at the front by default ("pre"): the last tokens, nearest the prediction of a
recurrent layer that reads left to right, are kept and end the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def pad_sequences(sequences: Sequence[Sequence[Any]], maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: float = 0.0) -> np.ndarray:
    """Pad (with `value`) or cut every sequence to `maxlen` (default: the longest), at the front ("pre") or
    the back ("post")."""
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood; use "pre" or "post"')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood; use "pre" or "post"')
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable with a length (a list of lists of ids)")
    if maxlen is not None and (not isinstance(maxlen, (int, np.integer)) or isinstance(maxlen, bool) or maxlen < 0):
        raise ValueError(f"pad_sequences: maxlen must be a non-negative integer or None, got {maxlen!r}")
    seqs = [np.asarray(s) for s in sequences]
    numeric = np.dtype(dtype).kind in "biuf"
    for i, s in enumerate(seqs):
        if s.ndim == 0:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable at index {i}: {s!r}")
        if numeric and s.dtype.kind not in "biuf" and s.size:
            token = s.flat[0].item()
            raise ValueError(f"pad_sequences: sequence {i} holds {type(token).__name__} tokens ({token!r}, ...), "
                             f"but dtype {np.dtype(dtype)} needs numbers: map the tokens to integer ids first "
                             "(e.g. keras.preprocessing.text.Tokenizer), or pass dtype=object")
    lengths = [len(s) for s in seqs]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    sample_shape = next((s.shape[1:] for s in seqs if len(s)), ())
    out = np.full((len(seqs), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for i, s in enumerate(seqs):
        if not len(s) or maxlen == 0:
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if trunc.shape[1:] != tuple(sample_shape):
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {i} is different from "
                             f"expected shape {tuple(sample_shape)}")
        if padding == "post":
            out[i, :len(trunc)] = trunc
        else:
            out[i, maxlen - len(trunc):] = trunc
    return out


__all__ = ["pad_sequences"]
