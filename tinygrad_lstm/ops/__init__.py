"""The ops: one `Function` each, its forward next to its local derivative.

- `elementwise`: + - * / ** and the pointwise functions (exp, log, tanh, sigmoid, relu, ...), where; each stated
  as its forward `f` next to its derivative `df`, plain math (`expr.py`) every backend is derived from
- `pointwise`: trigonometric, hyperbolic, log2/log10/exp2, erf, rounding, logaddexp, lerp (the same style)
- `activations`: elu, selu, celu, hardtanh, hardsigmoid, hardswish, softsign (the same style)
- `reduce`: sum, mean, max, min
- `movement`: reshape, transpose, expand, indexing, concat, stack
- `matmul`: matrix products, 1-D to batched
- `softmax`: softmax, log_softmax, logsumexp (numerically stable)
- `scan`: cumsum, cumprod, prod (exact where inputs are zero)
- `indexing`: scatter, scatter_add (gather is a GetItem on `index_grids`)
- `einsum`: Einstein summation over any number of operands
- `conv`: 1-D convolution (torch's conv1d: channels first, stride, padding, dilation)
"""

from .activations import Celu, Elu, Hardsigmoid, Hardswish, Hardtanh, Selu, Softsign
from .conv import Conv1d
from .einsum import Einsum
from .elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Relu,
    Sigmoid,
    Sqrt,
    Sub,
    Tanh,
    Where,
)
from .indexing import Scatter
from .matmul import MatMul
from .movement import Clone, Concat, Contiguous, Expand, GetItem, Reshape, Stack, Transpose
from .pointwise import (
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atanh,
    Ceil,
    Cos,
    Cosh,
    Erf,
    Exp2,
    Expm1,
    Floor,
    Lerp,
    Log1p,
    Log2,
    Log10,
    LogAddExp,
    Round,
    Rsqrt,
    Sign,
    Sin,
    Sinh,
    Tan,
    Trunc,
)
from .reduce import Max, Mean, Min, Std, Sum
from .scan import CumProd, CumSum, Prod
from .softmax import LogSoftmax, LogSumExp, Softmax

__all__ = [
    "Abs", "Acos", "Acosh", "Add", "Asin", "Asinh", "Atan", "Atanh", "Cast", "Ceil", "Celu", "Clip", "Clone",
    "Concat", "Conv1d", "CumProd", "CumSum", "Einsum", "Prod", "Scatter",
    "Contiguous", "Cos", "Cosh", "Div", "Elu", "Erf", "Exp", "Exp2", "Expand", "Expm1", "Floor", "GetItem",
    "Hardsigmoid", "Hardswish", "Hardtanh", "Lerp", "Log", "Log1p", "Log2", "Log10", "LogAddExp", "LogSoftmax",
    "LogSumExp", "MatMul", "Max", "Maximum", "Mean", "Min", "Minimum", "Mul", "Neg", "Pow", "Relu", "Reshape",
    "Round", "Rsqrt", "Selu", "Sigmoid", "Sign", "Sin", "Sinh", "Softmax", "Softsign", "Sqrt", "Stack", "Std", "Sub",
    "Sum",
    "Tan", "Tanh", "Transpose", "Trunc", "Where",
]
