"""Keras's SGD, run by tinygrad_lstm.optim.SGD: for a constant learning rate the two rules are the same.

Keras writes momentum μ with a velocity v that includes the learning rate:

    v ← μ·v − lr·g;   θ ← θ + v                      (nesterov: θ ← θ + μ·v − lr·g)

PyTorch's buffer b leaves it out: b ← μ·b + g; θ ← θ − lr·b (nesterov: θ ← θ − lr·(g + μ·b)). With v = −lr·b the
updates agree step for step. (If the learning rate changes during training, Keras's velocity remembers the
old rates, PyTorch's buffer does not: here the PyTorch form is used.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ... import optim
from ...tensor import Tensor
from .base import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum; Keras's defaults: learning_rate=0.01, momentum=0."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self._torch: optim.SGD | None = None

    def build(self, variables: Iterable[Tensor]) -> None:
        super().build(variables)
        assert self.variables is not None
        self._torch = optim.SGD(self.variables, lr=self.learning_rate, momentum=self.momentum,
                                nesterov=self.nesterov and self.momentum > 0)

    def _update(self, ps: list[Tensor], grads: list[np.ndarray], lr: float) -> None:
        assert self._torch is not None
        for p, g in zip(ps, grads):  # the (clipped) gradients the rule should see
            p.grad = g
        self._torch.param_groups[0]["lr"] = lr
        self._torch.step()

    def save_own_variables(self, names: dict[int, str]) -> dict[str, Any]:
        store = super().save_own_variables(names)
        if self._torch is not None:  # the momentum buffers live in the optim.SGD that runs the rule
            store["momentum"] = self._torch.state_dict()
        return store

    def load_own_variables(self, store: dict[str, Any], variables: dict[str, Tensor],
                           trainable: Sequence[Tensor]) -> None:
        super().load_own_variables(store, variables, trainable)
        if "momentum" in store and self._torch is not None:
            self._torch.load_state_dict(store["momentum"])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


__all__ = ["SGD"]
