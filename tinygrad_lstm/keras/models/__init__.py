"""Keras models: `Sequential` (a stack of layers) and `Model` (subclass it and write `call`)."""

from .sequential import Sequential
from .training import Model

__all__ = ["Model", "Sequential"]
