"""Mini-batches and padding for plain numpy arrays (no Dataset/DataLoader classes: a generator is enough)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..random import rng


def batches(*arrays: np.ndarray, batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
            drop_last: bool = False) -> Iterator[tuple[np.ndarray, ...]]:
    """Yield tuples of aligned slices of `arrays` (all with the same first dimension), `batch_size` rows each.

    `shuffle` permutes the rows with ``np.random.default_rng(seed)``, or, when `seed` is None, with the library's
    generator (``tinygrad_lstm.random.rng()``, seeded by ``manual_seed``). `drop_last` skips a short final batch.

        for xb, yb in batches(x, y, batch_size=64, seed=epoch):
            ...
    """
    if not arrays:
        raise ValueError("batches() needs at least one array")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    for a in arrays[1:]:
        if len(a) != n:
            raise ValueError(f"batches(): arrays differ in length ({[len(a) for a in arrays]})")
    if shuffle:
        gen = np.random.default_rng(seed) if seed is not None else rng()
        order = gen.permutation(n)
    else:
        order = None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            yield tuple(a[start:start + batch_size] for a in arrays)
        else:
            idx = order[start:start + batch_size]
            yield tuple(a[idx] for a in arrays)


def pad_to_lengths(seqs: Sequence[np.ndarray | Sequence], value: float = 0,
                   dtype: np.dtype | type | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Post-pad variable-length sequences into one array, for ``nn.LSTM(...)(x, lengths=lengths)``.

    Each sequence has shape (T_i, ...) with the same trailing shape. Returns ``(padded, lengths)``: padded of shape
    (N, T_max, ...) filled with `value` after each sequence's end, lengths an int64 array of the T_i.
    `dtype` defaults to the common dtype of the sequences.
    """
    arrs = [np.asarray(s) if dtype is None else np.asarray(s, dtype=dtype) for s in seqs]
    if not arrs:
        raise ValueError("pad_to_lengths() needs at least one sequence")
    trailing = arrs[0].shape[1:]
    for a in arrs:
        if a.ndim == 0:
            raise ValueError("pad_to_lengths(): each sequence needs at least one dimension (time)")
        if a.shape[1:] != trailing:
            raise ValueError(f"pad_to_lengths(): trailing shapes differ ({a.shape[1:]} vs {trailing})")
    lengths = np.array([len(a) for a in arrs], dtype=np.int64)
    out_dtype = np.dtype(dtype) if dtype is not None else np.result_type(*arrs)
    padded = np.full((len(arrs), int(lengths.max()), *trailing), value, dtype=out_dtype)
    for i, a in enumerate(arrs):
        padded[i, :len(a)] = a
    return padded, lengths


__all__ = ["batches", "pad_to_lengths"]
