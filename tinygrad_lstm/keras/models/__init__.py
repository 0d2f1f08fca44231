"""Keras models: `Sequential` (a stack of layers), functional `Model(inputs, outputs)`, and `Model` subclasses
(write `call`); `load_model` reads what `model.save` wrote."""

from .functional import Functional
from .model_file import load_model, save_model
from .sequential import Sequential
from .training import Model

__all__ = ["Functional", "Model", "Sequential", "load_model", "save_model"]
