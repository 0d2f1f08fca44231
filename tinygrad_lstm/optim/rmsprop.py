"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""RMSprop (PyTorch's ``torch.optim.RMSprop``, same defaults and update).

    For each parameter θ with gradient g (α = alpha, μ = momentum, λ = weight_decay)::

        g  ← g + λ·θ                              if λ ≠ 0
        s  ← α·s + (1 − α)·g²                     running mean of g²             (state "square_avg")
        ḡ  ← α·ḡ + (1 − α)·g                      if centered: running mean of g (state "grad_avg")
        r  ← √(s − ḡ²) + ε    if centered,   else   r ← √s + ε
        b  ← μ·b + g / r;   θ ← θ − lr·b          if μ > 0                       (state "momentum_buffer")
        θ  ← θ − lr·g / r                         otherwise

    s, ḡ and b start at zero. With ``maximize=True`` g is negated first.
    State per parameter: ``step`` (int), ``square_avg``, plus ``momentum_buffer`` / ``grad_avg`` when used.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "learning rate")
        self._check_nonneg(group, "eps", "epsilon value")
        self._check_nonneg(group, "momentum", "momentum value")
        self._check_nonneg(group, "weight_decay", "weight_decay value")
        self._check_nonneg(group, "alpha", "alpha value")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        state = self.state
        for group in self.param_groups:
            lr, alpha, eps, weight_decay = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p, d, g in self._params_with_grads(group):
                st = state.get(p)
                if st is None:
                    st = state[p] = {"step": 0, "square_avg": np.zeros_like(d)}
                    if momentum > 0:
                        st["momentum_buffer"] = np.zeros_like(d)
                    if centered:
                        st["grad_avg"] = np.zeros_like(d)
                if maximize:
                    g = -g
                st["step"] += 1
                if weight_decay != 0:
                    g = g + weight_decay * d
                sq = st["square_avg"]
                tmp = np.multiply(g, g, out=np.empty_like(d))  # scratch (out= keeps 0-d an array)
                tmp *= 1 - alpha
                sq *= alpha
                sq += tmp
                if centered:
                    ga = st["grad_avg"]
                    np.multiply(g, 1 - alpha, out=tmp)
                    ga *= alpha
                    ga += tmp
                    np.multiply(ga, ga, out=tmp)
                    np.subtract(sq, tmp, out=tmp)
                    np.sqrt(tmp, out=tmp)
                else:
                    np.sqrt(sq, out=tmp)
                tmp += eps
                np.divide(g, tmp, out=tmp)
                if momentum > 0:
                    buf = st["momentum_buffer"]
                    buf *= momentum
                    buf += tmp
                    np.multiply(buf, lr, out=tmp)
                else:
                    tmp *= lr
                d -= tmp
        return loss
