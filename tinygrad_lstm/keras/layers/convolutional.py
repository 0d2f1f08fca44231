"""Conv1D and the 1-D poolings, channels last as in Keras: inputs (batch, steps, channels).

    Conv1D(filters, kernel_size)   y[b, l, o] = activation(Σ_{k,c} x̃[b, l·s + k·d, c] · kernel[k, c, o] + bias[o])
                                   kernel (kernel_size, channels, filters): the `ops.conv.Conv1d` op
    padding "valid": none · "same": L_out = ⌈L / s⌉, zeros split evenly (the extra one at the end) ·
            "causal": d·(K - 1) zeros in front, so output l sees only steps ≤ l
    MaxPooling1D(pool_size, strides)  the largest value of each window (strides default to pool_size)
    GlobalAveragePooling1D / GlobalMaxPooling1D   the mean / max over the steps: (batch, steps, c) → (batch, c)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...nn.conv import conv1d_padded, same_padding
from ...ops.conv import conv1d_output_length
from ...tensor import Tensor, concat
from .. import activations
from .base import Layer, Shape, incompatible, show_shape

PADDINGS = ("valid", "same", "causal")


def _one_int(value: Any, what: str) -> int:
    v = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"The `{what}` argument must be a positive integer or a tuple of 1 integer. Received: "
                         f"{what}={value!r}")
    return int(v)


def _channels_last(data_format: str | None, layer: str) -> None:
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"{layer}: only data_format='channels_last' (batch, steps, channels) is supported")


def _pad(padding: str, length: int, size: int, stride: int, dilation: int) -> tuple[int, int]:
    if padding == "same":
        return same_padding(length, size, stride, dilation)
    if padding == "causal":
        return dilation * (size - 1), 0
    return 0, 0


def _out_length(length: int | None, padding: str, size: int, stride: int, dilation: int = 1) -> int | None:
    if length is None:
        return None
    return conv1d_output_length(length, size, stride, dilation, _pad(padding, length, size, stride, dilation))


def _check_3d(layer: Layer, shape: Shape) -> None:
    if len(shape) != 3:
        raise incompatible(layer.name, f"expected ndim=3, found ndim={len(shape)}. Full shape received: "
                                       f"{show_shape(shape)}")


class Conv1D(Layer):
    """1-D convolution layer. Parameters: kernel_size·channels·filters (+ filters for the bias)."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format, "Conv1D")
        if groups != 1:
            raise NotImplementedError(f"Conv1D: groups={groups} is not supported (only groups=1)")
        if padding not in PADDINGS:
            raise ValueError(f"Conv1D: padding must be one of {PADDINGS}, got {padding!r}")
        self.filters = _one_int(filters, "filters")
        self.kernel_size = _one_int(kernel_size, "kernel_size")
        self.strides, self.dilation_rate = _one_int(strides, "strides"), _one_int(dilation_rate, "dilation_rate")
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding, self.use_bias = padding, bool(use_bias)
        self.activation = activations.get(activation)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, input_shape: Shape) -> None:
        _check_3d(self, input_shape)
        if input_shape[-1] is None:
            raise incompatible(self.name, f"the number of channels (last axis) must be known, got "
                                          f"{show_shape(input_shape)}")
        self.add_weight("kernel", (self.kernel_size, input_shape[-1], self.filters), self.kernel_initializer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer)
        else:
            self.bias = None

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        steps = _out_length(input_shape[1], self.padding, self.kernel_size, self.strides, self.dilation_rate)
        return (input_shape[0], steps, self.filters)

    def call(self, inputs: Tensor) -> Tensor:
        _check_3d(self, inputs.shape)
        L = inputs.shape[1]
        pad = _pad(self.padding, L, self.kernel_size, self.strides, self.dilation_rate)
        if conv1d_output_length(L, self.kernel_size, self.strides, self.dilation_rate, pad) < 1:
            raise incompatible(self.name, f"{L} steps are fewer than the kernel's reach "
                                          f"{self.dilation_rate * (self.kernel_size - 1) + 1} (padding='valid')")
        # Keras's layout is channels last and kernel (K, C, O); the op is torch's, channels first, weight (O, C, K)
        y = conv1d_padded(inputs.permute(0, 2, 1), self.kernel.permute(2, 1, 0), self.bias, self.strides, pad,
                          self.dilation_rate, name=self.name)
        return self.activation(y.permute(0, 2, 1))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias}


class MaxPooling1D(Layer):
    """Max over windows of `pool_size` steps, every `strides` steps; padding 'same' pads with -inf (never picked)."""

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format, "MaxPooling1D")
        if padding not in ("valid", "same"):
            raise ValueError(f"MaxPooling1D: padding must be 'valid' or 'same', got {padding!r}")
        self.pool_size = _one_int(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else _one_int(strides, "strides")
        self.padding = padding

    def build(self, input_shape: Shape) -> None:
        _check_3d(self, input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], _out_length(input_shape[1], self.padding, self.pool_size, self.strides),
                input_shape[2])

    def call(self, inputs: Tensor) -> Tensor:
        _check_3d(self, inputs.shape)
        B, L, C = inputs.shape
        left, right = _pad(self.padding, L, self.pool_size, self.strides, 1)
        x = inputs
        if left or right:
            parts = [Tensor(np.full((B, n, C), -np.inf, dtype=inputs.dtype)) for n in (left, right)]
            x = concat([parts[0], inputs, parts[1]], axis=1)
        L_out = conv1d_output_length(L, self.pool_size, self.strides, 1, (left, right))
        if L_out < 1:
            raise incompatible(self.name, f"{L} steps are fewer than pool_size={self.pool_size}")
        windows = np.arange(L_out)[:, None] * self.strides + np.arange(self.pool_size)[None, :]
        return x[:, windows].max(axis=2)  # (B, L_out, pool, C) → (B, L_out, C); ties share the gradient

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


class _GlobalPooling1D(Layer):
    """A reduction over the steps, (batch, steps, channels) → (batch, channels) (keepdims: (batch, 1, channels))."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape: Shape) -> None:
        _check_3d(self, input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], 1, input_shape[2]) if self.keepdims else (input_shape[0], input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps; with a mask, the mean of the unmasked steps only (as Keras)."""

    supports_masking = True

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> np.ndarray | None:
        return None

    def call(self, inputs: Tensor, mask: np.ndarray | None = None) -> Tensor:
        _check_3d(self, inputs.shape)
        if mask is None:
            return inputs.mean(axis=1, keepdims=self.keepdims)
        m = Tensor(np.asarray(mask, dtype=inputs.dtype)[:, :, None])
        return (inputs * m).sum(axis=1, keepdims=self.keepdims) / m.sum(axis=1, keepdims=self.keepdims)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over the steps: (batch, steps, channels) → (batch, channels)."""

    def call(self, inputs: Tensor) -> Tensor:
        _check_3d(self, inputs.shape)
        return inputs.max(axis=1, keepdims=self.keepdims)


__all__ = ["Conv1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPooling1D"]
