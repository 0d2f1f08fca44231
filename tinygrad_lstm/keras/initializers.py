"""Weight initializers by Keras name. Each returns a float32 array of the requested shape; every draw comes
from the generator `tinygrad_lstm.manual_seed` sets, so a seeded program builds the same weights each run.

Keras's fans for a kernel of shape (in, out): fan_in = in, fan_out = out.

    glorot_uniform   U(-a, a),  a = √(6 / (fan_in + fan_out))          (Glorot & Bengio 2010)
    glorot_normal    truncated N(0, σ²),  σ = √(2 / (fan_in + fan_out)) / 0.8796
    he_uniform       U(-a, a),  a = √(6 / fan_in)                       (He et al. 2015)
    he_normal        truncated N(0, σ²),  σ = √(2 / fan_in) / 0.8796
    orthogonal       Q of the QR decomposition of a Gaussian matrix, signs fixed by diag(R) (Saxe et al. 2014):
                     for (u, 4u) the rows are orthonormal
    uniform          U(-0.05, 0.05)        normal   N(0, 0.05²)        zeros, ones
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..random import rng

Initializer = Callable[[tuple[int, ...]], np.ndarray]
_TRUNC = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _truncated_normal(shape: tuple[int, ...], std: float) -> np.ndarray:
    """N(0, std²) redrawn outside ±2 std."""
    out = rng().standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng().standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * std


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


def ones(shape: tuple[int, ...]) -> np.ndarray:
    return np.ones(shape, dtype=np.float32)


def glorot_uniform(shape: tuple[int, ...]) -> np.ndarray:
    fan_in, fan_out = _fans(shape)
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return _f32(rng().uniform(-a, a, shape))


def glorot_normal(shape: tuple[int, ...]) -> np.ndarray:
    fan_in, fan_out = _fans(shape)
    return _f32(_truncated_normal(shape, np.sqrt(2.0 / (fan_in + fan_out)) / _TRUNC))


def he_uniform(shape: tuple[int, ...]) -> np.ndarray:
    a = np.sqrt(6.0 / _fans(shape)[0])
    return _f32(rng().uniform(-a, a, shape))


def he_normal(shape: tuple[int, ...]) -> np.ndarray:
    return _f32(_truncated_normal(shape, np.sqrt(2.0 / _fans(shape)[0]) / _TRUNC))


def orthogonal(shape: tuple[int, ...]) -> np.ndarray:
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    a = rng().standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _f32(q.reshape(shape))


def uniform(shape: tuple[int, ...]) -> np.ndarray:
    return _f32(rng().uniform(-0.05, 0.05, shape))


def normal(shape: tuple[int, ...]) -> np.ndarray:
    return _f32(rng().normal(0.0, 0.05, shape))


_BY_NAME: dict[str, Initializer] = {
    "zeros": zeros, "ones": ones, "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "he_uniform": he_uniform, "he_normal": he_normal, "orthogonal": orthogonal, "uniform": uniform,
    "random_uniform": uniform, "normal": normal, "random_normal": normal,
}


def get(identifier: str | Initializer) -> Initializer:
    """An initializer from its Keras name, or a callable ``shape -> array`` used as is."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(f"Unknown initializer: {identifier!r}. Known initializers: {', '.join(sorted(_BY_NAME))}")


__all__ = ["get", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "normal", "ones", "orthogonal",
           "uniform", "zeros"]
