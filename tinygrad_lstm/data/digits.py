"""scikit-learn's 1797 handwritten digits (8x8 pixels) as sequences: each image is 8 time steps (its rows) of
8 features (the pixels of a row). Offline: the data ships inside scikit-learn (the ``examples`` extra)."""

from __future__ import annotations

import gzip

import numpy as np

from ._optional import missing, package_file

WHAT = "data.load_digits_sequences (scikit-learn's digits)"


def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 8, 8) float64 in 0..16, labels (1797,) int64), read from scikit-learn's bundled file."""
    path = package_file("sklearn", "datasets", "data", "digits.csv.gz", what=WHAT)
    if path is not None:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",")
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    try:  # a scikit-learn that keeps the file elsewhere: its own loader
        from sklearn.datasets import load_digits
    except ImportError:
        raise missing("scikit-learn", WHAT) from None
    d = load_digits()
    return d.images.astype(np.float64), d.target.astype(np.int64)


def load_digits_sequences(test_size: float = 0.25, seed: int = 0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)``: x float32 of shape (n, 8, 8) = (n, time, features) scaled to
    [0, 1] (pixel / 16), y int64 class ids 0..9.

    The split is stratified and deterministic: from every class, ``round(test_size * count)`` images chosen by
    ``np.random.default_rng(seed)`` go to test; each side is then shuffled with the same generator.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"load_digits_sequences: test_size must be between 0 and 1, got {test_size}")
    images, labels = _raw_digits()
    gen = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for c in np.unique(labels):
        idx = gen.permutation(np.flatnonzero(labels == c))
        k = int(round(test_size * len(idx)))
        test_idx.append(idx[:k])
        train_idx.append(idx[k:])
    tr, te = gen.permutation(np.concatenate(train_idx)), gen.permutation(np.concatenate(test_idx))
    x = (images / 16.0).astype(np.float32)
    return x[tr], labels[tr], x[te], labels[te]


__all__ = ["load_digits_sequences"]
