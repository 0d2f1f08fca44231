"""RepeatVector, Reshape, Permute: layers that only rearrange values (their gradients rearrange them back).

    RepeatVector(n)         (batch, features) → (batch, n, features): the same vector at every step (a seq2seq
                            encoder's summary fed to each decoder step)
    Reshape(target_shape)   (batch, ...) → (batch, *target_shape); one entry may be -1 (inferred)
    Permute(dims)           reorders the non-batch axes, numbered from 1: Permute((2, 1)) swaps time and features
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...tensor import Tensor
from .base import Layer, Shape, incompatible, show_shape


class RepeatVector(Layer):
    """Repeat the input n times: (batch, features) → (batch, n, features)."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise TypeError(f"Expected an integer value for `n` (>= 1). Received: n={n!r}")
        self.n = int(n)

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != 2:
            raise incompatible(self.name, f"expected ndim=2, found ndim={len(input_shape)}. Full shape received: "
                                          f"{show_shape(input_shape)}")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs: Tensor) -> Tensor:
        if inputs.ndim != 2:
            raise incompatible(self.name, f"expected ndim=2, found ndim={inputs.ndim}. Full shape received: "
                                          f"{show_shape(inputs.shape)}")
        B, F = inputs.shape
        return inputs.reshape(B, 1, F).expand(B, self.n, F)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}


def _fill_unknown(target: tuple[int, ...], size: int | None, layer: str, given: Shape) -> tuple[int, ...]:
    """Replace the one -1 of `target` so the sizes multiply to `size` (as numpy; None while size is unknown)."""
    if -1 not in target:
        if size is not None and int(np.prod(target)) != size:
            raise ValueError(f'Layer "{layer}" (Reshape): total size of the input {show_shape(given)} is {size} '
                             f"per sample, the target shape {show_shape(target)} holds {int(np.prod(target))}")
        return target
    known = int(np.prod([t for t in target if t != -1]))
    if size is None:
        return target
    if known == 0 or size % known:
        raise ValueError(f'Layer "{layer}" (Reshape): cannot reshape an input of {size} values per sample '
                         f"(shape {show_shape(given)}) into {show_shape(target)}")
    return tuple(size // known if t == -1 else t for t in target)


class Reshape(Layer):
    """(batch, ...) → (batch, *target_shape); the number of values per sample must stay the same."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(t) for t in target_shape)
        if self.target_shape.count(-1) > 1 or any(t < -1 or t == 0 for t in self.target_shape):
            raise ValueError(f"Reshape: target_shape may hold positive sizes and at most one -1, got "
                             f"{self.target_shape}")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        size = None if None in rest else int(np.prod(rest))
        out = _fill_unknown(self.target_shape, size, self.name, input_shape)
        return (input_shape[0],) + tuple(None if t == -1 else t for t in out)

    def call(self, inputs: Tensor) -> Tensor:
        size = int(np.prod(inputs.shape[1:]))
        return inputs.reshape((inputs.shape[0],) + _fill_unknown(self.target_shape, size, self.name, inputs.shape))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorder the axes after the batch axis; `dims` is a permutation of 1 … ndim-1 (the batch axis stays)."""

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={self.dims}")

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != len(self.dims) + 1:
            raise incompatible(self.name, f"Permute(dims={self.dims}) needs inputs with {len(self.dims) + 1} axes, "
                                          f"got shape {show_shape(input_shape)}")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, inputs: Tensor) -> Tensor:
        return inputs.permute(0, *self.dims)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": list(self.dims)}


__all__ = ["Permute", "RepeatVector", "Reshape"]
