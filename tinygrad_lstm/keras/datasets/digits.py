"""scikit-learn's handwritten digits (1797 images of 8x8 pixels, values 0..16), offline, in the layout of
``mnist.load_data()``: ``(x_train, y_train), (x_test, y_test)`` with x of shape (n, 8, 8) and y class ids.

A small stand-in for MNIST in tutorials: read each image as 8 time steps (rows) of 8 features (pixels).
Needs scikit-learn installed (the ``examples`` extra) for its bundled data file (read without importing scikit-learn).
"""

from __future__ import annotations

import numpy as np

from ...data.digits import _raw_digits

Split = tuple[np.ndarray, np.ndarray]


def load_data(test_split: float = 0.2, seed: int = 113) -> tuple[Split, Split]:
    """Shuffle with `seed` (fixed, so the split is the same every run) and keep the last `test_split` for test.
    x is uint8 (divide by 16.0 for values in [0, 1]), y uint8."""
    if not 0.0 < test_split < 1.0:
        raise ValueError(f"test_split must be between 0 and 1, got {test_split}")
    images, labels = _raw_digits()  # the bundled CSV, without importing scikit-learn (seconds)
    x = images.astype(np.uint8)
    y = labels.astype(np.uint8)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    split = int(len(x) * (1 - test_split))
    return (x[:split], y[:split]), (x[split:], y[split:])


__all__ = ["load_data"]
