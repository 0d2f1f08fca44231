"""Neural-network building blocks with PyTorch's names: modules, layers, activations, losses, recurrent cells,
init, clipping and packed sequences (`nn.utils.rnn`)."""

from . import functional, init, utils
from .activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from .cells import GRUCell, LSTMCell, PeepholeLSTMCell, RNNCell, RNNCellBase
from .container import ModuleList, Sequential
from .flatten import Flatten, Identity
from .linear import Dropout, Embedding, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter, StateDictError
from .normalization import LayerNorm
from .recurrent import GRU, LSTM, RNN, RNNBase

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CELU", "CrossEntropyLoss", "Dropout", "ELU", "Embedding", "Flatten",
    "functional", "GELU", "GRU", "GRUCell", "Hardsigmoid", "Hardswish", "Hardtanh", "Identity", "init", "L1Loss",
    "LayerNorm", "LeakyReLU", "Linear", "LogSigmoid", "LogSoftmax", "LSTM", "LSTMCell", "Mish", "Module",
    "ModuleList", "MSELoss", "NLLLoss", "Parameter", "PeepholeLSTMCell", "ReLU", "ReLU6", "RNN", "RNNBase", "RNNCell",
    "RNNCellBase", "SELU", "Sequential", "Sigmoid", "SiLU", "Softmax", "Softmin", "Softplus", "Softsign",
    "StateDictError", "Tanh", "utils",
]
