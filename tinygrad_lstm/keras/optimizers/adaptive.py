"""Keras's RMSprop, Adam, AdamW and Adagrad. Their ε sits where Keras puts it (not where PyTorch does), so
each has its own small update rule here. For a variable θ with gradient g at step t = iterations + 1:

RMSprop (lr 0.001, ρ 0.9, ε 1e-7):
    v ← ρ·v + (1 − ρ)·g²
    ḡ ← ρ·ḡ + (1 − ρ)·g;  Δ = lr·g / √(v − ḡ² + ε)     if centered,   else  Δ = lr·g / √(v + ε)
    m ← μ·m + Δ;  θ ← θ − m                              if momentum μ > 0, else θ ← θ − Δ

Adam (lr 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7):
    α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)
    m ← m + (g − m)·(1 − β₁);   v ← v + (g² − v)·(1 − β₂)
    v̂ ← max(v̂, v) and use v̂ for v                     if amsgrad
    θ ← θ − α·m / (√v + ε)
  PyTorch divides by √v/√(1 − β₂ᵗ) + ε instead: the same as this with ε√(1 − β₂ᵗ) for ε, so the two differ
  most in the first steps.

AdamW: Adam plus decoupled weight decay λ = 0.004 (θ ← θ − lr·λ·θ before the update, see `base`).

Adagrad (lr 0.001, initial accumulator 0.1, ε 1e-7):
    s ← s + g²;   θ ← θ − lr·g / √(s + ε)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...tensor import Tensor
from .base import Optimizer


class RMSprop(Optimizer):
    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), centered

    def update_step(self, gradient: np.ndarray, variable: Tensor, learning_rate: float) -> None:
        g, rho = gradient, self.rho
        st = self._slots(variable, "velocity", "momentum", "average_gradient")
        v = st["velocity"]
        v *= rho
        v += (1 - rho) * g * g
        if self.centered:
            a = st["average_gradient"]
            a *= rho
            a += (1 - rho) * g
            denominator = v - a * a + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = learning_rate * g / np.sqrt(denominator)
        if self.momentum > 0:
            m = st["momentum"]
            m *= self.momentum
            m += increment
            variable.data -= m
        else:
            variable.data -= increment

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adam(Optimizer):
    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), amsgrad

    def update_step(self, gradient: np.ndarray, variable: Tensor, learning_rate: float) -> None:
        g, b1, b2 = gradient, self.beta_1, self.beta_2
        t = self.iterations + 1
        alpha = learning_rate * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        st = self._slots(variable, "momentum", "velocity", "velocity_hat")
        m, v = st["momentum"], st["velocity"]
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        if self.amsgrad:
            v = np.maximum(st["velocity_hat"], v, out=st["velocity_hat"])
        variable.data -= (m * np.asarray(alpha, dtype=m.dtype)) / (np.sqrt(v) + np.asarray(self.epsilon, m.dtype))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)


class Adagrad(Optimizer):
    def __init__(self, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)

    def update_step(self, gradient: np.ndarray, variable: Tensor, learning_rate: float) -> None:
        st = self.state.get(variable)
        if st is None:
            st = self.state[variable] = {"accumulator": np.full_like(variable.data, self.initial_accumulator_value)}
        s = st["accumulator"]
        s += gradient * gradient
        variable.data -= learning_rate * gradient / np.sqrt(s + self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


__all__ = ["Adagrad", "Adam", "AdamW", "RMSprop"]
