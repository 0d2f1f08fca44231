"""MNIST from a local ``mnist.npz`` (the file Keras downloads: arrays x_train (60000, 28, 28) uint8, y_train,
x_test (10000, 28, 28), y_test). This never downloads: put the file in Keras's cache,
``~/.keras/datasets/mnist.npz`` (or $KERAS_HOME/datasets/), or pass its path.
"""

from __future__ import annotations

import os

import numpy as np

Split = tuple[np.ndarray, np.ndarray]


def cache_dir() -> str:
    """Keras's data set cache: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


def load_data(path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """``(x_train, y_train), (x_test, y_test)`` from `path` (a file, or a name in the cache; default mnist.npz)."""
    name = os.fspath(path) if path is not None else "mnist.npz"
    candidates = [name] if os.path.isabs(name) or os.path.exists(name) else [os.path.join(cache_dir(), name)]
    file = next((c for c in candidates if os.path.isfile(c)), None)
    if file is None:
        raise FileNotFoundError(
            f"mnist.load_data: {candidates[0]} not found, and this library never downloads. Put Keras's "
            f"mnist.npz (arrays x_train, y_train, x_test, y_test) at {os.path.join(cache_dir(), 'mnist.npz')}, or "
            "pass its path: mnist.load_data(path='.../mnist.npz'). Offline alternative with the same layout: "
            "tinygrad_lstm.keras.datasets.digits.load_data() (scikit-learn's 8x8 digits, bundled with it)")
    with np.load(file, allow_pickle=False) as f:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
        if missing:
            raise ValueError(f"mnist.load_data: {file} lacks the arrays {sorted(missing)} (has {f.files})")
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


__all__ = ["cache_dir", "load_data"]
