"""`Sequential`: a stack of layers, each fed the previous one's output (and its mask).

    model = Sequential([LSTM(32, input_shape=(T, F)), Dense(1, activation="sigmoid")])

The input shape, declared by `input_shape=` on the first layer, an `Input(shape=...)` first, or `build`, lets
every layer create its weights at once (so `summary` works before training); without it the model is built
from the first batch it sees. A declared shape is checked against the data, with a hint when a reshape went
wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import autograd
from ...tensor import Tensor
from ..backend import unique_name
from ..layers.base import Layer, Shape, as_tensor, incompatible, show_shape
from ..layers.core import InputLayer, InputSpec
from ..layers.recurrent import RNN
from ..layers.wrappers import Bidirectional
from .training import Model


def _reshape_hint(found: tuple[int, ...], expected: Shape, first: Layer | None) -> str:
    exp, got = expected[1:], tuple(found[1:])
    recurrent = isinstance(first, (RNN, Bidirectional))
    if None not in exp and int(np.prod(got)) == int(np.prod(exp)) and len(found) >= 2:
        text = (f". Each sample has {int(np.prod(got))} values in both shapes, so the data may only be arranged "
                f"differently: x.reshape({(-1,) + tuple(exp)})")
        if recurrent and len(exp) == 2:
            text += (f" gives {exp[0]} time steps of {exp[1]} feature{'s' if exp[1] != 1 else ''} each (a "
                     "recurrent layer reads (timesteps, features) per sample); check which axis holds the time steps")
        return text
    if recurrent and len(found) == 2 and len(expected) == 3:
        return (". A recurrent layer reads 3-D input (samples, timesteps, features): reshape x, e.g. "
                f"x.reshape(len(x), {exp[0] if exp[0] is not None else -1}, {exp[1]})")
    return ""


def _stacked_without_sequences(prev: Layer | None, layer: Layer, shape: Any) -> bool:
    recurrent = (RNN, Bidirectional)
    return isinstance(prev, recurrent) and isinstance(layer, recurrent) and not prev.return_sequences and \
        len(shape) == 2


class Sequential(Model):
    """Layers in a line: ``Sequential([layer, ...])`` or ``.add(layer)``; trained with compile/fit."""

    def __init__(self, layers: list[Any] | None = None, name: str | None = None, trainable: bool = True) -> None:
        super().__init__(name=name or unique_name("sequential"), trainable=trainable)
        self._layers: list[Layer] = []
        self._input_declared: Shape | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    # ----- building -----------------------------------------------------------------------------------------
    def add(self, layer: Any) -> None:
        """Append a layer (an `Input(shape=...)` or `InputLayer` first only declares the input shape)."""
        if isinstance(layer, InputSpec) and not isinstance(getattr(layer.node, "layer", None), InputLayer):
            raise TypeError(f"Sequential.add: {layer!r} is the output of a layer, not a keras.Input; add layers, or "
                            "build a functional keras.Model(inputs, outputs) from such tensors")
        if isinstance(layer, (InputSpec, InputLayer)):
            if self._layers or self._input_declared is not None:
                raise ValueError("An Input (or InputLayer) can only be the first entry of a Sequential model")
            self._input_declared = layer.shape if isinstance(layer, InputSpec) else layer._declared_input_shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Received: layer={layer!r} of "
                            f"type {type(layer).__name__}.")
        if any(lay.name == layer.name for lay in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                             f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                             "argument to pass a unique name.")
        if getattr(layer, "return_state", False) or getattr(layer, "merge_mode", "concat") is None:
            raise ValueError("All layers in a Sequential model should have a single output tensor. For "
                             "multi-output layers (return_state=True, merge_mode=None), call the layers yourself.")
        if not self._layers and self._input_declared is None and layer._declared_input_shape is not None:
            self._input_declared = layer._declared_input_shape
        self._layers.append(layer)
        self._modules[layer.name] = layer  # registered by name: its weights are "<name>.<weight>"
        layer._set_prefix(self._prefix + layer.name + ".")
        if self._input_declared is not None:
            self.build(self._input_declared)

    def pop(self) -> Layer:
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        del self._modules[layer.name]
        self._output_shape = self._layers[-1].output_shape if self._layers else None
        return layer

    def build(self, input_shape: Shape | None = None) -> None:
        """Declare the input shape (None for the batch axis, and for a variable number of time steps) and
        create every layer's weights for it."""
        if input_shape is None:
            input_shape = self._input_declared
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument, e.g. model.build((None, timesteps, "
                             "features))")
        if self._input_declared is None:
            self._input_declared = tuple(input_shape)
        self._build_layers(tuple(input_shape))

    def build_from_shape(self, input_shape: Shape) -> Any:
        """Build from the first data seen (without declaring its shape as the only one accepted)."""
        self._build_layers(tuple(input_shape))
        return self._output_shape

    def _build_layers(self, input_shape: Shape) -> None:
        shape: Any = input_shape
        prev: Layer | None = None
        for layer in self._layers:
            try:
                shape = layer.build_from_shape(shape)
            except ValueError:
                if _stacked_without_sequences(prev, layer, shape):
                    raise incompatible(layer.name, f"expected ndim=3, found ndim=2. Full shape received: "
                                                   f"{show_shape(shape)}. The layer before it, \"{prev.name}\", "
                                                   "returns only its last output: pass return_sequences=True to "
                                                   "it to stack recurrent layers") from None
                raise
            prev = layer
        self.built = True
        self._build_input_shape = input_shape
        self._output_shape = shape

    # ----- running ------------------------------------------------------------------------------------------
    def _check_data(self, x: np.ndarray) -> None:
        self._check_input(x.shape)

    def _check_input(self, shape: tuple[int, ...]) -> None:
        d = self._input_declared
        if d is None:
            return
        if len(shape) != len(d) or any(e is not None and e != s for e, s in zip(d[1:], shape[1:])):
            first = self._layers[0] if self._layers else None
            what = "" if first is None else f' (its first layer is "{first.name}")'
            raise incompatible(self.name, f"expected shape={show_shape(d)}, found shape={show_shape(shape)}"
                                          f"{what}{_reshape_hint(shape, d, first)}")

    def _forward_layers(self, x: Tensor, training: bool) -> tuple[Any, np.ndarray | None]:
        self._check_input(x.shape)
        if not self._layers:
            raise ValueError(f'Sequential model "{self.name}" has no layers; add some first')
        mask = None
        for layer in self._layers:
            y = layer(x, training=training, mask=mask if layer.supports_masking else None)
            mask = layer.compute_mask(x, mask)
            x = y
        return x, mask

    def call(self, inputs: Tensor, training: bool = False, mask: Any = None) -> Any:
        return self._forward_layers(inputs, training)[0]

    def _run(self, x: Any, training: bool) -> tuple[Any, np.ndarray | None]:
        x = as_tensor(x)
        if not self.built:
            self._build_layers((None,) + x.shape[1:])
        with autograd.scope(self._scope_entry()):
            return self._forward_layers(x, training)

    def compute_output_shape(self, input_shape: Shape) -> Any:
        shape: Any = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self) -> dict[str, Any]:
        from ..layers import serialize

        return {"name": self.name, "trainable": self.trainable, "layers": [serialize(lay) for lay in self._layers],
                "input_shape": self._input_declared, "build_input_shape": self._build_input_shape}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        from ..layers import deserialize

        model = cls(name=config["name"], trainable=config.get("trainable", True))
        if config.get("input_shape") is not None:
            model._input_declared = tuple(config["input_shape"])
        for layer in config["layers"]:
            model.add(deserialize(layer))
        if not model.built and config.get("build_input_shape") is not None:
            model._build_layers(tuple(config["build_input_shape"]))  # built from data, not declared
        return model


__all__ = ["Sequential"]
