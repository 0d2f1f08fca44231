"""tinygrad_lstm: a from-scratch autodiff framework to learn, teach and experiment with LSTMs.

    from tinygrad_lstm import Tensor
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()      # x.grad == [2, 4]

PyTorch's module-level names work too (``import tinygrad_lstm as torch``): ``torch.tensor``, ``torch.randn``,
``torch.zeros``, ``torch.float32``, ``torch.argmax``, ``torch.einsum``, ...
"""

from . import nn, optim, utils  # subpackages as attributes, as `import torch` gives torch.nn, torch.optim
from .autograd import enable_grad, is_grad_enabled, no_grad
from .factory import (
    Size,
    arange,
    as_tensor,
    bool_,
    cuda,
    device,
    empty,
    empty_like,
    eye,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    int8,
    int16,
    int32,
    int64,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    uint8,
    zeros,
    zeros_like,
)
from .functions import (
    abs,
    acos,
    acosh,
    all,
    allclose,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    chunk,
    clamp,
    clip,
    clone,
    cos,
    cosh,
    cumprod,
    cumsum,
    einsum,
    equal,
    erf,
    exp,
    exp2,
    expm1,
    flatten,
    flip,
    floor,
    floor_divide,
    gather,
    isclose,
    isfinite,
    isinf,
    isnan,
    lerp,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logaddexp,
    logsumexp,
    masked_fill,
    matmul,
    max,
    mean,
    min,
    nonzero,
    norm,
    numel,
    permute,
    prod,
    relu,
    remainder,
    repeat_interleave,
    reshape,
    roll,
    round,
    rsqrt,
    scatter,
    scatter_add,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    sort,
    split,
    sqrt,
    squeeze,
    std,
    sum,
    tan,
    tanh,
    topk,
    transpose,
    tril,
    triu,
    trunc,
    unflatten,
    unsqueeze,
    var,
)
from .functions import torch_where as where
from .gradcheck import GradcheckError, gradcheck
from .kernels import backend, get_backend, set_backend
from .random import manual_seed
from .serialization import CheckpointError, load, save
from .tensor import Tensor, cat, concat, maximum, minimum, stack

# torch's dtype aliases; they shadow the builtins only as attributes of this package (torch.float, torch.long)
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
bool = bool_  # noqa: A001

__version__ = "0.1.0"

__all__ = [
    "abs", "all", "allclose", "amax", "amin", "any", "arange", "argmax", "argmin", "argsort", "as_tensor", "backend",
    "bool", "bool_", "cat", "CheckpointError", "chunk", "clamp", "clip", "clone", "concat", "cuda", "cumprod", "cumsum",
    "device", "double", "einsum", "empty", "empty_like", "enable_grad", "equal", "exp", "eye", "flatten", "flip",
    "float", "float16", "float32", "float64", "floor_divide", "from_numpy", "full", "full_like", "gather",
    "get_backend", "gradcheck", "GradcheckError", "half", "int", "int16", "int32", "int64", "int8", "is_grad_enabled",
    "isclose", "isfinite", "isinf", "isnan", "linspace", "load", "log", "log_softmax", "logsumexp", "long",
    "manual_seed", "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "nn", "no_grad", "nonzero",
    "norm", "numel", "ones", "ones_like", "optim", "permute", "prod", "rand", "rand_like", "randint", "randint_like",
    "randn", "randn_like", "randperm", "relu", "remainder", "repeat_interleave", "reshape", "roll", "save", "scatter",
    "scatter_add", "set_backend", "short", "sigmoid", "Size", "softmax", "sort", "split", "sqrt", "squeeze", "stack",
    "std", "sum", "tanh", "Tensor", "tensor", "topk", "transpose", "tril", "triu", "uint8", "unflatten", "unsqueeze",
    "utils",
    "var", "where", "zeros", "zeros_like",
    # pointwise math
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "erf", "exp2", "expm1", "floor",
    "lerp", "log10", "log1p", "log2", "logaddexp", "round", "rsqrt", "sign", "sin", "sinh", "tan", "trunc",
]
