"""Keras layers (``from tinygrad_lstm.keras.layers import LSTM, Dense, ...``), built on tinygrad_lstm's nn cells
and autograd. Weights use Keras's names and layouts, so `get_weights`/`set_weights` exchange them with Keras."""

from .base import Layer
from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .core import Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, InputSpec
from .recurrent import GRU, LSTM, SimpleRNN
from .wrappers import Bidirectional, TimeDistributed

__all__ = [
    "GRU", "LSTM", "Activation", "Bidirectional", "Dense", "Dropout", "Embedding", "Flatten", "GRUCell", "Input",
    "InputLayer", "InputSpec", "LSTMCell", "Layer", "SimpleRNN", "SimpleRNNCell", "TimeDistributed",
]
