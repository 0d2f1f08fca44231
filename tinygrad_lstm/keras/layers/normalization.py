"""BatchNormalization and LayerNormalization (Keras's arguments, defaults and weight order).

    BatchNormalization, per feature (the `axis`, default last), statistics over every other axis:
      training:   y = γ·(x - μ_B)/√(σ²_B + ε) + β,  μ_B, σ²_B the batch's mean and (biased) variance, then
                  moving_mean ← m·moving_mean + (1 - m)·μ_B,  moving_variance ← m·moving_variance + (1 - m)·σ²_B
      inference:  y = γ·(x - moving_mean)/√(moving_variance + ε) + β
      weights gamma, beta (trained), moving_mean, moving_variance (not trained); momentum m = 0.99, ε = 1e-3.
      A layer set trainable=False (itself or a model holding it) always runs in inference mode (as Keras).
    LayerNormalization, per sample, over the `axis` (default last): y = γ·(x - μ)/√(σ² + ε) + β, ε = 1e-3.

The gradients come from autograd through the Tensor expressions (the batch statistics are differentiated too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...tensor import Tensor
from .base import Layer, Shape, incompatible, show_shape


def _axes(axis: int | Sequence[int], ndim: int, layer: str) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = tuple(sorted(int(a) % ndim for a in axes))
    if any(not -ndim <= int(a) < ndim for a in axes) or 0 in out:
        raise ValueError(f'Layer "{layer}": axis={axis} is out of range for inputs with {ndim} axes '
                         "(the batch axis 0 can't be one of them)")
    return out


class _Normalization(Layer):
    supports_masking = True

    def __init__(self, axis: int | Sequence[int], epsilon: float, center: bool, scale: bool,
                 beta_initializer: Any, gamma_initializer: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), bool(center), bool(scale)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self._feature_axes: tuple[int, ...] = ()

    def _param_shape(self, input_shape: Shape) -> tuple[int, ...]:
        self._feature_axes = _axes(self.axis, len(input_shape), self.name)
        sizes = [input_shape[a] for a in self._feature_axes]
        if None in sizes:
            raise incompatible(self.name, f"axis {self.axis} of input shape {show_shape(input_shape)} must be known")
        return tuple(int(s) for s in sizes)

    def _checked(self, x: Tensor) -> Tensor:
        built = self._build_input_shape or ()
        if x.ndim != len(built) or any(x.shape[a] != built[a] for a in self._feature_axes):
            raise incompatible(self.name, f"expected inputs of shape {show_shape(built)}, got "
                                          f"{show_shape(x.shape)}")
        return x if x.dtype.kind == "f" else x.astype(np.float32)

    def _affine_weights(self, shape: tuple[int, ...]) -> None:
        if self.scale:
            self.add_weight("gamma", shape, self.gamma_initializer)
        else:
            self.gamma = None
        if self.center:
            self.add_weight("beta", shape, self.beta_initializer)
        else:
            self.beta = None

    def _broadcast(self, p: Tensor, ndim: int) -> Tensor:
        """A (features…) weight shaped to broadcast against inputs with `ndim` axes."""
        shape = [1] * ndim
        for a, n in zip(self._feature_axes, p.shape):
            shape[a] = n
        return p.reshape(tuple(shape))

    def _normalize(self, x: Tensor, mean: Tensor, var: Tensor) -> Tensor:
        y = (x - mean) / (var + self.epsilon).sqrt()
        if self.gamma is not None:
            y = y * self._broadcast(self.gamma, x.ndim)
        if self.beta is not None:
            y = y + self._broadcast(self.beta, x.ndim)
        return y

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}


class BatchNormalization(_Normalization):
    """Normalize each feature by the batch's statistics in training, by their moving averages in inference."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 synchronized: bool = False, **kwargs: Any) -> None:
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer, **kwargs)
        self.momentum = float(momentum)
        self.moving_mean_initializer, self.moving_variance_initializer = (moving_mean_initializer,
                                                                          moving_variance_initializer)

    def build(self, input_shape: Shape) -> None:
        shape = self._param_shape(input_shape)
        self._affine_weights(shape)
        self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", shape, self.moving_variance_initializer, trainable=False)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        x = self._checked(inputs)
        if not (training and self.trainable):
            return self._normalize(x, self._broadcast(self.moving_mean, x.ndim),
                                   self._broadcast(self.moving_variance, x.ndim))
        reduce = tuple(a for a in range(x.ndim) if a not in self._feature_axes)
        mean = x.mean(axis=reduce, keepdims=True)
        var = x.var(axis=reduce, keepdims=True, correction=0)  # biased, as Keras (var is unbiased by default)
        m = np.float32(self.momentum)
        for stat, batch in ((self.moving_mean, mean), (self.moving_variance, var)):
            stat.data[...] = stat.data * m + batch.data.reshape(stat.shape) * (1 - m)
        return self._normalize(x, mean, var)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum}


class LayerNormalization(_Normalization):
    """Normalize each sample over `axis` (its own mean and variance), then scale by γ and shift by β."""

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, rms_scaling: bool = False, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        if rms_scaling:
            raise NotImplementedError("LayerNormalization: rms_scaling=True is not supported")
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer, **kwargs)

    def build(self, input_shape: Shape) -> None:
        self._affine_weights(self._param_shape(input_shape))

    def call(self, inputs: Tensor) -> Tensor:
        x = self._checked(inputs)
        axes = self._feature_axes
        return self._normalize(x, x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True, correction=0))


__all__ = ["BatchNormalization", "LayerNormalization"]
