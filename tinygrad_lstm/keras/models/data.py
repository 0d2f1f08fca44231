"""Turning `fit`/`evaluate`/`predict` arguments into arrays, checked: samples counted alike, validation split."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...tensor import Tensor


def to_array(data: Any, what: str) -> np.ndarray:
    """One array from an ndarray, a Tensor, or nested lists; `what` names it in errors ('x', 'y')."""
    if data is None:
        raise ValueError(f"`{what}` is required (got None)")
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, np.ndarray) for d in data) and \
            len({d.shape for d in data}) > 1:
        raise ValueError(f"`{what}` must be one array (this model has one input and one output); got a list of "
                         f"{len(data)} arrays of shapes {[d.shape for d in data]}")
    try:
        a = np.asarray(data)
    except ValueError as e:
        raise ValueError(f"`{what}` could not be turned into one array (are the sequences of different lengths? "
                         f"pad them with keras.preprocessing.sequence.pad_sequences): {e}") from None
    if a.dtype == object:
        raise ValueError(f"`{what}` holds sequences of different lengths or mixed types; pad them to one length "
                         "with keras.preprocessing.sequence.pad_sequences")
    if a.ndim == 0:
        raise ValueError(f"`{what}` must have a batch axis, got a scalar")
    return a


class Arrays:
    """The data of a model with several inputs (or outputs): one array each, sliced together by sample."""

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, idx: Any) -> Arrays:
        return Arrays([a[idx] for a in self.arrays])


def to_arrays(data: Any, what: str, names: list[str] | None) -> np.ndarray | Arrays:
    """`to_array` for a model with one input (names None), else one array per name: from a list in the model's
    order or a dict by input (output) layer name; their sample counts must agree."""
    if names is None:
        if isinstance(data, (list, tuple)) and len(data) == 1 and isinstance(data[0], (np.ndarray, Tensor)):
            data = data[0]
        return to_array(data, what)
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"`{what}` is missing the entries {missing} (the model's are {names}); got "
                             f"{list(data)}")
        data = [data[n] for n in names]
    if not isinstance(data, (list, tuple)) or len(data) != len(names):
        got = f"{len(data)} arrays" if isinstance(data, (list, tuple)) else f"one {type(data).__name__}"
        raise ValueError(f"`{what}`: the model has {len(names)} ({', '.join(names)}); pass a list of "
                         f"{len(names)} arrays or a dict by name, got {got}")
    arrays = [to_array(d, f"{what}[{i}]") for i, d in enumerate(data)]
    if len({len(a) for a in arrays}) > 1:
        raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same number of samples."
                         f"\n'{what}' sizes: {', '.join(str(len(a)) for a in arrays)}")
    return Arrays(arrays)


def check_cardinality(x: Any, y: Any, sample_weight: np.ndarray | None = None) -> None:
    """x, y (and sample weights) must hold the same number of samples."""
    sizes = {"x": len(x)}
    if y is not None:
        sizes["y"] = len(y)
    if sample_weight is not None:
        sizes["sample_weight"] = len(sample_weight)
    if len(set(sizes.values())) > 1:
        detail = "\n".join(f"'{k}' sizes: {v}" for k, v in sizes.items())
        raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same number of samples."
                         f"\n{detail}")
    if len(x) == 0:
        raise ValueError("Expected input data to be non-empty (x has 0 samples)")


def split_validation(arrays: list[np.ndarray | None], fraction: float) -> tuple[list, list]:
    """Keras's validation_split: the *last* fraction of the samples (taken before any shuffling)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"`validation_split` must be between 0 and 1 (exclusive), got {fraction}")
    n = len(arrays[0])
    split_at = int(math.floor(n * (1.0 - fraction)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"validation_split={fraction} leaves no samples for training or for validation "
                         f"(there are {n} samples)")
    return ([None if a is None else a[:split_at] for a in arrays],
            [None if a is None else a[split_at:] for a in arrays])


def unpack_validation(validation_data: Any, to_x: Any = None, to_y: Any = None) -> tuple[Any, Any, Any]:
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("`validation_data` should be a tuple `(val_x, val_y)` or `(val_x, val_y, val_sample_weight)`"
                         f", got {type(validation_data).__name__}")
    xv = (to_x or to_array)(validation_data[0], "validation x")
    yv = (to_y or to_array)(validation_data[1], "validation y")
    sw = None if len(validation_data) == 2 or validation_data[2] is None else np.asarray(validation_data[2])
    check_cardinality(xv, yv, sw)
    return xv, yv, sw


def batches(n: int, batch_size: int, order: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Index arrays of consecutive batches (the last one may be smaller)."""
    idx = np.arange(n) if order is None else order
    for start in range(0, n, batch_size):
        yield idx[start:start + batch_size]


def class_weights_to_sample_weights(y: np.ndarray, class_weight: dict[int, float]) -> np.ndarray:
    """One weight per sample from its class: labels as ids (N,) / (N, 1), or one-hot (N, C)."""
    ids = np.argmax(y, axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
    return np.array([class_weight.get(int(c), 1.0) for c in ids], dtype=np.float32)


__all__ = ["Arrays", "batches", "check_cardinality", "class_weights_to_sample_weights", "split_validation",
           "to_array", "to_arrays", "unpack_validation"]
