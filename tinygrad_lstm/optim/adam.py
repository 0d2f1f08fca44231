"""Adam (with L2 weight decay added to the gradient) and AdamW (with decoupled weight decay)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..kernels import active as K
from ..tensor import Tensor
from .optimizer import Optimizer


class Adam(Optimizer):
    r"""Adam (PyTorch's ``torch.optim.Adam``, same defaults and update).

    For each parameter θ with gradient g, at step t = 1, 2, … (β₁, β₂ = betas, λ = weight_decay)::

        g  ← g + λ·θ                              if λ ≠ 0 (Adam: L2 penalty, added to the gradient)
        θ  ← θ·(1 − lr·λ)                         if λ ≠ 0 (AdamW instead: decoupled weight decay)
        m  ← β₁·m + (1 − β₁)·g                    running mean of the gradient        (state "exp_avg")
        v  ← β₂·v + (1 − β₂)·g²                   running mean of its square          (state "exp_avg_sq")
        v̂  ← max(v̂, v)                            if amsgrad, and use v̂ for v below   (state "max_exp_avg_sq")
        θ  ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    m and v start at zero; dividing by 1 − βᵗ undoes that bias. With ``maximize=True`` g is negated first.
    State per parameter: ``step`` (int), ``exp_avg``, ``exp_avg_sq``, and ``max_exp_avg_sq`` with amsgrad.
    """

    _decoupled = False

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 amsgrad: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        self._check_nonneg(group, "lr", "learning rate")
        self._check_nonneg(group, "eps", "epsilon value")
        self._check_nonneg(group, "weight_decay", "weight_decay value")
        betas = group.get("betas", (0.9, 0.999))
        try:
            ok = len(betas) == 2 and all(0.0 <= b < 1.0 for b in betas)
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"{name}: invalid betas={betas!r} (must be two numbers, each in [0, 1))")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        state = self.state
        decoupled = self._decoupled
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
            for p, d, g in self._params_with_grads(group):
                st = state.get(p)
                if st is None:
                    st = state[p] = {"step": 0, "exp_avg": np.zeros_like(d), "exp_avg_sq": np.zeros_like(d)}
                if amsgrad and "max_exp_avg_sq" not in st:
                    st["max_exp_avg_sq"] = np.zeros_like(d)
                if maximize:
                    g = -g
                st["step"] = t = st["step"] + 1
                if weight_decay != 0:
                    if decoupled:
                        d *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * d
                K().adam_update(d, g, st["exp_avg"], st["exp_avg_sq"], st.get("max_exp_avg_sq") if amsgrad else None,
                                beta1, beta2, lr / (1 - beta1**t), math.sqrt(1 - beta2**t), eps)
        return loss


class AdamW(Adam):
    r"""AdamW (PyTorch's ``torch.optim.AdamW``): Adam with *decoupled* weight decay (default 1e-2).

    The decay shrinks the weights directly, ``θ ← θ·(1 − lr·λ)``, before the Adam update, instead of adding
    ``λ·θ`` to the gradient (where Adam's normalisation would rescale it). Otherwise the update is `Adam`'s::

        θ  ← θ·(1 − lr·λ)
        m  ← β₁·m + (1 − β₁)·g
        v  ← β₂·v + (1 − β₂)·g²
        v̂  ← max(v̂, v)                            if amsgrad, and use v̂ for v below
        θ  ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
    """

    _decoupled = True

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)
