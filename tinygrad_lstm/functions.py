"""Module-level forms of Tensor methods, as torch has them: ``torch.argmax(x, dim=1)`` is ``x.argmax(dim=1)``,
``torch.max(x, 1)`` gives (values, indices), ``torch.max(a, b)`` the elementwise maximum. Also `einsum`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ops
from .ops import einsum as _einsum
from .tensor import Tensor, _as_tensor, where


def _method(name: str) -> Callable[..., Any]:
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002 - torch's name
        return getattr(_as_tensor(input), name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``{name}(input, ...)`` is ``input.{name}(...)`` (see `Tensor.{name}`)."
    return fn


# reductions and selection
sum = _method("sum")  # noqa: A001 - torch's names shadow builtins only inside this module
mean = _method("mean")
std = _method("std")
var = _method("var")
prod = _method("prod")
max = _method("max")  # noqa: A001
min = _method("min")  # noqa: A001
amax = _method("amax")
amin = _method("amin")
argmax = _method("argmax")
argmin = _method("argmin")
sort = _method("sort")
argsort = _method("argsort")
topk = _method("topk")
cumsum = _method("cumsum")
cumprod = _method("cumprod")
any = _method("any")  # noqa: A001
all = _method("all")  # noqa: A001
logsumexp = _method("logsumexp")
norm = _method("norm")
# indexing and layout
gather = _method("gather")
scatter = _method("scatter")
scatter_add = _method("scatter_add")
masked_fill = _method("masked_fill")
nonzero = _method("nonzero")
flip = _method("flip")
roll = _method("roll")
repeat_interleave = _method("repeat_interleave")
tril = _method("tril")
triu = _method("triu")
unflatten = _method("unflatten")
flatten = _method("flatten")
reshape = _method("reshape")
transpose = _method("transpose")
permute = _method("permute")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
split = _method("split")
chunk = _method("chunk")
clone = _method("clone")
numel = _method("numel")
matmul = _method("matmul")
# pointwise functions that existed before the torch names (others add theirs beside them)
exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
tanh = _method("tanh")
sigmoid = _method("sigmoid")
relu = _method("relu")
abs = _method("abs")  # noqa: A001
sin, cos, tan, asin, acos, atan = (_method(n) for n in ("sin", "cos", "tan", "asin", "acos", "atan"))
sinh, cosh, asinh, acosh, atanh = (_method(n) for n in ("sinh", "cosh", "asinh", "acosh", "atanh"))
log2, log10, log1p, exp2, expm1 = (_method(n) for n in ("log2", "log10", "log1p", "exp2", "expm1"))
rsqrt, erf, sign, floor, ceil = (_method(n) for n in ("rsqrt", "erf", "sign", "floor", "ceil"))
round, trunc, logaddexp, lerp = (_method(n) for n in ("round", "trunc", "logaddexp", "lerp"))  # noqa: A001
clamp = _method("clamp")
clip = _method("clip")
softmax = _method("softmax")
log_softmax = _method("log_softmax")
# tests of values
isnan = _method("isnan")
isinf = _method("isinf")
isfinite = _method("isfinite")
isclose = _method("isclose")
allclose = _method("allclose")
eq, ne, lt, le, gt, ge = (_method(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
add, sub, mul, div, pow, neg = (_method(n) for n in ("add", "sub", "mul", "div", "pow", "neg"))  # noqa: A001
mm, bmm, t, index_select = (_method(n) for n in ("mm", "bmm", "t", "index_select"))
floor_divide = _method("__floordiv__")
remainder = _method("__mod__")


def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """True if both have the same shape and the same elements (torch.equal)."""
    a, b = _as_tensor(input), _as_tensor(other)
    return a.shape == b.shape and bool((a.data == b.data).all())


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def torch_where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``where(cond, x, y)``: x where cond holds, else y (differentiable in x and y). ``where(cond)``: the
    indices where cond holds, one int64 tensor per dim (``nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        return _as_tensor(condition).nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (for the indices)")
    return where(condition, input, other)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation: ``einsum("bij,bjk->bik", a, b)`` is a batched matrix product; ``"ii->"`` a trace;
    ``...`` stands for broadcast axes; without ``->`` the output holds the letters used once, in order.
    Operands may also be passed as one list. Differentiable in every floating operand."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [_as_tensor(t) for t in operands]
    if not ts:
        raise ValueError("einsum: needs at least one operand")
    inputs, output = _einsum.parse(equation, [t.shape for t in ts])
    return ops.Einsum.apply(*ts, inputs=inputs, output=output)
