"""The one check of a recurrent layer's or cell's initial state (nn layers, nn cells, Keras layers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor


def check_state(owner: str, parts: Any, labels: Sequence[str], shape: tuple[int, ...], dtype: Any = None,
                what: str = "") -> list[Tensor]:
    """The initial state given to a layer or cell, as Tensors: `len(labels)` of them (("h_0", "c_0") for an
    LSTM), each of `shape`. Raises ValueError naming `owner`, what was given and what was expected."""
    parts = list(parts) if isinstance(parts, (tuple, list)) else [parts]
    if len(parts) != len(labels):
        want = labels[0] if len(labels) == 1 else "a tuple (" + ", ".join(labels) + ")"
        raise ValueError(f"{owner}: expected the initial state as {want}, got {len(parts)} tensor(s)")
    out = []
    for label, p in zip(labels, parts):
        p = p if isinstance(p, Tensor) else Tensor(np.asarray(p, dtype=dtype))
        if p.shape != shape:
            raise ValueError(f"{owner}: expected {label} of shape {shape}{what}, got {p.shape}")
        out.append(p)
    return out
