"""Neural-network building blocks with PyTorch's names: modules, layers, recurrent cells, init, clipping."""

from . import functional, init, utils
from .cells import GRUCell, LSTMCell, PeepholeLSTMCell, RNNCell, RNNCellBase
from .container import ModuleList, Sequential
from .linear import Dropout, Embedding, Linear
from .module import Module, Parameter, StateDictError
from .recurrent import GRU, LSTM, RNN, RNNBase

__all__ = [
    "GRU", "GRUCell", "LSTM", "LSTMCell", "Dropout", "Embedding", "Linear", "Module", "ModuleList", "Parameter",
    "PeepholeLSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase", "Sequential", "StateDictError", "functional",
    "init", "utils",
]
