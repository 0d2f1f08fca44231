"""Dense, Embedding, Dropout, Activation, Masking, Flatten: the non-recurrent Keras layers.

    Dense        y = activation(x · kernel + bias),  kernel (in, units), bias (units,); on the last axis, so a
                 (batch, time, in) input gives (batch, time, units), as TimeDistributed(Dense) would
    Embedding    y[b, t] = embeddings[ids[b, t]],  embeddings (input_dim, output_dim); with mask_zero=True id 0
                 is padding: the mask ids != 0 travels to the next layers
    Dropout      in training, zero each value with probability `rate` and scale the rest by 1/(1 - rate)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...nn import functional as F
from ...tensor import Tensor
from .. import activations
from ..backend import unique_name
from .base import Layer, Shape, incompatible, show_shape
from .symbolic import KerasTensor, Node


class Dense(Layer):
    """Densely connected layer: ``activation(x @ kernel + bias)``. Parameters: units·(in + 1)."""

    supports_masking = True

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units, self.use_bias = int(units), use_bias
        self.activation = activations.get(activation)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise incompatible(self.name, f"expected min_ndim=2 with a known last axis, found shape "
                                          f"{show_shape(input_shape)}")
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer)
        else:
            self.bias = None

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None) -> Tensor:
        n_in = self.kernel.shape[0]
        if inputs.ndim < 2 or inputs.shape[-1] != n_in:
            raise incompatible(self.name, f"expected axis -1 of input shape to have value {n_in}, but received "
                                          f"input with shape {show_shape(inputs.shape)}")
        y = inputs.astype(self.kernel.dtype) @ self.kernel
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias}


class Embedding(Layer):
    """Turns token ids into vectors: row k of `embeddings` (input_dim, output_dim) is the vector of id k.

    Weights start U(-0.05, 0.05) (Keras's "uniform"). Parameters: input_dim·output_dim. `input_length` (a Keras 2
    argument) declares the input shape (input_length,).
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 mask_zero: bool = False, input_length: int | None = None, **kwargs: Any) -> None:
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        if int(input_dim) <= 0 or int(output_dim) <= 0:
            raise ValueError(f"Embedding: input_dim and output_dim must be positive, got {input_dim}, {output_dim}")
        self.input_dim, self.output_dim, self.mask_zero = int(input_dim), int(output_dim), bool(mask_zero)
        self.embeddings_initializer = embeddings_initializer

    @property
    def supports_masking(self) -> bool:  # type: ignore[override]
        return self.mask_zero

    def build(self, input_shape: Shape) -> None:
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape) + (self.output_dim,)

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> np.ndarray | None:
        if not self.mask_zero:
            return None
        ids = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return ids != 0

    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None) -> Tensor:
        ids = inputs.data
        if ids.dtype.kind == "f":
            if not np.all(ids == np.round(ids)):
                raise TypeError(f'Layer "{self.name}" (Embedding) expects integer token ids, got non-integer '
                                f"values of dtype {ids.dtype}")
            ids = ids.astype(np.int64)
        elif ids.dtype.kind not in "iu":
            raise TypeError(f'Layer "{self.name}" (Embedding) expects integer token ids, got dtype {ids.dtype}')
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            bad = int(ids.min() if ids.min() < 0 else ids.max())
            raise IndexError(f'Layer "{self.name}" (Embedding): token id {bad} is not in [0, {self.input_dim}) '
                             f"(input_dim={self.input_dim}). Set input_dim to the vocabulary size + 1, e.g. "
                             "len(tokenizer.word_index) + 1, or Tokenizer(num_words=input_dim)")
        return self.embeddings[ids]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "mask_zero": self.mask_zero}


class Dropout(Layer):
    """Inverted dropout (identity outside training); the mask comes from `tinygrad_lstm.manual_seed`'s generator."""

    supports_masking = True

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"Dropout: rate must be a float between 0 and 1, got {rate!r}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout: noise_shape is not supported")
        self.rate = float(rate)

    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None) -> Tensor:
        return F.dropout(inputs, self.rate, training) if inputs.dtype.kind == "f" else inputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate}


class Activation(Layer):
    """Applies an activation by name: ``Activation("softmax")``."""

    supports_masking = True

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None) -> Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Masking(Layer):
    """Mark the steps whose features all equal `mask_value` as padding: mask[b, t] = any(x[b, t] != mask_value);
    those steps become zeros and the recurrent layers after it carry their state over them (as Keras)."""

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> np.ndarray | None:
        x = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return np.any(x != self.mask_value, axis=-1)

    def call(self, inputs: Tensor) -> Tensor:
        keep = self.compute_mask(inputs, None)
        return inputs * Tensor(keep[..., None].astype(inputs.dtype))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}


class Flatten(Layer):
    """(batch, d1, d2, ...) → (batch, d1·d2·...)."""

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else int(np.prod(rest)))

    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None) -> Tensor:
        return inputs.reshape(inputs.shape[0], -1)


class InputLayer(Layer):
    """The layer behind `Input`: it only declares the input's shape (``InputLayer(shape=(None, 8))``) and passes
    the data on."""

    supports_masking = True

    def __init__(self, shape: Sequence[int | None] | None = None, input_shape: Any = None,
                 batch_size: int | None = None, dtype: Any = None, **kwargs: Any) -> None:
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("InputLayer: give the shape of one sample, e.g. shape=(timesteps, features)")
        shape = (shape,) if isinstance(shape, (int, np.integer)) or shape is None else tuple(shape)
        super().__init__(input_shape=shape, **kwargs)
        self.input_dtype = "float32" if dtype is None else str(np.dtype(dtype))
        self.build_from_shape(self._declared_input_shape)
        self.output = Node(self, (), {}, [self._declared_input_shape], self.input_dtype).outputs[0]

    def call(self, inputs: Tensor) -> Tensor:
        return inputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        return {"name": config["name"], "shape": list(config.pop("input_shape")), "dtype": self.input_dtype}


InputSpec = KerasTensor  # the name this module used before the functional API


def Input(shape: Sequence[int | None] | int | None = None, batch_size: int | None = None,  # noqa: N802
          name: str | None = None, dtype: Any = None) -> KerasTensor:
    """``Input(shape=(timesteps, features))``: a symbolic tensor to call layers on (the functional API), or the
    first entry of ``Sequential([...])``. `shape` is one sample's, without the batch axis."""
    if shape is None:
        raise ValueError("Input: give the shape of one sample, e.g. Input(shape=(timesteps, features))")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    return InputLayer(shape=shape, name=name or unique_name("input_layer"), dtype=dtype).output


__all__ = ["Activation", "Dense", "Dropout", "Embedding", "Flatten", "Input", "InputLayer", "InputSpec", "Masking"]
