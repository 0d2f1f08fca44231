"""Module-level constructors and names as PyTorch spells them: ``tinygrad_lstm.tensor([1, 2])``, ``randn(2, 3)``,
``zeros_like(x)``, ``float32``, ``device("cpu")``, so that ``import tinygrad_lstm as torch`` runs torch code.

Dtypes are numpy dtypes (``float32 == np.dtype("float32")``); the only device is the CPU.
Random constructors draw from the generator `manual_seed` sets.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .random import rng
from .tensor import DEFAULT_FLOAT, Tensor

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
# torch's aliases: torch.float, torch.double, torch.long, torch.int, torch.half, torch.bool (__init__ exports them)
ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32, "short": int16,
           "bool": bool_}


class Size(tuple):
    """A tensor's shape as `Tensor.size()` returns it: a tuple of ints (as torch.Size) with `numel()`."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"Size({list(self)})"


class device:  # noqa: N801 - torch's name
    """``device("cpu")``: the one device there is. Accepted wherever torch takes a device (``.to(device)``)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device = "cpu", index: int | None = None) -> None:  # noqa: A002
        name = type.type if isinstance(type, device) else str(type)
        kind, _, idx = name.partition(":")
        if kind != "cpu":
            raise RuntimeError(f"device: tinygrad_lstm runs on the CPU only, got device {name!r} "
                               "(use 'cpu'; cuda.is_available() is False)")
        self.type, self.index = "cpu", int(idx) if idx else index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (device, str)) and str(other).split(":")[0] == "cpu"

    __hash__ = object.__hash__

    def __str__(self) -> str:
        return "cpu"

    def __repr__(self) -> str:
        return "device(type='cpu')"


CPU = device("cpu")


class cuda:  # noqa: N801 - torch's module name
    """``cuda.is_available()`` is False: torch code that picks a device falls back to the CPU."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:  # torch code seeds both; nothing to seed here
        return None

    manual_seed_all = manual_seed


def check_device(dev: Any, op: str) -> None:
    """Raise a clear error unless `dev` names the CPU (None means "unchanged")."""
    if dev is not None:
        try:
            device(dev)
        except RuntimeError as e:
            raise RuntimeError(f"{op}: {str(e).removeprefix('device: ')}") from None


def _shape(size: tuple, op: str) -> tuple[int, ...]:
    """torch's ways of giving a shape: ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])``, ``f(x.size())``, ``f()``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{op}: sizes must be non-negative integers, got {tuple(size)!r}")
    return tuple(int(n) for n in size)


def _new(arr: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(arr, requires_grad=requires_grad)


def _float(dtype: Any, op: str) -> np.dtype:
    dt = np.dtype(dtype if dtype is not None else DEFAULT_FLOAT)
    if dt.kind != "f":
        raise TypeError(f"{op}: expected a floating dtype such as float32 or float64, got {dt}")
    return dt


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    """A new tensor holding a copy of `data` (nested lists, scalars, ndarrays, tensors), as ``torch.tensor``:
    Python floats become float32, Python ints int64, bools bool; ndarrays keep their dtype."""
    check_device(device, "tensor")
    data = _plain(data)
    return Tensor(np.array(data, dtype=dtype) if dtype is not None else data, requires_grad=requires_grad)


def _plain(data: Any) -> Any:
    """Tensors inside (nested) lists as their arrays: ``tensor([t1, t2])`` of one-element tensors, as torch."""
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [_plain(d) for d in data]
    return data


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:  # noqa: A002
    """`data` as a tensor: a Tensor of that dtype is returned as is, else converted (as ``torch.as_tensor``)."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with the ndarray `a` (as ``torch.from_numpy``)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(a).__name__}")
    t = Tensor(a.reshape(-1)[:0])  # checks the dtype without copying the data, then shares the caller's buffer
    t.data = a
    return t


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    check_device(device, "zeros")
    return _new(np.zeros(_shape(size, "zeros"), dtype=dtype or DEFAULT_FLOAT), requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    check_device(device, "ones")
    return _new(np.ones(_shape(size, "ones"), dtype=dtype or DEFAULT_FLOAT), requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    """Uninitialised memory, as torch: fill it before reading."""
    check_device(device, "empty")
    return _new(np.empty(_shape(size, "empty"), dtype=dtype or DEFAULT_FLOAT), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,  # noqa: A002
         requires_grad: bool = False) -> Tensor:
    """`size` filled with `fill_value`; without a dtype, a bool fill gives bool, an int int64, a float float32."""
    check_device(device, "full")
    shape = _shape((size,) if isinstance(size, numbers.Integral) else tuple(size), "full")
    return _new(np.full(shape, fill_value, dtype=dtype or _scalar_dtype(fill_value)), requires_grad)


def _scalar_dtype(v: Any) -> np.dtype:
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, (bool, np.bool_)):
        return bool_
    if isinstance(v, numbers.Integral):
        return int64
    return np.dtype(DEFAULT_FLOAT)


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,  # noqa: A002
          generator: Any = None) -> Tensor:
    """Standard normal samples."""
    check_device(device, "randn")
    dt = _float(dtype, "randn")
    return _new(_rng(generator).standard_normal(_shape(size, "randn")).astype(dt), requires_grad)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,  # noqa: A002
         generator: Any = None) -> Tensor:
    """Uniform samples on [0, 1)."""
    check_device(device, "rand")
    dt = _float(dtype, "rand")
    return _new(_rng(generator).random(_shape(size, "rand")).astype(dt), requires_grad)


def randint(low: int, high: int | None = None, size: Any = None, *, dtype: Any = None, device: Any = None,  # noqa: A002
            generator: Any = None) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``; int64."""
    check_device(device, "randint")
    if size is None:  # randint(high, size): the second positional is the size
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: give the size as a tuple: randint(high, (n,)) or randint(low, high, (n,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    shape = _shape(tuple(size), "randint")
    return Tensor(_rng(generator).integers(low, high, shape).astype(dtype or int64))


def randperm(n: int, *, dtype: Any = None, device: Any = None,  # noqa: A002
             generator: Any = None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    check_device(device, "randperm")
    return Tensor(_rng(generator).permutation(int(n)).astype(dtype or int64))


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None, device: Any = None,  # noqa: A002
           requires_grad: bool = False) -> Tensor:
    """Values start, start + step, … below `end` (``arange(end)`` starts at 0); int64 when all are ints."""
    check_device(device, "arange")
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    return Tensor.arange(start, end, step, dtype=dtype, requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,  # noqa: A002
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, both included (float32 unless told)."""
    check_device(device, "linspace")
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    return _new(np.linspace(start, end, int(steps), dtype=dtype or DEFAULT_FLOAT), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,  # noqa: A002
        requires_grad: bool = False) -> Tensor:
    """The n×m identity (m = n unless given)."""
    check_device(device, "eye")
    return _new(np.eye(n, m, dtype=dtype or DEFAULT_FLOAT), requires_grad)


# ----- sampling: torch.multinomial, torch.bernoulli, torch.normal, torch.Generator -------------------------------


class Generator:
    """A random generator of its own (``torch.Generator().manual_seed(1)``), to pass as ``generator=``."""

    def __init__(self, device: Any = "cpu") -> None:
        check_device(device, "Generator")
        self._rng = np.random.default_rng()

    def manual_seed(self, seed: int) -> Generator:
        self._rng = np.random.default_rng(seed)
        return self


def _rng(generator: Any) -> np.random.Generator:
    if generator is None:
        return rng()
    return generator._rng if isinstance(generator, Generator) else generator


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None) -> Tensor:
    """Class indices drawn with probabilities proportional to the (non-negative) weights in each row of `input`
    (1-D: one distribution; 2-D: one per row): int64 of shape (num_samples,) or (rows, num_samples)."""
    w = np.asarray(input.data if isinstance(input, Tensor) else input, dtype=np.float64)
    if w.ndim not in (1, 2) or w.shape[-1] == 0:
        raise ValueError(f"multinomial: expected weights of shape (C,) or (N, C) with C > 0, got {w.shape}")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("multinomial: weights must be finite and non-negative")
    rows = w.reshape(-1, w.shape[-1])
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("multinomial: every row of weights needs a positive sum")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from a row with "
                         f"fewer non-zero weights")
    g = _rng(generator)
    out = np.stack([g.choice(rows.shape[1], size=num_samples, replace=replacement, p=r / t)
                    for r, t in zip(rows, totals)])
    return Tensor(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))


def bernoulli(input: Any, p: float | None = None, *, generator: Any = None) -> Tensor:  # noqa: A002
    """1 with probability `input` (or `p`), else 0, elementwise; the dtype of `input`."""
    probs = np.asarray(input.data if isinstance(input, Tensor) else input)
    q = probs if p is None else np.full(probs.shape, p)
    if ((q < 0) | (q > 1)).any():
        raise ValueError("bernoulli: probabilities must be between 0 and 1")
    return Tensor((_rng(generator).random(probs.shape) < q).astype(probs.dtype if probs.dtype.kind == "f"
                                                                    else DEFAULT_FLOAT))


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples with the given mean and std: numbers with a `size`, or tensors (broadcast together)."""
    m, s = (np.asarray(v.data if isinstance(v, Tensor) else v) for v in (mean, std))
    if (s < 0).any():
        raise ValueError("normal: std must be non-negative")
    shape = _shape(tuple(size), "normal") if size is not None else np.broadcast_shapes(m.shape, s.shape)
    dt = _float(dtype or (m.dtype if m.dtype.kind == "f" and m.ndim else None), "normal")
    return _new((m + s * _rng(generator).standard_normal(shape)).astype(dt), requires_grad)


# ----- the legacy typed constructors: torch.FloatTensor([1, 2]), torch.LongTensor(labels) -----------------------


def _typed(dt: np.dtype, name: str) -> Any:
    def make(*data: Any) -> Tensor:
        """A tensor of this type from data (``LongTensor([1, 2])``), or zeros of a shape (``FloatTensor(2, 3)``;
        torch leaves those uninitialised)."""
        if len(data) == 1 and not isinstance(data[0], numbers.Integral):
            return tensor(data[0], dtype=dt)
        return Tensor(np.zeros(_shape(data, name), dtype=dt))

    make.__name__ = make.__qualname__ = name
    return make


FloatTensor = _typed(float32, "FloatTensor")
DoubleTensor = _typed(float64, "DoubleTensor")
LongTensor = _typed(int64, "LongTensor")
IntTensor = _typed(int32, "IntTensor")
BoolTensor = _typed(bool_, "BoolTensor")


# ----- *_like: the shape (and, unless given, the dtype) of another tensor ---------------------------------------


def _like(t: Any) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def zeros_like(t: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    a = _like(t)
    return _new(np.zeros(a.shape, dtype=dtype or a.dtype), requires_grad)


def ones_like(t: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    a = _like(t)
    return _new(np.ones(a.shape, dtype=dtype or a.dtype), requires_grad)


def empty_like(t: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    a = _like(t)
    return _new(np.empty(a.shape, dtype=dtype or a.dtype), requires_grad)


def full_like(t: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    a = _like(t)
    return _new(np.full(a.shape, fill_value, dtype=dtype or a.dtype), requires_grad)


def randn_like(t: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    a = _like(t)
    return randn(a.shape, dtype=dtype or a.dtype, requires_grad=requires_grad)


def rand_like(t: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    a = _like(t)
    return rand(a.shape, dtype=dtype or a.dtype, requires_grad=requires_grad)


def randint_like(t: Any, low: int, high: int | None = None, *, dtype: Any = None,  # noqa: A002
                 device: Any = None) -> Tensor:
    a = _like(t)
    return randint(low, high, a.shape, dtype=dtype or a.dtype)


# ----- naming dtypes and devices -----------------------------------------------------------------------------------

TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int64: "LongTensor",
              int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor", bool_: "BoolTensor"}
_BY_TYPE_NAME = {name: dt for dt, name in TYPE_NAMES.items()}


def is_device(a: Any) -> bool:
    """Whether `a` names a device ("cpu", "cuda:0", device(...)) rather than a dtype."""
    return isinstance(a, device) or (isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "meta"))


def parse_dtype(dtype: Any, op: str) -> np.dtype:
    """A dtype from a numpy dtype or type, torch's names ("float32", "long") or a type name
    ("torch.FloatTensor", "tinygrad_lstm.LongTensor")."""
    if callable(dtype) and getattr(dtype, "__name__", "") in _BY_TYPE_NAME:  # x.type(torch.LongTensor)
        return _BY_TYPE_NAME[dtype.__name__]
    if isinstance(dtype, str):
        short = dtype.rsplit(".", 1)[-1]
        if short in _BY_TYPE_NAME:
            return _BY_TYPE_NAME[short]
        if short in ALIASES:
            return ALIASES[short]
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is neither a dtype (float32, int64, ...) nor a device ('cpu')") from None
