"""The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le, Jaitly & Hinton 2015), generated.

Each sequence has T steps of two features: a value drawn from U(0, 1), and a marker that is 1 at exactly two
steps and 0 elsewhere. The target is the sum of the two marked values. This module's choice (a common variant):
one marker falls uniformly in the first half (steps 0 .. T//2 - 1), the other in the second half
(T//2 .. T-1), so the first marked value is always at least T - T//2 steps before the end.

The sum of two U(0, 1) has mean 1 and variance 1/6: always answering 1.0 scores MSE 1/6 ≈ 0.167. A model that
beats that clearly has learned to remember marked values across the sequence.
"""

from __future__ import annotations

import numpy as np

from ..random import rng

BASELINE_MSE = 1.0 / 6.0  # the MSE of always answering 1.0 (the target's variance)


def adding_problem(n: int, T: int, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: x float32 of shape (n, T, 2) (batch first: value, marker), y float32 of shape (n,).

    `seed` gives ``np.random.default_rng(seed)``; None draws from the library's generator
    (``tinygrad_lstm.manual_seed``)."""
    if n < 0:
        raise ValueError(f"adding_problem: n must be >= 0, got {n}")
    if T < 2:
        raise ValueError(f"adding_problem: T must be at least 2 (one marker in each half), got {T}")
    gen = np.random.default_rng(seed) if seed is not None else rng()
    values = gen.random((n, T))
    half = T // 2
    first = gen.integers(0, half, size=n)
    second = gen.integers(half, T, size=n)
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    return x, y


__all__ = ["BASELINE_MSE", "adding_problem"]
