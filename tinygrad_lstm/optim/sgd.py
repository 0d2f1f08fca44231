"""Stochastic gradient descent, with optional (Nesterov) momentum and L2 weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's ``torch.optim.SGD``, same defaults and update).

    For each parameter θ with gradient g, at step t (μ = momentum, τ = dampening, λ = weight_decay)::

        g ← g + λ·θ                                  if λ ≠ 0        (L2 penalty, added to the gradient)
        b ← g                                        at the first step, if μ ≠ 0
        b ← μ·b + (1 − τ)·g                          later steps, if μ ≠ 0
        g ← g + μ·b   (nesterov)   or   g ← b        if μ ≠ 0
        θ ← θ − lr·g

    With ``maximize=True`` the gradient is negated first (gradient ascent).
    State per parameter: ``momentum_buffer`` (only when momentum ≠ 0).
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        self._check_nonneg(group, "lr", "learning rate")
        self._check_nonneg(group, "momentum", "momentum value")
        self._check_nonneg(group, "weight_decay", "weight_decay value")
        if group.get("nesterov") and (group.get("momentum", 0) <= 0 or group.get("dampening", 0) != 0):
            raise ValueError(f"SGD: nesterov momentum requires momentum > 0 and dampening = 0, got "
                             f"momentum={group.get('momentum')!r}, dampening={group.get('dampening')!r}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        state = self.state
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p, d, g in self._params_with_grads(group):
                if maximize:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * d
                if momentum != 0:
                    st = state.get(p)
                    if st is None:
                        st = state[p] = {}
                    buf = st.get("momentum_buffer")
                    if buf is None:
                        buf = st["momentum_buffer"] = np.array(g, dtype=d.dtype)  # a copy
                    else:
                        buf *= momentum
                        if dampening != 0:
                            buf += (1 - dampening) * g
                        else:
                            buf += g
                    g = g + momentum * buf if nesterov else buf
                d -= lr * g
        return loss
