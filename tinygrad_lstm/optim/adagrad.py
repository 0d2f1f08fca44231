"""Adagrad: per-coordinate step sizes that shrink with the sum of all past squared gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adagrad(Optimizer):
    r"""Adagrad (PyTorch's ``torch.optim.Adagrad``, same defaults and update).

    For each parameter θ with gradient g, at step t = 1, 2, … (λ = weight_decay, η = lr_decay)::

        g  ← g + λ·θ                              if λ ≠ 0
        lr_t = lr / (1 + (t − 1)·η)
        s  ← s + g²                               sum of squared gradients (state "sum",
                                                  starting at initial_accumulator_value)
        θ  ← θ − lr_t · g / (√s + ε)

    With ``maximize=True`` g is negated first. State per parameter: ``step`` (int) and ``sum``; as in PyTorch
    it is created for every parameter when the optimizer is built, so `state_dict` lists it before any step.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-2,
                 lr_decay: float = 0.0, weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "learning rate")
        self._check_nonneg(group, "lr_decay", "lr_decay value")
        self._check_nonneg(group, "weight_decay", "weight_decay value")
        self._check_nonneg(group, "initial_accumulator_value", "initial_accumulator_value")
        self._check_nonneg(group, "eps", "epsilon value")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state.setdefault(p, self._new_state(p, group))

    @staticmethod
    def _new_state(p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        state = self.state
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p, d, g in self._params_with_grads(group):
                st = state.get(p)
                if st is None:  # e.g. after load_state_dict of a state without this parameter
                    st = state[p] = self._new_state(p, group)
                if maximize:
                    g = -g
                st["step"] = t = st["step"] + 1
                if weight_decay != 0:
                    g = g + weight_decay * d
                clr = lr / (1 + (t - 1) * lr_decay)
                s = st["sum"]
                tmp = np.multiply(g, g, out=np.empty_like(d))  # scratch (out= keeps 0-d an array)
                s += tmp
                np.sqrt(s, out=tmp)
                tmp += eps
                np.divide(g, tmp, out=tmp)
                tmp *= clr
                d -= tmp
        return loss
