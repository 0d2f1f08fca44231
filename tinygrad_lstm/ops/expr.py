"""Symbolic scalar math: what an elementwise op's definition is written in.

Each elementwise op states its forward and its derivative once, as plain math on its inputs (see elementwise.py):

    def f(x):            return sigmoid(x)
    def df(g, z, x):     return g * z * (1 - z)

Called on `Var`s, those functions build expression trees (`Expr`); every backend renders the trees into its own
code: numpy expressions for the reference backend, scalar loops for the numba kernels, statements of a fused
kernel (jit/fuse.py). So the derivative above is the only place the code base states it.

The primitives (`exp`, `tanh`, `where`, ...) are listed in PRIMITIVES with their numpy meaning; a backend may give a
primitive a faster implementation (numba's float32 `tanh` is a rational approximation), never a different
derivative: derivatives are written in terms of primitives, never of their implementations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class Expr:
    """A node of a scalar expression: `op` applied to `args` (Exprs, or a Python number for "const", a name for
    "var"). Arithmetic and comparisons build new nodes, so plain math written on Exprs records itself."""

    __slots__ = ("op", "args")

    def __init__(self, op: str, *args: Any) -> None:
        self.op, self.args = op, args

    # arithmetic: x + 1, 1 - z, ...
    def __add__(self, o: Any) -> Expr:
        return call("add", self, o)

    def __radd__(self, o: Any) -> Expr:
        return call("add", o, self)

    def __sub__(self, o: Any) -> Expr:
        return call("sub", self, o)

    def __rsub__(self, o: Any) -> Expr:
        return call("sub", o, self)

    def __mul__(self, o: Any) -> Expr:
        return call("mul", self, o)

    def __rmul__(self, o: Any) -> Expr:
        return call("mul", o, self)

    def __truediv__(self, o: Any) -> Expr:
        return call("div", self, o)

    def __rtruediv__(self, o: Any) -> Expr:
        return call("div", o, self)

    def __pow__(self, o: Any) -> Expr:
        return call("pow", self, o)

    def __rpow__(self, o: Any) -> Expr:
        return call("pow", o, self)

    def __neg__(self) -> Expr:
        return call("neg", self)

    def __abs__(self) -> Expr:
        return call("abs", self)

    # comparisons give boolean Exprs, for `where`
    def __lt__(self, o: Any) -> Expr:
        return call("lt", self, o)

    def __le__(self, o: Any) -> Expr:
        return call("le", self, o)

    def __gt__(self, o: Any) -> Expr:
        return call("gt", self, o)

    def __ge__(self, o: Any) -> Expr:
        return call("ge", self, o)

    def eq(self, o: Any) -> Expr:  # not __eq__: Exprs are dict keys
        return call("eq", self, o)

    def __bool__(self) -> bool:
        raise TypeError("an elementwise definition cannot branch on a value: use where(cond, a, b)")

    def __repr__(self) -> str:
        return render(self, PYTHON)

    def key(self) -> tuple:
        """A hashable identity of the tree (for common-subexpression reuse)."""
        if self.op in ("var", "const"):
            return (self.op, self.args[0])
        return (self.op,) + tuple(a.key() for a in self.args)


def Var(name: str) -> Expr:
    return Expr("var", name)


def const(v: Any) -> Expr:
    return v if isinstance(v, Expr) else Expr("const", float(v) if not isinstance(v, bool) else v)


def free_vars(e: Expr) -> set[str]:
    """The variable names an expression reads (a derivative that never reads x does not need x saved)."""
    out: set[str] = set()
    stack = [e]
    while stack:
        n = stack.pop()
        if n.op == "var":
            out.add(n.args[0])
        elif n.op != "const":
            stack.extend(n.args)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Primitives: name -> (arity, numpy meaning). Called on Exprs they build a node; on arrays or numbers they compute.
# ---------------------------------------------------------------------------------------------------------------


def _np_sigmoid(x: Any) -> Any:
    # Stable split form: with e = exp(-|x|) in (0, 1] nothing overflows, and for x < 0 the result e / (1 + e)
    # keeps full relative accuracy (1 - 1/(1 + e^-x) would cancel to 0).
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(np.result_type(x.dtype, np.float16))  # the float type np.exp would give (bool has no -)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def _np_erf(x: Any) -> Any:
    from scipy.special import erf  # numpy has no erf

    return erf(x)


PRIMITIVES: dict[str, tuple[int, Callable]] = {
    "add": (2, np.add), "sub": (2, np.subtract), "mul": (2, np.multiply), "div": (2, np.divide),
    "pow": (2, np.power), "neg": (1, np.negative),
    "lt": (2, np.less), "le": (2, np.less_equal), "gt": (2, np.greater), "ge": (2, np.greater_equal),
    "eq": (2, np.equal), "where": (3, np.where),
    "exp": (1, np.exp), "log": (1, np.log), "sqrt": (1, np.sqrt), "abs": (1, np.abs), "sign": (1, np.sign),
    "tanh": (1, np.tanh), "sigmoid": (1, _np_sigmoid),
    "maximum": (2, np.maximum), "minimum": (2, np.minimum),
    "sin": (1, np.sin), "cos": (1, np.cos), "tan": (1, np.tan),
    "asin": (1, np.arcsin), "acos": (1, np.arccos), "atan": (1, np.arctan),
    "sinh": (1, np.sinh), "cosh": (1, np.cosh), "asinh": (1, np.arcsinh), "acosh": (1, np.arccosh),
    "atanh": (1, np.arctanh), "log1p": (1, np.log1p), "expm1": (1, np.expm1), "erf": (1, _np_erf),
    "floor": (1, np.floor), "ceil": (1, np.ceil), "round": (1, np.round), "trunc": (1, np.trunc),
}


def call(name: str, *args: Any) -> Any:
    """`name(*args)`: a new Expr if any argument is one, else the numpy value."""
    if any(isinstance(a, Expr) for a in args):
        return Expr(name, *[const(a) for a in args])
    return PRIMITIVES[name][1](*args)


def _primitive(name: str) -> Callable:
    def fn(*args: Any) -> Any:
        return call(name, *args)

    fn.__name__ = name
    return fn


exp, log, sqrt, tanh, sigmoid = (_primitive(n) for n in ("exp", "log", "sqrt", "tanh", "sigmoid"))
abs_, sign, where, maximum, minimum = (_primitive(n) for n in ("abs", "sign", "where", "maximum", "minimum"))
sin, cos, tan, asin, acos, atan = (_primitive(n) for n in ("sin", "cos", "tan", "asin", "acos", "atan"))
sinh, cosh, asinh, acosh, atanh = (_primitive(n) for n in ("sinh", "cosh", "asinh", "acosh", "atanh"))
log1p, expm1, erf = (_primitive(n) for n in ("log1p", "expm1", "erf"))
floor, ceil, round_, trunc = (_primitive(n) for n in ("floor", "ceil", "round", "trunc"))


# ---------------------------------------------------------------------------------------------------------------
# Rendering: an Expr as source text in a dialect
# ---------------------------------------------------------------------------------------------------------------

_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "lt": "<", "le": "<=", "gt": ">",
          "ge": ">=", "eq": "=="}


class Dialect:
    """How a backend spells a tree: `const(v)` a number, `fn(name)` a primitive's callable name, `where` the select
    (numpy: a function; scalar code: a conditional expression)."""

    def __init__(self, const: Callable[[Any], str], fn: Callable[[str], str], scalar: bool) -> None:
        self.const, self.fn, self.scalar = const, fn, scalar


PYTHON = Dialect(repr, lambda n: n, scalar=True)
# numpy: Python-number constants are "weak" (NEP 50): 1 - z keeps z's float32
NUMPY = Dialect(repr, lambda n: f"P_{n}", scalar=False)


def render(e: Expr, dialect: Dialect, names: dict[str, str] | None = None) -> str:
    """Source text of `e`; variables renamed through `names`. Iterative (post-order), no recursion."""
    names = names or {}
    done: dict[int, str] = {}
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        n, ready = stack.pop()
        if id(n) in done:
            continue
        if n.op == "var":
            done[id(n)] = names.get(n.args[0], n.args[0])
        elif n.op == "const":
            done[id(n)] = dialect.const(n.args[0])
        elif not ready:
            stack.append((n, True))
            stack.extend((a, False) for a in n.args)
        else:
            done[id(n)] = _spell(n, [done[id(a)] for a in n.args], dialect)
    return done[id(e)]


def _spell(n: Expr, a: list[str], d: Dialect) -> str:
    if n.op == "neg":
        return f"(-{a[0]})"
    if n.op in _INFIX:
        return f"({a[0]} {_INFIX[n.op]} {a[1]})"
    if n.op == "where" and d.scalar:
        return f"({a[1]} if {a[0]} else {a[2]})"
    return f"{d.fn(n.op)}({', '.join(a)})"
