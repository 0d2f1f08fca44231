"""Keras layers (``from tinygrad_lstm.keras.layers import LSTM, Dense, ...``), built on tinygrad_lstm's nn cells
and autograd. Weights use Keras's names and layouts, so `get_weights`/`set_weights` exchange them with Keras."""

from typing import Any

from .base import Layer, serialize
from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .convolutional import Conv1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, InputSpec, Masking
from .merging import Add, Concatenate, add, concatenate
from .normalization import BatchNormalization, LayerNormalization
from .recurrent import GRU, LSTM, SimpleRNN
from .reshaping import Permute, RepeatVector, Reshape
from .symbolic import KerasTensor
from .wrappers import Bidirectional, TimeDistributed

Convolution1D, MaxPool1D, GlobalAvgPool1D, GlobalMaxPool1D = Conv1D, MaxPooling1D, GlobalAveragePooling1D, \
    GlobalMaxPooling1D  # Keras's aliases


def deserialize(config: dict[str, Any]) -> Layer:
    """A new layer from `serialize`'s dict; the class must be one of this module's layers (or a model)."""
    from .. import models

    name = config.get("class_name")
    cls = globals().get(name) or getattr(models, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"Unknown layer: {name!r}. Layers defined outside tinygrad_lstm.keras.layers can't be "
                         "rebuilt from a saved config")
    return cls.from_config(dict(config["config"]))


__all__ = [
    "GRU", "LSTM", "Activation", "Add", "BatchNormalization", "Bidirectional", "Concatenate", "Conv1D",
    "Convolution1D", "Dense", "Dropout", "Embedding", "Flatten", "GRUCell", "GlobalAvgPool1D",
    "GlobalAveragePooling1D", "GlobalMaxPool1D", "GlobalMaxPooling1D", "Input", "InputLayer", "InputSpec",
    "KerasTensor", "LSTMCell", "Layer", "LayerNormalization", "Masking", "MaxPool1D", "MaxPooling1D", "Permute",
    "RepeatVector", "Reshape", "SimpleRNN", "SimpleRNNCell", "TimeDistributed", "add", "concatenate",
    "deserialize", "serialize",
]
