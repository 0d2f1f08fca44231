"""`Optimizer`: what Keras's optimizers share. Created without the weights (``Adam(learning_rate=1e-3)``), bound
to them at the first update, as in Keras. One training step, `apply(variables)`:

    g ← each variable's .grad (left by backward())
    g ← g · c / max(‖g‖, c)                per variable, if clipnorm = c
    g ← g · c / max(‖g‖_global, c)         all together, if global_clipnorm = c
    g ← clip(g, -c, c)                     if clipvalue = c
    θ ← θ - lr · λ · θ                     if weight_decay = λ (decoupled, before the update, as Keras)
    θ ← update_step(g, θ, lr)              the optimizer's own rule
    iterations ← iterations + 1
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...tensor import Tensor


class Optimizer:
    """Base class of the Keras optimizers; subclasses define `update_step` (or `_update` for all at once)."""

    def __init__(self, learning_rate: float, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if "lr" in kwargs:
            warnings.warn("The `lr` argument is deprecated, use `learning_rate` instead.", UserWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        for ignored in ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                        "gradient_accumulation_steps", "decay", "jit_compile"):
            if kwargs.get(ignored) not in (None, False, 0, 0.0, 0.99):
                raise NotImplementedError(f"{type(self).__name__}: `{ignored}` is not supported")
            kwargs.pop(ignored, None)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        if not float(learning_rate) >= 0:
            raise ValueError(f"{type(self).__name__}: learning_rate must be >= 0, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.weight_decay, self.clipnorm, self.clipvalue = weight_decay, clipnorm, clipvalue
        self.global_clipnorm = global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self.variables: list[Tensor] | None = None
        self.state: dict[Tensor, dict[str, np.ndarray]] = {}

    @property
    def lr(self) -> float:  # Keras 2's name
        return self.learning_rate

    @lr.setter
    def lr(self, value: float) -> None:
        self.learning_rate = float(value)

    def build(self, variables: Iterable[Tensor]) -> None:
        """Bind to the variables it will update (done at the first `apply`)."""
        self.variables = list(variables)

    # ----- a step -------------------------------------------------------------------------------------------
    def apply(self, variables: Sequence[Tensor]) -> None:
        """Update every variable that has a gradient, from its `.grad`."""
        if self.variables is None:
            self.build(variables)
        ps = [p for p in variables if p.grad is not None]
        grads = [np.asarray(p.grad, dtype=p.dtype) for p in ps]
        self._step(ps, grads)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> None:
        """Keras's form: ``opt.apply_gradients(zip(grads, variables))``."""
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if self.variables is None:
            self.build([v for _, v in pairs])
        self._step([v for _, v in pairs], [np.asarray(getattr(g, "data", g), dtype=v.dtype) for g, v in pairs])

    def _step(self, ps: list[Tensor], grads: list[np.ndarray]) -> None:
        if not ps:
            raise ValueError("No gradients provided for any variable.")
        grads = self._clip(grads)
        lr = float(self.learning_rate)
        if self.weight_decay:
            for p in ps:
                p.data -= p.data * np.asarray(self.weight_decay * lr, dtype=p.dtype)
        self._update(ps, grads, lr)
        self.iterations += 1

    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipnorm:
            c = float(self.clipnorm)
            return [g * np.asarray(c / max(float(np.linalg.norm(g)), c), dtype=g.dtype) for g in grads]
        if self.global_clipnorm:
            c = float(self.global_clipnorm)
            norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)))
            return [g * np.asarray(c / max(norm, c), dtype=g.dtype) for g in grads]
        if self.clipvalue:
            c = float(self.clipvalue)
            return [np.clip(g, -c, c) for g in grads]
        return grads

    def _update(self, ps: list[Tensor], grads: list[np.ndarray], lr: float) -> None:
        for p, g in zip(ps, grads):
            self.update_step(g, p, lr)

    def update_step(self, gradient: np.ndarray, variable: Tensor, learning_rate: float) -> None:
        raise NotImplementedError

    def _slots(self, p: Tensor, *names: str) -> dict[str, np.ndarray]:
        """This variable's state arrays (zeros at first)."""
        st = self.state.get(p)
        if st is None:
            st = self.state[p] = {n: np.zeros_like(p.data) for n in names}
        return st

    # ----- saving (model.save / load_model) ----------------------------------------------------------------
    def save_own_variables(self, names: dict[int, str]) -> dict[str, Any]:
        """The step count and every variable's state arrays, keyed by the variable's name (`names`: id → name)."""
        return {"iterations": self.iterations,
                "slots": {names[id(p)]: {k: v.copy() for k, v in st.items()} for p, st in self.state.items()}}

    def load_own_variables(self, store: dict[str, Any], variables: dict[str, Tensor],
                           trainable: Sequence[Tensor]) -> None:
        """Put back what `save_own_variables` returned, onto the variables of the same names; `trainable` (the
        model's trainable weights, in order) is what the optimizer is bound to, as at its first step."""
        missing = sorted(set(store["slots"]) - set(variables))
        if missing:
            raise ValueError(f"{type(self).__name__}: saved state for variables {missing}, which the model lacks")
        self.build(trainable)
        self.iterations = int(store["iterations"])
        self.state = {variables[n]: {k: np.array(v, dtype=variables[n].dtype) for k, v in st.items()}
                      for n, st in store["slots"].items()}

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "learning_rate": self.learning_rate, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} learning_rate={self.learning_rate:g}, iterations={self.iterations}>"


__all__ = ["Optimizer"]
