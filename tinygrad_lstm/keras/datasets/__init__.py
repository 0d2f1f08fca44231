"""Data sets, offline: `mnist.load_data()` reads a local mnist.npz (never downloads); `digits.load_data()` gives
scikit-learn's bundled 8x8 digits, split like a Keras data set."""

from . import digits, mnist

__all__ = ["digits", "mnist"]
