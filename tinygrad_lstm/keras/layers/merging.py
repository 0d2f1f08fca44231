"""Concatenate and Add: layers that merge a list of tensors into one (the functional API's joins).

    Concatenate(axis=-1)([a, b])   join along `axis`: (batch, 3) and (batch, 5) → (batch, 8)
    Add()([a, b, ...])             elementwise sum (shapes equal, or broadcastable as numpy)
"""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor, concat
from .base import Layer, Shape, as_tensor, show_shape


class Merge(Layer):
    """A layer called on a list of at least two tensors."""

    def _check_count(self, shapes: Any) -> list[Shape]:
        if not isinstance(shapes, (list, tuple)) or len(shapes) < 2 or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) should be called on a list of at least 2 '
                             f"inputs. Received: input_shape={shapes}")
        return [tuple(s) for s in shapes]

    def build_from_shape(self, input_shape: Any) -> Any:
        shapes = self._check_count(input_shape)
        if not self.built:
            self.build(shapes)  # type: ignore[arg-type]
            self.built = True
            self._build_input_shape = shapes  # type: ignore[assignment]
        self._output_shape = self.compute_output_shape(shapes)  # type: ignore[arg-type]
        return self._output_shape

    def forward(self, inputs: Any, training: bool = False, mask: Any = None, **kwargs: Any) -> Tensor:
        xs = [as_tensor(x) for x in inputs] if isinstance(inputs, (list, tuple)) else inputs
        shapes = self._check_count([(None,) + x.shape[1:] for x in xs] if isinstance(xs, list) else xs)
        if not self.built:
            self.build_from_shape(shapes)
        return self.merge(xs)

    def merge(self, xs: list[Tensor]) -> Tensor:
        raise NotImplementedError


class Concatenate(Merge):
    """Join the inputs along `axis` (default the last); all other axes must match."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def build(self, input_shape: Any) -> None:
        shapes = self._check_count(input_shape)
        ndim = len(shapes[0])
        axis = self.axis % ndim
        for s in shapes:
            if len(s) != ndim or any(a != b and None not in (a, b) for i, (a, b) in enumerate(zip(s, shapes[0]))
                                     if i != axis):
                raise ValueError(f'A `Concatenate` layer requires inputs with matching shapes except for the '
                                 f'concatenation axis. Received: input_shape={[show_shape(x) for x in shapes]}')

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shapes = self._check_count(input_shape)
        axis = self.axis % len(shapes[0])
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
        return tuple(out)

    def merge(self, xs: list[Tensor]) -> Tensor:
        return concat(xs, axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Add(Merge):
    """The elementwise sum of the inputs."""

    def build(self, input_shape: Any) -> None:
        shapes = self._check_count(input_shape)
        if any(len(s) != len(shapes[0]) or any(a != b and None not in (a, b) and 1 not in (a, b)
                                               for a, b in zip(s, shapes[0])) for s in shapes):
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {[show_shape(x) for x in shapes]}")

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shapes = self._check_count(input_shape)
        return tuple(next((d for d in dims if d not in (None, 1)), dims[0]) for dims in zip(*shapes))

    def merge(self, xs: list[Tensor]) -> Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """Keras's functional form: ``concatenate([a, b])`` is ``Concatenate()([a, b])``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs: list[Any], **kwargs: Any) -> Any:
    """``add([a, b])`` is ``Add()([a, b])``."""
    return Add(**kwargs)(inputs)


__all__ = ["Add", "Concatenate", "Merge", "add", "concatenate"]
