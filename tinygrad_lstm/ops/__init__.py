"""The ops: one `Function` each, its forward next to its local derivative.

- `elementwise`: + - * / ** and the pointwise functions (exp, log, tanh, sigmoid, relu, ...), where
- `reduce`: sum, mean, max, min
- `movement`: reshape, transpose, expand, indexing, concat, stack
- `matmul`: matrix products, 1-D to batched
- `softmax`: softmax, log_softmax, logsumexp (numerically stable)
- `scan`: cumsum, cumprod, prod (exact where inputs are zero)
- `indexing`: scatter, scatter_add (gather is a GetItem on `index_grids`)
- `einsum`: Einstein summation over any number of operands
"""

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
from .reduce import Max, Mean, Min, Sum
from .scan import CumProd, CumSum, Prod
from .softmax import LogSoftmax, LogSumExp, Softmax

__all__ = [
    "Abs", "Add", "Cast", "Clip", "Clone", "Concat", "Contiguous", "CumProd", "CumSum", "Div", "Einsum", "Exp",
    "Expand", "GetItem", "Log", "LogSoftmax", "LogSumExp", "MatMul", "Max", "Maximum", "Mean", "Min", "Minimum",
    "Mul", "Neg", "Pow", "Prod", "Relu", "Reshape", "Scatter", "Sigmoid", "Softmax", "Sqrt", "Stack", "Sub", "Sum",
    "Tanh", "Transpose", "Where",
]
