"""Vector norms, composed from differentiable ops with a guard so that an all-zero slice (whose p-norm has no
derivative) gets gradient 0, as torch's subgradient choice."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .tensor import Tensor, where


def norm(x: Tensor, p: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """‖x‖ₚ = (Σ|xᵢ|ᵖ)^(1/p) over `dim` (None: all elements); p may be inf (the largest |xᵢ|).

    d‖x‖ₚ/dxᵢ = sign(xᵢ)|xᵢ|^(p-1) / ‖x‖ₚ^(p-1)  (for p = 2: xᵢ / ‖x‖), taken as 0 where ‖x‖ₚ = 0."""
    if x.dtype.kind != "f":
        raise TypeError(f"norm: input must be a floating-point tensor, got {x.dtype}")
    if not isinstance(p, numbers.Real) or p <= 0:
        raise ValueError(f"norm: p must be a positive number or inf, got {p!r}")
    if p == float("inf"):
        return x.abs().amax(dim, keepdim) if x.data.size else x.abs().sum(dim, keepdim)
    powered = x * x if p == 2 else x.abs() ** p
    total = powered.sum(dim, keepdim)
    nonzero = total.data > 0
    safe = where(nonzero, total, 1.0)  # the root is taken only where it has a derivative
    root = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    return where(nonzero, root, 0.0) if not np.all(nonzero) else root
