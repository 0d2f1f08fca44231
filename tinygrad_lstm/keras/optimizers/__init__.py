"""Keras optimizers with Keras's defaults and update rules: SGD, RMSprop, Adam, AdamW, Adagrad.

``model.compile(optimizer="adam")`` uses `get("adam")`, i.e. ``Adam()`` with its default learning rate.
"""

from __future__ import annotations

from typing import Any

from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .base import Optimizer
from .sgd import SGD

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad}


def get(identifier: Any) -> Optimizer:
    """An optimizer from its name (any case: "adam", "Adam") or an Optimizer object (used as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    hint = ""
    if hasattr(identifier, "param_groups"):
        hint = (" (this is a tinygrad_lstm.optim optimizer, already bound to parameters; pass a Keras one such "
                "as keras.optimizers.Adam(learning_rate=1e-3))")
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}{hint}. Known optimizers: "
                     f"{', '.join(sorted(_BY_NAME))}")


__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get"]
