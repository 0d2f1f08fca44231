"""`Layer`: Keras's layer protocol (lazy build from the input shape, masks, get/set_weights) on top of
`tinygrad_lstm.nn.Module`, so a layer's weights are Parameters that autograd trains like any other.

    layer(x, training=False, mask=None)
      1. build(input_shape) the first time: create the weights, now that the input's last axis is known
      2. call(x, training, mask): the forward computation, in Tensor ops (autograd records it)
    layer.compute_output_shape(shape), layer.compute_mask(x, mask): what the next layer receives

Shapes are tuples with None for the batch axis (and for a variable number of time steps).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...nn.module import Module, Parameter
from ...tensor import Tensor
from .. import initializers
from ..backend import to_snake_case, unique_name
from .symbolic import is_symbolic, symbolic_call

Shape = tuple[int | None, ...]


def as_tensor(x: Any) -> Tensor:
    """A Tensor for `x`; float64 data becomes float32 (Keras's floatx), integer ids stay integers."""
    if isinstance(x, Tensor):
        return x
    a = np.asarray(x)
    if a.dtype.kind == "f" and a.dtype != np.float32:
        a = a.astype(np.float32)
    elif a.dtype.kind == "b":
        a = a.astype(np.float32)
    return Tensor(a)


def show_shape(shape: Sequence[int | None]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def incompatible(name: str, detail: str) -> ValueError:
    """Keras's wording: 'Input 0 of layer "lstm" is incompatible with the layer: ...'."""
    return ValueError(f'Input 0 of layer "{name}" is incompatible with the layer: {detail}')


def call_kwargs(fn: Any, **kwargs: Any) -> dict[str, Any]:
    """The keyword arguments `fn` accepts (Keras passes `training`/`mask` only to a call() that takes them)."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params and (v is not None or k == "training")}


class Layer(Module):
    """Base class of the Keras layers. Subclasses write `build` (create weights with `add_weight`), `call`, and
    `compute_output_shape`; `supports_masking = True` passes an incoming mask on unchanged."""

    supports_masking = False

    def __init__(self, *, name: str | None = None, input_shape: Sequence[int | None] | None = None,
                 input_dim: int | None = None, batch_input_shape: Sequence[int | None] | None = None,
                 trainable: bool = True, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__()
        for key in [k for k in kwargs if k.endswith(("_regularizer", "_constraint"))]:
            if kwargs.pop(key) is not None:
                raise NotImplementedError(f"{type(self).__name__}: `{key}` is not supported (no regularizers or "
                                          "constraints here)")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword argument(s): {', '.join(sorted(kwargs))}")
        if dtype is not None and np.dtype(dtype) != np.float32:
            raise ValueError(f"{type(self).__name__}: only dtype='float32' is supported, got {dtype!r}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        declared: Shape | None = None
        if batch_input_shape is not None:
            declared = (None,) + tuple(batch_input_shape)[1:]
        elif input_shape is not None:
            declared = (None,) + tuple(input_shape)
        elif input_dim is not None:
            declared = (None, int(input_dim))
        self._declared_input_shape = declared
        self.built = False
        self._trainable = bool(trainable)
        self._build_input_shape: Shape | None = None
        self._output_shape: Any = None
        self._inbound_nodes: list[Any] = []  # the functional API's calls of this layer (symbolic.Node)

    # ----- weights ----------------------------------------------------------------------------------------
    def add_weight(self, name: str, shape: Sequence[int], initializer: Any = "glorot_uniform",
                   trainable: bool = True) -> Parameter:
        """Create a weight from a Keras initializer and register it under `name` (autograd trains it)."""
        data = np.asarray(initializers.get(initializer)(tuple(shape)), dtype=np.float32)
        if data.shape != tuple(shape):
            raise ValueError(f"{self.name}: initializer for {name!r} returned shape {data.shape}, "
                             f"expected {tuple(shape)}")
        p = Parameter(data, requires_grad=trainable and self._trainable)
        setattr(self, name, p)
        if not trainable:
            object.__setattr__(self, "_fixed_weights", (*getattr(self, "_fixed_weights", ()), name))
        return p

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (False) or unfreeze this layer and every layer inside it; weights made with trainable=False
        (BatchNormalization's moving statistics) are never trained either way."""
        for m in self.modules():  # iterative, this layer included
            if isinstance(m, Layer):
                object.__setattr__(m, "_trainable", bool(value))
            fixed = getattr(m, "_fixed_weights", ())
            for name, p in m._parameters.items():
                if p is not None and name not in fixed:
                    p.requires_grad = bool(value)

    @property
    def weights(self) -> list[Parameter]:
        """All weights, in creation order (the order of `get_weights`)."""
        return list(self.parameters())

    @property
    def trainable_weights(self) -> list[Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list[Parameter]:
        return [p for p in self.parameters() if not p.requires_grad]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as numpy arrays, in Keras's order and layout."""
        return [p.data.copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load arrays in `get_weights` order; each must have its weight's shape (checked before any is set)."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f'Layer "{self.name}" expects {len(own)} weight arrays, but the provided list has '
                             f"{len(weights)}. Provided weights: {[np.shape(w) for w in weights]}")
        arrays = [np.asarray(w.data if isinstance(w, Tensor) else w) for w in weights]
        for p, a in zip(own, arrays):
            if a.shape != p.shape:
                raise ValueError(f'Layer "{self.name}" weight {p.name} has shape {p.shape}, which is not '
                                 f"compatible with the provided weight shape {a.shape}")
        for p, a in zip(own, arrays):
            p.data[...] = a

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                             "built. You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(p.numel() for p in self.parameters()))

    # ----- shapes -----------------------------------------------------------------------------------------
    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of `input_shape`. The base class has none."""

    def compute_output_shape(self, input_shape: Shape) -> Any:
        return input_shape

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> np.ndarray | None:
        """The (batch, time) boolean mask the next layer gets: the incoming one if this layer supports masking."""
        return mask if self.supports_masking else None

    def build_from_shape(self, input_shape: Shape) -> Any:
        """Build (once) and return the output shape; remembers both for `summary`."""
        input_shape = tuple(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
            self._build_input_shape = input_shape
        self._output_shape = self.compute_output_shape(input_shape)
        return self._output_shape

    @property
    def input_shape(self) -> Shape | None:
        return self._build_input_shape or self._declared_input_shape

    @property
    def output_shape(self) -> Any:
        return self._output_shape

    # ----- calling ----------------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """On data: run the layer. On KerasTensors (the functional API): build it and record the call."""
        if is_symbolic(args, kwargs):
            return symbolic_call(self, args, kwargs)
        return super().__call__(*args, **kwargs)

    def forward(self, inputs: Any, training: bool = False, mask: Any = None, **kwargs: Any) -> Any:
        x = as_tensor(inputs)
        if not self.built:
            self.build_from_shape((None,) + x.shape[1:])
        if mask is not None and not isinstance(mask, np.ndarray):
            mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        return self.call(x, **call_kwargs(self.call, training=training, mask=mask, **kwargs))

    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define call()")

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self._declared_input_shape is not None:
            config["input_shape"] = self._declared_input_shape[1:]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """A new, unbuilt layer from what `get_config` returned (`keras.saving` rebuilds models this way)."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def serialize(layer: Layer) -> dict[str, Any]:
    """``{"class_name": "LSTM", "config": {...}}``: what `layers.deserialize` turns back into an unbuilt layer."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


__all__ = ["Layer", "Shape", "as_tensor", "call_kwargs", "incompatible", "serialize", "show_shape"]
