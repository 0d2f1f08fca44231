"""Activation functions with a kink or a constant, stated like every elementwise op (see elementwise.py): the
forward `f` next to its local derivative `df(g, z, x)` = g · dz/dx, with torch's value of the derivative at the
kinks. Keyword arguments are the activation's constants."""

from __future__ import annotations

from .elementwise import Elementwise
from .expr import abs_, exp, expm1, maximum, minimum, where

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Elu(Elementwise):
    """z = x if x > 0 else α(eˣ - 1)      dz/dx = 1 if x > 0 else αeˣ = z + α"""

    ignore_fp_errors = True  # e^x overflows in the branch where() discards

    def f(x, *, alpha=1.0):
        return where(x > 0, x, alpha * expm1(x))

    def df(g, z, x, *, alpha=1.0):
        return where(x > 0, g, g * (z + alpha))


class Selu(Elementwise):
    """z = λx if x > 0 else λα(eˣ - 1)     dz/dx = λ if x > 0 else λαeˣ      (λ, α: the self-normalizing constants)"""

    ignore_fp_errors = True  # e^x overflows in the branch where() discards

    def f(x):
        return where(x > 0, SELU_SCALE * x, (SELU_SCALE * SELU_ALPHA) * expm1(x))

    def df(g, z, x):
        return where(x > 0, g * SELU_SCALE, g * (SELU_SCALE * SELU_ALPHA) * exp(x))


class Celu(Elementwise):
    """z = max(0, x) + min(0, α(e^(x/α) - 1))      dz/dx = 1 if x > 0 else e^(x/α)"""

    ignore_fp_errors = True  # e^x overflows in the branch where() discards

    def f(x, *, alpha=1.0):
        return maximum(x, 0) + minimum(alpha * expm1(x / alpha), 0)

    def df(g, z, x, *, alpha=1.0):
        return where(x > 0, g, g * exp(x / alpha))


class Hardtanh(Elementwise):
    """z = min(max(x, lo), hi)      dz/dx = 1 where lo < x < hi, else 0   (torch: 0 at the corners)"""

    def f(x, *, min_val=-1.0, max_val=1.0):
        return minimum(maximum(x, min_val), max_val)

    def df(g, z, x, *, min_val=-1.0, max_val=1.0):
        return where(x > min_val, where(x < max_val, g, 0), 0)


class Hardsigmoid(Elementwise):
    """z = min(max(x/6 + ½, 0), 1)      dz/dx = 1/6 where -3 < x < 3, else 0"""

    def f(x):
        return minimum(maximum(x / 6 + 0.5, 0), 1)

    def df(g, z, x):
        return where(x > -3, where(x < 3, g / 6, 0), 0)


class Hardswish(Elementwise):
    """z = x · min(max(x + 3, 0), 6) / 6      dz/dx = 0 for x ≤ -3, x/3 + ½ for x < 3, 1 from 3 on (torch's)"""

    def f(x):
        return x * minimum(maximum(x + 3, 0), 6) / 6

    def df(g, z, x):
        return where(x <= -3, 0, where(x < 3, g * (x / 3 + 0.5), g))


class Softsign(Elementwise):
    """z = x / (1 + |x|)      dz/dx = 1 / (1 + |x|)²"""

    def f(x):
        return x / (1 + abs_(x))

    def df(g, z, x):
        return g / ((1 + abs_(x)) * (1 + abs_(x)))
