"""Tensor: an ndarray plus what reverse-mode autograd needs (`requires_grad`, `.grad`, the node that made it).

Ops are methods (``x.tanh()``) and operators (``x * y``); each calls one `Function` from `ops/`. Composite ops
(``var``, ``softmax`` through ``exp``…) are built here from primitive ones, so their gradients come for free.
"""

from __future__ import annotations

import builtins
import importlib
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import autograd, dtypes, ops
from .autograd import Function
from .random import rng

DEFAULT_FLOAT = dtypes.DEFAULT_FLOAT.type
_PY_SCALARS = (float, int, bool)
Axis = int | tuple[int, ...] | None


def _float_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype if dtype is not None else DEFAULT_FLOAT)
    if dt.kind != "f":
        raise TypeError(f"expected a floating dtype such as float32 or float64, got {dt}")
    return dt


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """Python floats and lists of floats become float32; ndarrays keep their dtype (as torch.tensor does)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data.copy() if data.dtype != object else np.array(data.tolist(), dtype=DEFAULT_FLOAT)
    if isinstance(data, np.generic):
        return np.array(data)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"Tensor: {_ragged(data) or e}") from None
    if arr.dtype == np.float64:
        arr = arr.astype(DEFAULT_FLOAT)
    elif arr.dtype.kind == "i":
        arr = arr.astype(np.int64, copy=False)
    elif arr.dtype.kind not in "fb":
        raise TypeError(f"Tensor: cannot make a tensor from {_describe(data, arr)}; expected numbers: a number, "
                        "a (nested) list of numbers, or a numeric array")
    return arr


def _describe(data: Any, arr: np.ndarray) -> str:
    if isinstance(data, str):
        return f"the string {data[:40]!r}"
    if arr.dtype.kind in "US" and arr.size:
        return f"{type(data).__name__} holding strings ({arr.flat[0].item()!r}, ...)"
    return f"{type(data).__name__} (array dtype {arr.dtype})"


def _ragged(data: Any) -> str | None:
    """Where nested lists stop being rectangular, level by level (None if they do not)."""
    level: list[tuple[tuple[int, ...], Any]] = [((), data)]
    while level:
        sizes = [(where, len(x) if isinstance(x, (list, tuple)) else None) for where, x in level]
        first = sizes[0]
        odd = next((s for s in sizes if s[1] != first[1]), None)
        if odd is not None:
            return (f"ragged nested lists: {_item(*odd)} but {_item(*first)}; every row must have the same "
                    "length")
        level = [((*w, k), v) for w, x in level if isinstance(x, (list, tuple)) for k, v in enumerate(x)]
    return None


def _item(where: tuple[int, ...], n: int | None) -> str:
    return f"item {list(where)} " + ("is a number" if n is None else f"has length {n}")


class Tensor:
    """A multi-dimensional array that can record how it was computed, to differentiate through it.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
    """

    # _mods (set on the first in-place change only): the autograd clock at each in-place change (the version counter)
    __slots__ = ("data", "grad", "requires_grad", "name", "_ctx", "_retains_grad", "_mods", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> None:
        arr = _to_array(data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {arr.dtype} "
                "(integer tensors are indices; pass dtype=np.float32 or float data)"
            )
        self.data: np.ndarray = arr
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = bool(requires_grad)
        self.name: str | None = name
        self._ctx: Function | None = None
        self._retains_grad = False

    # ----- attributes ------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded op): the ones whose `.grad` backward fills."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        """The recorded op that made this tensor (None for leaves)."""
        return self._ctx

    @property
    def _version(self) -> int:
        """How many times this tensor was changed in place (as torch's ``t._version``); backward refuses to use
        values an op saved if they changed since."""
        return autograd.version(self)

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> int | float | bool:
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted to a Python scalar, "
                             f"got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, as torch's detach)."""
        t = Tensor.__new__(Tensor)
        t.data, t.grad, t.requires_grad, t.name = self.data, None, False, self.name
        t._ctx, t._retains_grad = None, False
        return t

    def named(self, name: str) -> Tensor:
        """Give this tensor a name (shown in graph pictures) and return it: ``f_t = sigmoid(...).named("f_t")``."""
        self.name = name
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: only floating-point tensors can require gradients, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def astype(self, dtype: Any) -> Tensor:
        """A copy in another dtype; gradients flow back (cast to this tensor's dtype) if it is floating."""
        dt = np.dtype(dtype)
        if dt == self.dtype:
            return self
        if dt.kind == "f" and self.requires_grad:
            return ops.Cast.apply(self, dtype=dt)
        return Tensor(self.data.astype(dt))

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    # ----- autograd ---------------------------------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d self / d leaf into every leaf's `.grad` (self must be a scalar unless `grad` is given)."""
        autograd.backward(self, grad, retain_graph)

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain the grad of a tensor that does not require grad")
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad and self._ctx is not None

    def zero_grad(self) -> None:
        self.grad = None

    # ----- constructors -----------------------------------------------------------------------------------------
    @staticmethod
    def _shape(shape: tuple) -> tuple[int, ...]:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return tuple(int(n) for n in shape)

    @classmethod
    def zeros(cls, *shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        return cls(np.zeros(cls._shape(shape), dtype=dtype or DEFAULT_FLOAT), requires_grad=requires_grad)

    @classmethod
    def ones(cls, *shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        return cls(np.ones(cls._shape(shape), dtype=dtype or DEFAULT_FLOAT), requires_grad=requires_grad)

    @classmethod
    def full(cls, shape: Any, fill_value: float, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        if dtype is None:
            dtype = np.int64 if isinstance(fill_value, numbers.Integral) and not requires_grad else DEFAULT_FLOAT
        return cls(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)

    @classmethod
    def zeros_like(cls, t: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        a = t.data if isinstance(t, Tensor) else np.asarray(t)
        return cls(np.zeros(a.shape, dtype=dtype or a.dtype), requires_grad=requires_grad)

    @classmethod
    def ones_like(cls, t: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        a = t.data if isinstance(t, Tensor) else np.asarray(t)
        return cls(np.ones(a.shape, dtype=dtype or a.dtype), requires_grad=requires_grad)

    @classmethod
    def randn(cls, *shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        """Standard normal samples from the generator `manual_seed` sets."""
        dt = _float_dtype(dtype)
        return cls(rng().standard_normal(cls._shape(shape)).astype(dt), requires_grad=requires_grad)

    @classmethod
    def rand(cls, *shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        """Uniform samples on [0, 1)."""
        dt = _float_dtype(dtype)
        return cls(rng().random(cls._shape(shape)).astype(dt), requires_grad=requires_grad)

    @classmethod
    def uniform(cls, *shape: Any, low: float = 0.0, high: float = 1.0, requires_grad: bool = False,
                dtype: Any = None) -> Tensor:
        """Uniform samples on [low, high)."""
        dt = _float_dtype(dtype)
        return cls(rng().uniform(low, high, cls._shape(shape)).astype(dt), requires_grad=requires_grad)

    @classmethod
    def arange(cls, start: float, stop: float | None = None, step: float = 1, requires_grad: bool = False,
               dtype: Any = None) -> Tensor:
        if stop is None:
            start, stop = 0, start
        ints = all(isinstance(v, numbers.Integral) for v in (start, stop, step))
        dt = dtype or (np.int64 if ints and not requires_grad else DEFAULT_FLOAT)
        return cls(np.arange(start, stop, step, dtype=dt), requires_grad=requires_grad)

    @classmethod
    def eye(cls, n: int, m: int | None = None, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        return cls(np.eye(n, m, dtype=dtype or DEFAULT_FLOAT), requires_grad=requires_grad)

    # ----- arithmetic -------------------------------------------------------------------------------------------
    def _lift(self, other: Any) -> Tensor:
        """Wrap a scalar or array as a constant tensor; a Python scalar takes this tensor's float dtype."""
        if isinstance(other, Tensor):
            return other
        # a Python scalar (float/int/bool first: the ABC check of numbers.Number costs more than the op)
        if type(other) in _PY_SCALARS or (isinstance(other, numbers.Number) and not isinstance(other, np.generic)):
            dt = self.data.dtype if self.data.dtype.kind == "f" else (
                DEFAULT_FLOAT if isinstance(other, float) else None)
            return _constant(np.asarray(other, dtype=dt))
        return Tensor(other)

    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other.data.dtype is self.data.dtype:  # the common case, without a call
            return ops.Add.apply(self, other)
        return ops.Add.apply(*_operands(self, other))

    def __radd__(self, other: Any) -> Tensor:
        b, a = _operands(self, other)
        return ops.Add.apply(a, b)

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other.data.dtype is self.data.dtype:  # the common case, without a call
            return ops.Sub.apply(self, other)
        return ops.Sub.apply(*_operands(self, other))

    def __rsub__(self, other: Any) -> Tensor:
        b, a = _operands(self, other)
        return ops.Sub.apply(a, b)

    def __mul__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other.data.dtype is self.data.dtype:  # the common case, without a call
            return ops.Mul.apply(self, other)
        return ops.Mul.apply(*_operands(self, other))

    def __rmul__(self, other: Any) -> Tensor:
        b, a = _operands(self, other)
        return ops.Mul.apply(a, b)

    def __truediv__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other.data.dtype is self.data.dtype and self.data.dtype.kind == "f":
            return ops.Div.apply(self, other)  # the common case, without a call
        return ops.Div.apply(*_operands(self, other, floating=True))

    def __rtruediv__(self, other: Any) -> Tensor:
        b, a = _operands(self, other, floating=True)
        return ops.Div.apply(a, b)

    def __pow__(self, other: Any) -> Tensor:
        return ops.Pow.apply(*_operands(self, other))

    def __rpow__(self, other: Any) -> Tensor:
        b, a = _operands(self, other)
        return ops.Pow.apply(a, b)

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._lift(other).matmul(self)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    # comparisons: plain boolean tensors, never part of the graph
    def _compare(self, other: Any, fn: Any) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return Tensor(fn(self.data, o))

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                             "use .any() or .all()")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only an integer tensor with one element can be used as an index, got {self.dtype} "
                            f"of shape {self.shape}")
        return int(self.data)

    def _floating(self) -> Tensor:
        """Itself if floating, else converted to the default float dtype: what a float function (exp, tanh, …)
        computes in (`dtypes.float_type`; torch.exp of an int64 tensor is float32)."""
        if self.data.dtype.kind == "f":
            return self
        return _constant(self.data.astype(dtypes.float_type(self.data.dtype)))

    # ----- pointwise functions ----------------------------------------------------------------------------------
    def exp(self) -> Tensor:
        return ops.Exp.apply(self._floating())

    def log(self) -> Tensor:
        return ops.Log.apply(self._floating())

    def sqrt(self) -> Tensor:
        return ops.Sqrt.apply(self._floating())

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(self._floating())

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(self._floating())

    def relu(self) -> Tensor:
        return ops.Relu.apply(self)

    def abs(self) -> Tensor:
        return ops.Abs.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002 - numpy's names
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return ops.Clip.apply(self, min=min, max=max)

    clamp = clip

    def maximum(self, other: Any) -> Tensor:
        return ops.Maximum.apply(*_operands(self, other))

    def minimum(self, other: Any) -> Tensor:
        return ops.Minimum.apply(*_operands(self, other))

    # more pointwise math (ops/pointwise.py), torch's names
    def sin(self) -> Tensor:
        return ops.Sin.apply(self._floating())

    def cos(self) -> Tensor:
        return ops.Cos.apply(self._floating())

    def tan(self) -> Tensor:
        return ops.Tan.apply(self._floating())

    def asin(self) -> Tensor:
        return ops.Asin.apply(self._floating())

    def acos(self) -> Tensor:
        return ops.Acos.apply(self._floating())

    def atan(self) -> Tensor:
        return ops.Atan.apply(self._floating())

    def sinh(self) -> Tensor:
        return ops.Sinh.apply(self._floating())

    def cosh(self) -> Tensor:
        return ops.Cosh.apply(self._floating())

    def asinh(self) -> Tensor:
        return ops.Asinh.apply(self._floating())

    def acosh(self) -> Tensor:
        return ops.Acosh.apply(self._floating())

    def atanh(self) -> Tensor:
        return ops.Atanh.apply(self._floating())

    def log2(self) -> Tensor:
        return ops.Log2.apply(self._floating())

    def log10(self) -> Tensor:
        return ops.Log10.apply(self._floating())

    def log1p(self) -> Tensor:
        return ops.Log1p.apply(self._floating())

    def exp2(self) -> Tensor:
        return ops.Exp2.apply(self._floating())

    def expm1(self) -> Tensor:
        return ops.Expm1.apply(self._floating())

    def rsqrt(self) -> Tensor:
        return ops.Rsqrt.apply(self._floating())

    def erf(self) -> Tensor:
        return ops.Erf.apply(self._floating())

    def sign(self) -> Tensor:
        return ops.Sign.apply(self)

    def floor(self) -> Tensor:
        return ops.Floor.apply(self)

    def ceil(self) -> Tensor:
        return ops.Ceil.apply(self)

    def round(self) -> Tensor:
        return ops.Round.apply(self)

    def trunc(self) -> Tensor:
        return ops.Trunc.apply(self)

    def logaddexp(self, other: Any) -> Tensor:
        return ops.LogAddExp.apply(self, self._lift(other))

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """self + weight · (end - self)"""
        return ops.Lerp.apply(self, self._lift(end), self._lift(weight))

    # ----- reductions -------------------------------------------------------------------------------------------
    def _axes(self, op: str, axis: Axis) -> tuple[int, ...] | None:
        if axis is None:
            return None
        if type(axis) is int and -self.ndim <= axis < self.ndim:  # the common case, fast
            return (axis % self.ndim,)
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        out = []
        for a in axes:
            nd = builtins.max(self.ndim, 1)  # a 0-d tensor takes axis 0 or -1, as torch
            if not isinstance(a, numbers.Integral) or not -nd <= a < nd:
                raise ValueError(f"{op}: axis {a!r} is out of range for a tensor of shape {self.shape} "
                                 f"(valid: {-nd}..{nd - 1})")
            out.append(int(a) % builtins.max(self.ndim, 1))
        if len(set(out)) != len(out):
            raise ValueError(f"{op}: axis {axis!r} repeats an axis")
        return tuple(sorted(out)) if self.ndim else None

    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
            ) -> Tensor:
        if dim is not None or keepdim is not None:
            axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        return ops.Sum.apply(self, axis=self._axes("sum", axis), keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
             ) -> Tensor:
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        return ops.Mean.apply(self, axis=self._axes("mean", axis), keepdims=keepdims)

    def amax(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
             ) -> Tensor:
        """Largest value over `axis` (one or several; None: all), as torch.amax: the gradient is shared among
        ties. `max` with a dim also gives the indices."""
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        self._nonempty("amax")
        return ops.Max.apply(self, axis=self._axes("amax", axis), keepdims=keepdims)

    def amin(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
             ) -> Tensor:
        """Smallest value over `axis`, as torch.amin (ties share the gradient)."""
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        self._nonempty("amin")
        return ops.Min.apply(self, axis=self._axes("amin", axis), keepdims=keepdims)

    def _nonempty(self, op: str) -> None:
        if self.data.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {self.shape}")

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int | None = None, *, dim: Axis = None,
            keepdim: bool | None = None, correction: int | None = None, unbiased: bool | None = None) -> Tensor:
        """Variance Σ(x - mean)² / (n - c). As torch, unbiased by default (c = `correction` = 1);
        ``correction=0``, ``unbiased=False`` or numpy's ``ddof=0`` give the population variance."""
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        c = _correction(ddof, correction, unbiased)
        axes = self._axes("var", axis)
        n = self.data.size if axes is None else int(np.prod([self.shape[a] for a in axes]))
        centered = self - self.mean(axis=axes, keepdims=True)
        return (centered * centered).sum(axis=axes, keepdims=keepdims) / builtins.max(n - c, 0)

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int | None = None, *, dim: Axis = None,
            keepdim: bool | None = None, correction: int | None = None, unbiased: bool | None = None) -> Tensor:
        """Standard deviation √var (unbiased by default, as torch); its gradient is 0 where it is 0 (as torch)."""
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        c = _correction(ddof, correction, unbiased)
        return ops.Std.apply(self, axis=self._axes("std", axis), keepdims=keepdims, correction=c)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        axis = _one_axis(self, "softmax", dim if dim is not None else axis)
        return ops.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        axis = _one_axis(self, "log_softmax", dim if dim is not None else axis)
        return ops.LogSoftmax.apply(self, axis=axis)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
                  keepdim: bool | None = None) -> Tensor:
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        return ops.LogSumExp.apply(self, axis=self._axes("logsumexp", axis), keepdims=keepdims)

    # ----- shape ------------------------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and type(shape[0]) is tuple:
            shape = shape[0]
        if shape == self.data.shape:
            return self
        if len(shape) == 1 and type(shape[0]) is list:
            shape = shape[0]
        shape = tuple(map(int, shape))
        if -1 not in shape and math.prod(shape) == self.data.size and min(shape, default=0) >= 0:
            return ops.Reshape.apply(self, shape=shape)  # the common case: sizes given in full
        try:
            new = _reshape_target(self.shape, shape)
        except ValueError as e:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} ({self.data.size} elements) "
                             f"into {shape}: {e}") from None
        if new == self.shape:
            return self
        return ops.Reshape.apply(self, shape=new)

    view = reshape

    def contiguous(self) -> Tensor:
        """This tensor laid out row-major in memory: itself if it already is, else a copy (gradients flow)."""
        if self.data.flags.c_contiguous:
            return self
        return ops.Contiguous.apply(self)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _one_axis(self, "flatten", start_dim), _one_axis(self, "flatten", end_dim)
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor of shape "
                             f"{self.shape}")
        # the joined size given in full, not as -1, which an empty axis would leave undetermined
        return self.reshape(self.shape[:s] + (math.prod(self.shape[s:e + 1]),) + self.shape[e + 1:])

    def transpose(self, *axes: Any) -> Tensor:
        """No arguments: reverse the axes (numpy). Two ints: swap those two axes (torch). Else a permutation,
        as numpy (a tuple is always a permutation: ``x.transpose((0, 1))`` of a 2-D tensor changes nothing)."""
        packed = len(axes) == 1 and isinstance(axes[0], (tuple, list))
        if packed:
            axes = tuple(axes[0])
        if not axes:
            return self._permuted(tuple(range(self.ndim))[::-1], "transpose")
        if len(axes) == 2 and not packed:  # x.transpose(0, 1) swaps, also on a 2-D tensor (as torch)
            return self._swapped(*axes, op="transpose")
        return self._permuted(axes, "transpose")

    def permute(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if len(axes) != self.ndim:
            raise ValueError(f"permute: got {len(axes)} axes {axes} for a tensor of shape {self.shape}")
        return self._permuted(axes, "permute")

    def swapaxes(self, a: int, b: int) -> Tensor:
        return self._swapped(a, b, op="swapaxes")

    def _swapped(self, a: int, b: int, op: str) -> Tensor:
        a, b = _one_axis(self, op, a), _one_axis(self, op, b)
        perm = list(range(self.ndim))
        perm[a], perm[b] = perm[b], perm[a]
        return self._permuted(perm, op)

    def _permuted(self, axes: Sequence[Any], op: str) -> Tensor:
        """The one place a permutation is checked and recorded (transpose, permute and swapaxes come here)."""
        perm = tuple(_one_axis(self, op, a) for a in axes)
        if sorted(perm) != list(range(self.ndim)):
            raise ValueError(f"{op}: axes {tuple(axes)} are not a permutation of the {self.ndim} axes of a tensor of "
                             f"shape {self.shape}")
        return self if perm == tuple(range(self.ndim)) else ops.Transpose.apply(self, axes=perm)

    def expand(self, *shape: Any) -> Tensor:
        shape = Tensor._shape(shape)
        # torch's -1 keeps a size
        lead = len(shape) - self.ndim
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
        try:
            np.broadcast_shapes(self.shape, shape)
            if lead < 0:
                raise ValueError("fewer axes than the tensor has")
            for i, n in enumerate(self.shape):
                if n != 1 and n != shape[i + lead]:
                    raise ValueError(f"axis {i} has size {n}, which is not 1")
        except ValueError as e:
            raise ValueError(f"expand: cannot expand a tensor of shape {self.shape} to {shape}: {e}") from None
        if shape == self.shape:
            return self
        return ops.Expand.apply(self, shape=shape)

    broadcast_to = expand

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        axis = dim if dim is not None else axis
        if axis is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = self._axes("squeeze", axis) or ()
        # like torch: axes that are not of size 1 are left alone
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1)))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        axis = dim if dim is not None else axis
        if axis is None:
            raise TypeError("unsqueeze: give the position of the new axis (axis= or dim=)")
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise ValueError(f"unsqueeze: axis {axis} is out of range for a tensor of shape {self.shape} "
                             f"(valid: {-self.ndim - 1}..{self.ndim})")
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    expand_dims = unsqueeze

    # ----- indexing ---------------------------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Tensor:
        index = _normalize_index(index)
        try:
            return ops.GetItem.apply(self, index=index)
        except (IndexError, ValueError, TypeError) as e:  # an error that names the op and the shape
            raise IndexError(f"getitem: index {_show_index(index)} is invalid for a tensor of shape {self.shape}: "
                             f"{e}") from None

    def __setitem__(self, index: Any, value: Any) -> None:
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError("setitem: in-place assignment into a tensor that requires grad would corrupt its "
                               "gradient; build a new tensor (e.g. with where() or concat()) or use no_grad()")
        self.data[_normalize_index(index)] = value.data if isinstance(value, Tensor) else value
        autograd.bump_version(self)

    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0, *, dim: int | None = None
              ) -> list[Tensor]:
        """torch.split: an int is the size of each piece (the last may be smaller); a list gives every size."""
        axis = _one_axis(self, "split", dim if dim is not None else axis)
        n = self.shape[axis]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split: size must be positive, got {step}")
            sizes = [builtins.min(step, n - s) for s in range(0, n, step)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if builtins.sum(sizes) != n or builtins.min(sizes, default=0) < 0:
                raise ValueError(f"split: sizes {sizes} must be non-negative and sum to {n}, the size of axis "
                                 f"{axis} of a tensor of shape {self.shape}")
        pieces, start = [], 0
        lead = (slice(None),) * axis
        for s in sizes:
            pieces.append(ops.GetItem.apply(self, index=lead + (slice(start, start + s),)))
            start += s
        return pieces

    def chunk(self, chunks: int, axis: int = 0, *, dim: int | None = None) -> list[Tensor]:
        """torch.chunk: `chunks` pieces of ceil(n / chunks) each (the last may be smaller)."""
        axis = _one_axis(self, "chunk", dim if dim is not None else axis)
        if chunks <= 0:
            raise ValueError(f"chunk: number of chunks must be positive, got {chunks}")
        n = self.shape[axis]
        return self.split(builtins.max(-(-n // chunks), 1), axis)

    # ----- products ---------------------------------------------------------------------------------------------
    def matmul(self, other: Any) -> Tensor:
        other = self._lift(other)
        a, b = self.shape, other.shape
        if not a or not b:
            raise ValueError(f"matmul: both operands need at least 1 axis, got shapes {a} and {b} "
                             "(use * to multiply by a scalar)")
        if self.data.dtype != other.data.dtype:
            dtypes.check_matmul(self.data.dtype, other.data.dtype)
        k1, k2 = a[-1], (b[0] if len(b) == 1 else b[-2])
        if k1 != k2:
            raise ValueError(f"matmul: cannot multiply shapes {a} and {b}: the last axis of the first ({k1}) must "
                             f"equal the {'only' if len(b) == 1 else 'second-to-last'} axis of the second ({k2})")
        if len(a) > 2 or len(b) > 2:
            try:
                np.broadcast_shapes(a[:-2], b[:-2])
            except ValueError:
                raise ValueError(f"matmul: the batch axes of shapes {a} and {b} do not broadcast") from None
        return ops.MatMul.apply(self, other)

    dot = matmul

    # ----- PyTorch's spellings (issue 12): shape queries, conversions, selection, scans, layout, tests ------------
    # Thin: each delegates to the module that holds the op (factory, selection, rearrange, predicates, ops.scan).
    def size(self, dim: int | None = None) -> Any:
        """The shape as a `Size` (a tuple), or with `dim` the length of that axis, as torch."""
        if dim is None:
            return _api.factory.Size(self.data.shape)
        if self.ndim == 0:
            raise IndexError(f"size: a 0-d tensor has no dims, got dim {dim!r}")
        return self.data.shape[_one_axis(self, "size", dim)]

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    nelement = numel

    def dim(self) -> int:
        """The number of axes (torch's name for ndim)."""
        return self.data.ndim

    ndimension = dim

    def clone(self) -> Tensor:
        """A copy in new memory; gradients flow back to this tensor."""
        return ops.Clone.apply(self)

    @property
    def device(self) -> Any:
        """Always the CPU (``device(type='cpu')``)."""
        return _api.factory.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False, non_blocking: bool = False
           ) -> Tensor:
        """torch's ``to``: a dtype, a device ("cpu"), another tensor (its dtype), or a device and a dtype.
        Returns this tensor when nothing changes (a copy with copy=True); gradients flow through a cast."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif _api.factory.is_device(a):
                device = a
            else:
                dtype = a
        _api.factory.check_device(device, "to")
        out = self if dtype is None else self.astype(_api.factory.parse_dtype(dtype, "to"))
        return out.clone() if copy and out is self else out

    def cpu(self) -> Tensor:
        """This tensor (it already is on the CPU)."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        raise RuntimeError("cuda: tinygrad_lstm runs on the CPU only (cuda.is_available() is False)")

    def type(self, dtype: Any = None) -> Any:
        """No argument: the type name, e.g. "tinygrad_lstm.FloatTensor" (torch's "torch.FloatTensor").
        With a dtype or such a name: this tensor cast to it."""
        if dtype is None:
            return "tinygrad_lstm." + _api.factory.TYPE_NAMES.get(self.dtype, f"{self.dtype}Tensor")
        return self.astype(_api.factory.parse_dtype(dtype, "type"))

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def argmax(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
        """Index of the largest value along `dim` (the first, among ties); without a dim, into the flattened
        tensor. int64, no gradient."""
        return _api.selection.arg_extreme(self, axis if axis is not None else dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
        """Index of the smallest value along `dim` (see argmax)."""
        return _api.selection.arg_extreme(self, axis if axis is not None else dim, keepdim, "argmin")

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Axis = None, keepdims: bool | None = None) -> Any:
        """torch.max. No dim: the largest value (0-d). An int dim: the named tuple (values, indices) along it;
        values' gradient goes to the index picked. A tensor: the elementwise maximum. numpy's ``axis=`` gives
        the values only (as `amax`)."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax(axis, bool(keepdims) if keepdims is not None else keepdim)
        return _api.selection.extreme_with_indices(self, dim, keepdim, "max")

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Axis = None, keepdims: bool | None = None) -> Any:
        """torch.min: as `max`, for the smallest value."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self.amin(axis, bool(keepdims) if keepdims is not None else keepdim)
        return _api.selection.extreme_with_indices(self, dim, keepdim, "min")

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """(values, indices) sorted along `dim`; always stable (equal values keep their order), NaN as largest."""
        return _api.selection.sort(self, dim, descending)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        """The indices that sort along `dim` (stable)."""
        return _api.selection.sort(self, dim, descending).indices

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """(values, indices) of the k largest (largest=False: smallest) along `dim`, in order."""
        return _api.selection.topk(self, k, dim, largest, sorted)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Running sum along `dim`.   dL/dxᵢ = Σ_{k≥i} gₖ"""
        x = self if dtype is None else self.astype(dtype)
        return ops.CumSum.apply(x, axis=_one_axis(x, "cumsum", dim)) if x.ndim else x.clone()

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Running product along `dim` (exact gradients where inputs are zero)."""
        x = self if dtype is None else self.astype(dtype)
        return ops.CumProd.apply(x, axis=_one_axis(x, "cumprod", dim)) if x.ndim else x.clone()

    def prod(self, dim: Axis = None, keepdim: bool = False, *, dtype: Any = None, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """Product over `dim` (None: all).   dz/dxᵢ = Π_{j≠i} xⱼ (exact where inputs are zero)."""
        x = self if dtype is None else self.astype(dtype)
        axis, keepdim = _torch_names(axis, bool(keepdims) if keepdims is not None else keepdim, dim, None)
        return ops.Prod.apply(x, axis=x._axes("prod", axis), keepdims=keepdim)

    def any(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None) -> Tensor:
        """Whether any element is non-zero (over `dim`), as a bool tensor; ``if t.any():`` works as before."""
        return _api.predicates.any_all(self, axis if axis is not None else dim, keepdim, "any")

    def all(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None) -> Tensor:
        """Whether all elements are non-zero (over `dim`), as a bool tensor."""
        return _api.predicates.any_all(self, axis if axis is not None else dim, keepdim, "all")

    def gather(self, dim: int, index: Any) -> Tensor:
        """`out[i][j] = self[index[i][j]][j]` for dim 0 (likewise for other dims); the gradient is added back at
        the gathered places."""
        return _api.selection.gather(self, dim, index)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        """A copy with `src` (a tensor, or a number `value`) written at the places `index` names along `dim`."""
        return _api.selection.scatter(self, dim, index, value if src is None else src, False, "scatter")

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        """A copy with `src` added at the places `index` names along `dim` (repeated places add up)."""
        return _api.selection.scatter(self, dim, index, src, True, "scatter_add")

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """A copy with `value` where the bool `mask` (broadcast to this shape) is true."""
        return _api.selection.masked_fill(self, mask, value)

    def where(self, condition: Any, other: Any) -> Tensor:
        """torch's ``x.where(cond, y)``: this tensor where `condition` holds, else `other`."""
        return where(condition, self, other)

    def nonzero(self, as_tuple: bool = False) -> Any:
        """Indices of the non-zero elements, (n, ndim) int64 (or one tensor per dim with as_tuple)."""
        return _api.selection.nonzero(self, as_tuple)

    def flip(self, *dims: Any) -> Tensor:
        """Reverse the order of elements along `dims`."""
        return _api.rearrange.flip(self, dims[0] if len(dims) == 1 else dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """Shift elements along `dims`, wrapping around (flattened when dims is None)."""
        return _api.rearrange.roll(self, shifts, dims)

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled sizes[i] times along each axis (numpy's tile)."""
        return _api.rearrange.repeat(self, Tensor._shape(sizes))

    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> Tensor:
        """Each element repeated `repeats` times along `dim` (flattened when dim is None)."""
        return _api.rearrange.repeat_interleave(self, repeats, dim)

    def tril(self, diagonal: int = 0) -> Tensor:
        """Zero above `diagonal` of the last two dims."""
        return _api.rearrange.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """Zero below `diagonal` of the last two dims."""
        return _api.rearrange.triu(self, diagonal)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Split axis `dim` into axes of `sizes` (one may be -1)."""
        return _api.rearrange.unflatten(self, dim, sizes)

    def norm(self, p: float = 2, dim: Axis = None, keepdim: bool = False) -> Tensor:
        """(Σ|x|ᵖ)^(1/p) over `dim` (None: all); its gradient at an all-zero slice is 0 (as torch)."""
        return _api.norms.norm(self, p, dim, keepdim)

    def isnan(self) -> Tensor:
        return _api.predicates.isnan(self)

    def isinf(self) -> Tensor:
        return _api.predicates.isinf(self)

    def isfinite(self) -> Tensor:
        return _api.predicates.isfinite(self)

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
        """|self - other| ≤ atol + rtol·|other| elementwise, as a bool tensor."""
        return _api.predicates.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        return _api.predicates.allclose(self, other, rtol, atol, equal_nan)

    # method spellings of operators and shape helpers torch code uses (`pred.eq(y).sum()`, `x.t()`, `a.bmm(b)`)
    def eq(self, other: Any) -> Tensor:
        return self == other

    def ne(self, other: Any) -> Tensor:
        return self != other

    def lt(self, other: Any) -> Tensor:
        return self < other

    def le(self, other: Any) -> Tensor:
        return self <= other

    def gt(self, other: Any) -> Tensor:
        return self > other

    def ge(self, other: Any) -> Tensor:
        return self >= other

    def add(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self + alpha·other"""
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self - alpha·other"""
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """self / other; rounding_mode "floor" is ``//``, "trunc" rounds toward zero (neither has a gradient)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            return _api.predicates.trunc_divide(self, other)
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")

    def pow(self, exponent: Any) -> Tensor:
        return self ** exponent

    def neg(self) -> Tensor:
        return -self

    def t(self) -> Tensor:
        """The transpose of a matrix (a 0-d or 1-d tensor is returned as it is), as torch's ``t()``."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with at most 2 dims, got shape {self.shape} (use transpose(a, b))")
        return self.transpose() if self.ndim == 2 else self

    def mm(self, other: Any) -> Tensor:
        """Matrix product of two 2-D tensors."""
        other = self._lift(other)
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(f"mm: both operands must be 2-D, got shapes {self.shape} and {other.shape}")
        return self.matmul(other)

    def bmm(self, other: Any) -> Tensor:
        """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
        other = self._lift(other)
        if self.ndim != 3 or other.ndim != 3 or self.shape[0] != other.shape[0]:
            raise ValueError(f"bmm: operands must be 3-D with the same batch size, got shapes {self.shape} and "
                             f"{other.shape}")
        return self.matmul(other)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The entries at `index` (1-D integers) along `dim`; repeated entries' gradients add up."""
        d = _one_axis(self, "index_select", dim)
        idx = np.asarray(index.data if isinstance(index, Tensor) else index)
        if idx.ndim > 1 or idx.dtype.kind not in "iu":
            raise ValueError(f"index_select: index must be a 1-D integer tensor, got {idx.dtype} of shape {idx.shape}")
        return self[(slice(None),) * d + (idx.reshape(-1),)] if self.ndim else self[idx.reshape(-1)].reshape(())

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    reshape_as = view_as

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def type_as(self, other: Tensor) -> Tensor:
        return self.astype(other.dtype)

    def new_tensor(self, data: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A new tensor from `data`, of this tensor's dtype unless told."""
        return Tensor(np.array(_api.predicates._data(data), dtype=dtype or self.dtype), requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(np.zeros(Tensor._shape(size), dtype=dtype or self.dtype), requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(np.ones(Tensor._shape(size), dtype=dtype or self.dtype), requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(np.full(Tensor._shape((size,)), fill_value, dtype=dtype or self.dtype),
                      requires_grad=requires_grad)

    # in-place changes of the data (initialising weights, or under no_grad), as torch's trailing-underscore methods
    def _write(self, op: str, values: Any) -> Tensor:
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(f"{op}: changing a tensor that requires grad in place would corrupt its gradient; do "
                               "it inside no_grad() (as torch requires for a leaf) or build a new tensor")
        try:
            np.copyto(self.data, values.data if isinstance(values, Tensor) else values, casting="unsafe")
        except ValueError as e:
            raise ValueError(f"{op}: {e} (tensor of shape {self.shape})") from None
        autograd.bump_version(self)  # backward refuses values an op saved before this change
        return self

    def fill_(self, value: Any) -> Tensor:
        return self._write("fill_", value)

    def zero_(self) -> Tensor:
        return self._write("zero_", 0)

    def copy_(self, src: Any) -> Tensor:
        """Copy `src` (broadcast to this shape) into this tensor."""
        return self._write("copy_", src)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        return self._write("add_", self.data + alpha * _api.predicates._data(other))

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        return self._write("sub_", self.data - alpha * _api.predicates._data(other))

    def mul_(self, other: Any) -> Tensor:
        return self._write("mul_", self.data * _api.predicates._data(other))

    def div_(self, other: Any) -> Tensor:
        return self._write("div_", self.data / _api.predicates._data(other))

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return self._write("clamp_", np.clip(self.data, min, max))

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples uniform on [a, b)."""
        return self._write("uniform_", _api.factory._rng(generator).uniform(a, b, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with normal samples."""
        return self._write("normal_", mean + std * _api.factory._rng(generator).standard_normal(self.shape))

    def __floordiv__(self, other: Any) -> Tensor:
        return _api.predicates.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _api.predicates.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _api.predicates.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _api.predicates.remainder(other, self)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ""
        if self.dtype != DEFAULT_FLOAT:
            extra += f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn={self._ctx.op}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"


autograd._Tensor = Tensor


class _Modules:
    """The modules holding the PyTorch-named ops that Tensor methods delegate to, imported on first use (they
    import this module, so they cannot be imported at its top)."""

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module(f"{__package__}.{name}")
        setattr(self, name, module)
        return module


_api: Any = _Modules()

# ---------------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------------


def _torch_names(axis: Axis, keepdims: bool, dim: Axis, keepdim: bool | None) -> tuple[Axis, bool]:
    """Accept PyTorch's dim/keepdim beside numpy's axis/keepdims."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give either axis= or dim=, not both")
        axis = dim
    return axis, bool(keepdim) if keepdim is not None else keepdims


def _correction(ddof: int | None, correction: int | None, unbiased: bool | None) -> int:
    """The `c` of var/std's n - c, from numpy's or torch's spelling (torch's default: 1)."""
    given = [k for k, v in (("ddof", ddof), ("correction", correction), ("unbiased", unbiased)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"var/std: give only one of ddof, correction and unbiased, got {' and '.join(given)}")
    if unbiased is not None:
        return 1 if unbiased else 0
    c = ddof if ddof is not None else correction
    return 1 if c is None else int(c)


def _one_axis(t: Tensor, op: str, axis: Any) -> int:
    nd = builtins.max(t.ndim, 1)
    if not isinstance(axis, numbers.Integral) or not -nd <= axis < nd:
        raise ValueError(f"{op}: axis {axis!r} is out of range for a tensor of shape {t.shape} "
                         f"(valid: {-nd}..{nd - 1})")
    return int(axis) % nd


def _reshape_target(shape: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...]:
    size = math.prod(shape)
    if builtins.sum(1 for n in new if n == -1) > 1:
        raise ValueError("only one axis may be -1")
    if any(n < -1 for n in new):
        raise ValueError("sizes must be non-negative or -1")
    known = math.prod(n for n in new if n != -1)
    if -1 in new:
        if known == 0 or size % known:
            raise ValueError(f"{size} elements do not divide into axes of {known}")
        new = tuple(size // known if n == -1 else n for n in new)
    elif known != size:
        raise ValueError(f"{size} elements cannot fill {known}")
    return new


def _normalize_index(index: Any) -> Any:
    """Tensors and lists inside an index become ndarrays, so the recorded op holds only plain data."""
    if isinstance(index, tuple):
        return tuple(_normalize_index_part(i) for i in index)
    return _normalize_index_part(index)


def _normalize_index_part(i: Any) -> Any:
    if isinstance(i, Tensor):
        i = i.data
    elif isinstance(i, list):
        i = np.asarray(i)
    if isinstance(i, np.ndarray):
        if i.dtype.kind not in "iub":
            raise IndexError(f"getitem: index arrays must be integers or booleans, got dtype {i.dtype}")
        if i.dtype.kind == "b":
            return i  # boolean mask; backward turns it into the positions it selects
        return i.astype(np.intp, copy=False)
    return i


def _show_index(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    shown = [f"<{p.dtype} array of shape {p.shape}>" if isinstance(p, np.ndarray) else repr(p) for p in parts]
    return "[" + ", ".join(shown) + "]"


# ---------------------------------------------------------------------------------------------------------------
# module-level ops
# ---------------------------------------------------------------------------------------------------------------


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def concat(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (numpy.concatenate, torch.cat)."""
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise ValueError("concat: needs at least one tensor")
    axis = _one_axis(ts[0], "concat", dim if dim is not None else axis)
    ref = ts[0].shape
    for k, t in enumerate(ts):
        if t.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref)) if i != axis):
            raise ValueError(f"concat: tensor {k} has shape {t.shape} but tensor 0 has shape {ref}; all axes but "
                             f"axis {axis} must match")
    if len(ts) == 1:
        return ts[0]
    return ops.Concat.apply(*ts, axis=axis)


cat = concat


def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    axis = dim if dim is not None else axis
    nd = ts[0].ndim + 1
    if not -nd <= axis < nd:
        raise ValueError(f"stack: axis {axis} is out of range for stacking tensors of shape {ts[0].shape}")
    for k, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: tensor {k} has shape {t.shape} but tensor 0 has shape {ts[0].shape}; "
                             "all must match")
    return ops.Stack.apply(*ts, axis=axis % nd)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise `a` where `cond` is true, else `b` (broadcasting); no gradient flows into `cond`."""
    c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    a, b = _pair(a, b)
    try:
        np.broadcast_shapes(c.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes cond {c.shape}, a {a.shape}, b {b.shape} do not broadcast") from None
    return ops.Where.apply(Tensor(c.astype(bool, copy=False)), a, b)


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both as tensors of the dtype torch promotes them to (a scalar takes the dtype of the tensor beside it)."""
    if isinstance(a, Tensor):
        return _operands(a, b)
    if isinstance(b, Tensor):
        b2, a2 = _operands(b, a)
        return a2, b2
    return _operands(Tensor(a), b)


def maximum(a: Any, b: Any) -> Tensor:
    return ops.Maximum.apply(*_pair(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    return ops.Minimum.apply(*_pair(a, b))


def _constant(arr: np.ndarray) -> Tensor:
    """A constant tensor around `arr` (no copy, no checks: the caller made it)."""
    t = Tensor.__new__(Tensor)
    t.data, t.grad, t.requires_grad, t.name, t._ctx, t._retains_grad = arr, None, False, None, None, False
    return t


def _operands(a: Tensor, b: Any, floating: bool = False) -> tuple[Tensor, Tensor]:
    """`a` and `b` as tensors of the dtype torch computes ``a ∘ b`` in (the rules: `dtypes.result_type`).

    The common cases return at once (this runs once per arithmetic op); otherwise an operand of another dtype is
    converted, a tensor that requires grad through `Cast` so its gradient comes back in its own dtype."""
    ad = a.data.dtype
    if isinstance(b, Tensor):
        if b.data.dtype == ad and (not floating or ad.kind == "f"):
            return a, b
        bd: Any = b.data
    elif type(b) in _PY_SCALARS and ad.kind == "f":  # x * 0.5, 1 - z: the constant made inline (no call)
        t = Tensor.__new__(Tensor)
        t.data, t.grad, t.requires_grad, t.name = np.asarray(b, ad), None, False, None
        t._ctx, t._retains_grad = None, False
        return a, t
    else:
        bd = b if isinstance(b, (np.ndarray, numbers.Number)) else _to_array(b, None)
    dt = dtypes.result_type(a.data, bd, floating=floating)
    return _as_dtype(a, dt), _as_dtype(b if isinstance(b, Tensor) else bd, dt)


def _as_dtype(x: Any, dt: np.dtype) -> Tensor:
    if not isinstance(x, Tensor):
        return _constant(np.asarray(x, dtype=dt))
    if x.data.dtype == dt:
        return x
    return ops.Cast.apply(x, dtype=dt) if x.requires_grad else _constant(x.data.astype(dt))
