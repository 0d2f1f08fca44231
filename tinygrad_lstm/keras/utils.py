"""Small helpers from keras.utils: `to_categorical`, `set_random_seed`, `clear_session`, `plot_model`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..random import manual_seed
from .backend import clear_session
from .plot import model_to_dot, plot_model


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """Class ids → one-hot rows: ``to_categorical([0, 2], 3) == [[1, 0, 0], [0, 0, 1]]``. A trailing axis of 1
    is dropped first; num_classes defaults to max(y) + 1."""
    a = np.asarray(y)
    if a.dtype.kind == "f":
        if not np.all(a == np.round(a)):
            raise ValueError("to_categorical: y must hold integer class ids, got non-integer values")
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iub":
        raise TypeError(f"to_categorical: y must hold integer class ids, got dtype {a.dtype}")
    a = a.astype(np.int64)
    shape = a.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = a.reshape(-1)
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        bad = int(flat.min() if flat.min() < 0 else flat.max())
        raise ValueError(f"to_categorical: class id {bad} is outside [0, {num_classes}) (num_classes={num_classes})")
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (num_classes,))


def set_random_seed(seed: int) -> None:
    """Seed everything random here (initial weights, shuffling, dropout): tinygrad_lstm.manual_seed."""
    manual_seed(seed)


__all__ = ["clear_session", "model_to_dot", "plot_model", "set_random_seed", "to_categorical"]
