"""LayerNorm, as torch.nn.LayerNorm: `functional.layer_norm` with a learned scale and shift."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


class LayerNorm(Module):
    """y = (x - μ) / √(σ² + eps) · weight + bias over the trailing axes `normalized_shape`.

    `weight` starts at ones and `bias` at zeros (shape `normalized_shape`); `elementwise_affine=False` has
    neither, `bias=False` only the weight.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = dtype or np.float32
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt)) if elementwise_affine and bias else None

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


__all__ = ["LayerNorm"]
