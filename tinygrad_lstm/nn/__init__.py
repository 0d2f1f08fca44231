"""Neural-network building blocks with PyTorch's names: modules, layers, activations, losses, recurrent cells,
init, clipping and packed sequences (`nn.utils.rnn`)."""

from . import functional, init, utils
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .cells import GRUCell, LSTMCell, PeepholeLSTMCell, RNNCell, RNNCellBase
from .container import ModuleList, Sequential
from .flatten import Flatten, Identity
from .linear import Dropout, Embedding, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter, StateDictError
from .normalization import LayerNorm
from .recurrent import GRU, LSTM, RNN, RNNBase

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Embedding", "Flatten", "GELU", "GRU", "GRUCell",
    "Identity", "L1Loss", "LSTM", "LSTMCell", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module",
    "ModuleList", "NLLLoss", "Parameter", "PeepholeLSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase", "ReLU",
    "Sequential", "SiLU", "Sigmoid", "Softmax", "Softplus", "StateDictError", "Tanh", "functional", "init", "utils",
]
