"""Activations by Keras name: each maps a Tensor to a Tensor through autograd ops.

    sigmoid(x) = 1 / (1 + e⁻ˣ)            tanh(x)                 relu(x) = max(x, 0)
    softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ  (last axis)                     linear(x) = x
    softplus(x) = ln(1 + eˣ)              elu(x) = x if x > 0 else eˣ - 1
    hard_sigmoid(x) = clip(x/6 + 1/2, 0, 1)                       exponential(x) = eˣ
"""

from __future__ import annotations

from collections.abc import Callable

from ..nn import functional as F
from ..tensor import Tensor, where

Activation = Callable[[Tensor], Tensor]


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def relu(x: Tensor) -> Tensor:
    return x.relu()


def softmax(x: Tensor) -> Tensor:
    return x.softmax(axis=-1)


def linear(x: Tensor) -> Tensor:
    return x


def softplus(x: Tensor) -> Tensor:
    return F.softplus(x)


def elu(x: Tensor) -> Tensor:
    return where(x.data > 0, x, x.exp() - 1.0)


def hard_sigmoid(x: Tensor) -> Tensor:
    return (x * (1.0 / 6.0) + 0.5).clip(0.0, 1.0)


def exponential(x: Tensor) -> Tensor:
    return x.exp()


_BY_NAME: dict[str, Activation] = {
    "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "softmax": softmax, "linear": linear, "softplus": softplus,
    "elu": elu, "hard_sigmoid": hard_sigmoid, "exponential": exponential,
}


def get(identifier: str | Activation | None) -> Activation:
    """An activation from its name, a callable (used as is), or None (linear, as Keras)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(f"Unknown activation function: {identifier!r}. Known activations: "
                     f"{', '.join(sorted(_BY_NAME))} (or pass a function of a Tensor)")


def serialize(fn: Activation) -> str | Activation:
    """The name of a known activation, else the function itself."""
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    return fn


__all__ = ["elu", "exponential", "get", "hard_sigmoid", "linear", "relu", "serialize", "sigmoid", "softmax",
           "softplus", "tanh"]
