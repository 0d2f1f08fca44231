"""Elementwise ops, each stated once: its forward `f` next to its local derivative `df`, as plain math.

    class Sigmoid(Elementwise):
        def f(x):           return sigmoid(x)
        def df(g, z, x):    return g * z * (1 - z)        # dz/dx = z(1 - z), times the incoming gradient g

`df(g, z, *inputs)` returns one gradient per input (None for an input that takes none): the chain rule's local
step, `g · ∂z/∂input`. Both functions are written in the primitives of `expr.py`, so they can be called on
symbols: every backend derives its code from these two functions (the numpy reference backend renders numpy
expressions, the numba backend scalar loops, jit/fuse.py the statements of a fused kernel). Nothing else in the
code base states a derivative of an elementwise op.

Inputs broadcast as in numpy; each gradient has the *broadcast* shape and the engine sums it back to the input's
shape (`autograd.unbroadcast`), so no op here deals with broadcasting.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from ..autograd import Function
from ..kernels import active as K
from .expr import Expr, Var, exp, free_vars, log, maximum, minimum, sigmoid, sign, sqrt, tanh, where


class Lowered:
    """An elementwise op with its attributes fixed, as expression trees: what the backends compile.

    `inputs` are the argument names of `f` ("x", "y", ...); `forward` the tree of z; `grads[k]` the tree of input
    k's gradient (None: no gradient), reading "g", "z" and input names; `saves` the names backward reads."""

    def __init__(self, op: type[Elementwise], attrs: dict[str, Any]) -> None:
        self.op, self.attrs = op, attrs
        self.name = op.__name__
        self.inputs = op.input_names
        xs = [Var(n) for n in self.inputs]
        self.forward: Expr = _expr(op.f(*xs, **attrs))
        grads = op.df(Var("g"), Var("z"), *xs, **attrs)
        self.grads: tuple[Expr | None, ...] = tuple(None if d is None else _expr(d) for d in
                                                    (grads if isinstance(grads, tuple) else (grads,)))
        used = set().union(*(free_vars(d) for d in self.grads if d is not None))
        self.saves = tuple(n for n in ("z", *self.inputs) if n in used)
        # where each saved value is in (z, *inputs): forward picks them by position, once per call
        self.save_slots = tuple(("z", *self.inputs).index(n) for n in self.saves)
        self.key = (self.name, tuple(sorted(attrs.items())))
        self.impl: dict[str, Any] = {}  # what each backend compiled from the trees, by backend name

    def __repr__(self) -> str:
        grads = ", ".join(f"d{n} = {d!r}" for n, d in zip(self.inputs, self.grads) if d is not None)
        return f"<{self.name}: z = {self.forward!r}; {grads}>"


def _expr(e: Any) -> Expr:
    """A definition may return a plain number (a constant) or one of its inputs: make it a tree either way."""
    return e if isinstance(e, Expr) else Expr("const", float(e))


class Elementwise(Function):
    """An op applied element by element. Subclasses define `f(x, ...)` and `df(g, z, x, ...)` (plain functions in
    the class body; keyword-only arguments are the op's attributes, given to both); everything else is derived."""

    input_names: ClassVar[tuple[str, ...]] = ()
    ignore_fp_errors: ClassVar[bool] = False  # the numpy backend silences 0/0, log(-1), ... for this op
    _lowered: ClassVar[dict]
    _plain: ClassVar[Lowered]  # the op without attributes: looked up on every call, so kept at hand

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        for name in ("f", "df"):
            setattr(cls, name, staticmethod(cls.__dict__[name]))
        params = inspect.signature(cls.f).parameters.values()
        cls.input_names = tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD)
        cls._lowered = {}
        cls._plain = cls.lower()

    @classmethod
    def lower(cls, **attrs: Any) -> Lowered:
        """The op with these attributes as expression trees (built once per distinct attributes)."""
        key = tuple(sorted(attrs.items()))
        low = cls._lowered.get(key)
        if low is None:
            low = cls._lowered[key] = Lowered(cls, attrs)
        return low

    def forward(self, *xs: np.ndarray, **attrs: Any) -> np.ndarray:
        low = self.lower(**attrs) if attrs else self._plain
        z = K().elementwise(low, xs)
        if low.saves:
            values = (z, *xs)
            self.saved_tensors = tuple([values[i] for i in low.save_slots])
        return z

    def backward(self, g: np.ndarray) -> tuple:
        low = self.lower(**self.attrs) if self.attrs else self._plain
        saved = self.saved_tensors if low.saves else ()
        k = K()
        return tuple(k.elementwise_grad(low, i, g, saved) if need and low.grads[i] is not None else None
                     for i, need in enumerate(self.needs_input_grad))


# ---------------------------------------------------------------------------------------------------------------
# arithmetic
# ---------------------------------------------------------------------------------------------------------------


class Add(Elementwise):
    """z = x + y          dz/dx = 1,  dz/dy = 1"""

    def f(x, y):
        return x + y

    def df(g, z, x, y):
        return g, g


class Sub(Elementwise):
    """z = x - y          dz/dx = 1,  dz/dy = -1"""

    def f(x, y):
        return x - y

    def df(g, z, x, y):
        return g, -g


class Mul(Elementwise):
    """z = x * y          dz/dx = y,  dz/dy = x"""

    def f(x, y):
        return x * y

    def df(g, z, x, y):
        return g * y, g * x


class Div(Elementwise):
    """z = x / y          dz/dx = 1/y,  dz/dy = -x/y² = -z/y"""

    def f(x, y):
        return x / y

    def df(g, z, x, y):
        return g / y, -(g / y) * z


class Pow(Elementwise):
    """z = x ** y         dz/dx = y · x^(y-1)  (0 where y = 0, even at x = 0),
                          dz/dy = z · ln x     (0 where x = 0 and y ≥ 0: the limit, as torch)"""

    ignore_fp_errors = True  # 0 ** -1 = inf and (-1) ** 0.5 = nan, as numpy and torch give

    def f(x, y):
        return x**y

    def df(g, z, x, y):
        dx = where(y.eq(0), 0, g * y * x ** (y - 1))
        dy = where(x.eq(0), where(y >= 0, 0, g * z * log(x)), g * z * log(x))
        return dx, dy


class Neg(Elementwise):
    """z = -x             dz/dx = -1"""

    def f(x):
        return -x

    def df(g, z, x):
        return -g


# ---------------------------------------------------------------------------------------------------------------
# pointwise functions
# ---------------------------------------------------------------------------------------------------------------


class Exp(Elementwise):
    """z = eˣ              dz/dx = eˣ = z"""

    def f(x):
        return exp(x)

    def df(g, z, x):
        return g * z


class Log(Elementwise):
    """z = ln x           dz/dx = 1/x"""

    def f(x):
        return log(x)

    def df(g, z, x):
        return g / x


class Sqrt(Elementwise):
    """z = √x             dz/dx = 1/(2√x) = 1/(2z)"""

    ignore_fp_errors = True  # √-1 = nan and 1/(2·√0) = inf, as torch, without warnings

    def f(x):
        return sqrt(x)

    def df(g, z, x):
        return g / (2 * z)


class Tanh(Elementwise):
    """z = tanh x         dz/dx = 1 - tanh²x = 1 - z²"""

    def f(x):
        return tanh(x)

    def df(g, z, x):
        return g * (1 - z * z)


class Sigmoid(Elementwise):
    """z = σ(x) = 1/(1+e⁻ˣ)     dz/dx = σ(x)(1-σ(x)) = z(1-z)"""

    def f(x):
        return sigmoid(x)

    def df(g, z, x):
        return g * z * (1 - z)


class Relu(Elementwise):
    """z = max(x, 0)      dz/dx = 1 where x > 0, else 0"""

    def f(x):
        return maximum(x, 0)  # NaN stays NaN

    def df(g, z, x):
        return where(x > 0, g, 0)


class Abs(Elementwise):
    """z = |x|            dz/dx = sign(x)   (0 at x = 0, as torch)"""

    def f(x):
        return abs(x)

    def df(g, z, x):
        return g * sign(x)


class Clip(Elementwise):
    """z = min(max(x, lo), hi)      dz/dx = 1 where lo ≤ x ≤ hi, else 0   (torch.clamp's convention)"""

    def f(x, *, min=None, max=None):  # noqa: A002 - numpy's and torch's names
        z = x if min is None else maximum(x, min)
        return z if max is None else minimum(z, max)

    def df(g, z, x, *, min=None, max=None):  # noqa: A002
        d = g if min is None else where(x >= min, g, 0)
        return d if max is None else where(x <= max, d, 0)


class Maximum(Elementwise):
    """z = max(x, y)      dz/dx = 1 where x > y, dz/dy = 1 where y > x; a tie splits the gradient in half"""

    def f(x, y):
        return maximum(x, y)

    def df(g, z, x, y):  # zero where the other is larger (so a NaN passes g to both inputs, as torch)
        return where(x < y, 0, where(x.eq(y), g * 0.5, g)), where(y < x, 0, where(x.eq(y), g * 0.5, g))


class Minimum(Elementwise):
    """z = min(x, y)      dz/dx = 1 where x < y, dz/dy = 1 where y < x; a tie splits the gradient in half"""

    def f(x, y):
        return minimum(x, y)

    def df(g, z, x, y):  # zero where the other is smaller (so a NaN passes g to both inputs, as torch)
        return where(x > y, 0, where(x.eq(y), g * 0.5, g)), where(y > x, 0, where(x.eq(y), g * 0.5, g))


class Where(Elementwise):
    """z = cond ? x : y   dz/dx = cond,  dz/dy = not cond   (cond carries no gradient)"""

    def f(cond, x, y):
        return where(cond, x, y)

    def df(g, z, cond, x, y):
        return None, where(cond, g, 0), where(cond, 0, g)


# ---------------------------------------------------------------------------------------------------------------
# not math: a change of dtype
# ---------------------------------------------------------------------------------------------------------------


class Cast(Function):
    """z = x in another floating dtype     dz/dx = 1   (the engine casts the gradient to x's dtype)"""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, g):
        return g
