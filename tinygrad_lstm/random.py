"""One random generator for everything that samples (constructors, init, dropout), seeded by `manual_seed`."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Make every later random draw reproducible (constructors, parameter init, dropout, shuffling)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def rng() -> np.random.Generator:
    """The generator in use."""
    return _generator
