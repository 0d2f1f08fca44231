"""tinygrad_lstm: a from-scratch autodiff framework to learn, teach and experiment with LSTMs.

    from tinygrad_lstm import Tensor
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()      # x.grad == [2, 4]
"""

from . import nn, optim  # subpackages as attributes, as `import torch` gives torch.nn and torch.optim
from .autograd import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .kernels import backend, get_backend, set_backend
from .random import manual_seed
from .serialization import CheckpointError, load, save
from .tensor import Tensor, cat, concat, maximum, minimum, stack, where

__version__ = "0.1.0"

__all__ = [
    "CheckpointError", "GradcheckError", "Tensor", "backend", "cat", "concat", "enable_grad", "get_backend",
    "gradcheck", "is_grad_enabled", "load", "manual_seed", "maximum", "minimum", "nn", "no_grad", "optim", "save",
    "set_backend", "stack", "where",
]
