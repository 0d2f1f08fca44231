"""More pointwise functions, stated like every elementwise op (see elementwise.py): the forward `f` next to
its local derivative `df(g, z, x, ...)` = g · ∂z/∂input, as plain math. Rounding functions are flat: their
gradient is 0 everywhere (as torch gives)."""

from __future__ import annotations

import math

from .elementwise import Elementwise
from .expr import (
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    cos,
    cosh,
    erf,
    exp,
    expm1,
    floor,
    log,
    log1p,
    maximum,
    round_,
    sign,
    sin,
    sinh,
    sqrt,
    tan,
    trunc,
    where,
)

LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Sin(Elementwise):
    """z = sin x          dz/dx = cos x"""

    def f(x):
        return sin(x)

    def df(g, z, x):
        return g * cos(x)


class Cos(Elementwise):
    """z = cos x          dz/dx = -sin x"""

    def f(x):
        return cos(x)

    def df(g, z, x):
        return -(g * sin(x))


class Tan(Elementwise):
    """z = tan x          dz/dx = 1 + tan²x = 1 + z²"""

    def f(x):
        return tan(x)

    def df(g, z, x):
        return g * (1 + z * z)


class Asin(Elementwise):
    """z = arcsin x       dz/dx = 1/√(1 - x²)"""

    ignore_fp_errors = True  # outside the domain: nan (and ±inf at its ends), as torch, without warnings

    def f(x):
        return asin(x)

    def df(g, z, x):
        return g / sqrt(1 - x * x)


class Acos(Elementwise):
    """z = arccos x       dz/dx = -1/√(1 - x²)"""

    ignore_fp_errors = True  # outside the domain: nan (and ±inf at its ends), as torch, without warnings

    def f(x):
        return acos(x)

    def df(g, z, x):
        return -(g / sqrt(1 - x * x))


class Atan(Elementwise):
    """z = arctan x       dz/dx = 1/(1 + x²)"""

    def f(x):
        return atan(x)

    def df(g, z, x):
        return g / (1 + x * x)


class Sinh(Elementwise):
    """z = sinh x         dz/dx = cosh x"""

    def f(x):
        return sinh(x)

    def df(g, z, x):
        return g * cosh(x)


class Cosh(Elementwise):
    """z = cosh x         dz/dx = sinh x"""

    def f(x):
        return cosh(x)

    def df(g, z, x):
        return g * sinh(x)


class Asinh(Elementwise):
    """z = arsinh x       dz/dx = 1/√(x² + 1)"""

    def f(x):
        return asinh(x)

    def df(g, z, x):
        return g / sqrt(x * x + 1)


class Acosh(Elementwise):
    """z = arcosh x       dz/dx = 1/√((x - 1)(x + 1))"""

    ignore_fp_errors = True  # outside the domain: nan (and ±inf at its ends), as torch, without warnings

    def f(x):
        return acosh(x)

    def df(g, z, x):
        return g / sqrt((x - 1) * (x + 1))


class Atanh(Elementwise):
    """z = artanh x       dz/dx = 1/(1 - x²)"""

    ignore_fp_errors = True  # outside the domain: nan (and ±inf at its ends), as torch, without warnings

    def f(x):
        return atanh(x)

    def df(g, z, x):
        return g / (1 - x * x)


class Log1p(Elementwise):
    """z = ln(1 + x)      dz/dx = 1/(1 + x)      (exact for tiny x, where ln(1 + x) would round 1 + x)"""

    ignore_fp_errors = True  # log1p(-1) = -inf, as torch

    def f(x):
        return log1p(x)

    def df(g, z, x):
        return g / (1 + x)


class Expm1(Elementwise):
    """z = eˣ - 1         dz/dx = eˣ   (not z + 1, which loses the digits of a tiny eˣ)"""

    def f(x):
        return expm1(x)

    def df(g, z, x):
        return g * exp(x)


class Log2(Elementwise):
    """z = log₂ x         dz/dx = 1/(x ln 2)"""

    ignore_fp_errors = True  # outside the domain: nan (and ±inf at its ends), as torch, without warnings

    def f(x):
        return log(x) / LN2

    def df(g, z, x):
        return g / (x * LN2)


class Log10(Elementwise):
    """z = log₁₀ x        dz/dx = 1/(x ln 10)"""

    ignore_fp_errors = True  # outside the domain: nan (and ±inf at its ends), as torch, without warnings

    def f(x):
        return log(x) / LN10

    def df(g, z, x):
        return g / (x * LN10)


class Exp2(Elementwise):
    """z = 2ˣ             dz/dx = 2ˣ ln 2 = z ln 2"""

    def f(x):
        return exp(x * LN2)

    def df(g, z, x):
        return g * z * LN2


class Rsqrt(Elementwise):
    """z = 1/√x           dz/dx = -½ x^(-3/2) = -½ z³"""

    ignore_fp_errors = True  # 1/√0 = inf, √-1 = nan, as torch

    def f(x):
        return 1 / sqrt(x)

    def df(g, z, x):
        return -0.5 * g * z * z * z


class Erf(Elementwise):
    """z = erf x = (2/√π) ∫₀ˣ e^(-t²) dt      dz/dx = (2/√π) e^(-x²)"""

    def f(x):
        return erf(x)

    def df(g, z, x):
        return g * TWO_OVER_SQRT_PI * exp(-(x * x))


class LogAddExp(Elementwise):
    """z = ln(eˣ + eʸ) = max(x, y) + ln(1 + e^(-|x - y|))      dz/dx = e^(x - z),  dz/dy = e^(y - z)"""

    ignore_fp_errors = True  # both infinite: inf - inf in the branch where() discards

    def f(x, y):
        return where(x.eq(y), x + LN2, maximum(x, y) + log1p(exp(-abs(x - y))))  # x = y = ±inf: no inf - inf

    def df(g, z, x, y):
        return g * exp(x - z), g * exp(y - z)


class Lerp(Elementwise):
    """z = x + w (y - x)  dz/dx = 1 - w,  dz/dy = w,  dz/dw = y - x"""

    def f(x, y, w):
        return x + w * (y - x)

    def df(g, z, x, y, w):
        return g * (1 - w), g * w, g * (y - x)


class Sign(Elementwise):
    """z = sign x         dz/dx = 0"""

    def f(x):
        return sign(x)

    def df(g, z, x):
        return 0


class Floor(Elementwise):
    """z = ⌊x⌋            dz/dx = 0"""

    def f(x):
        return floor(x)

    def df(g, z, x):
        return 0


class Ceil(Elementwise):
    """z = ⌈x⌉            dz/dx = 0"""

    def f(x):
        return ceil(x)

    def df(g, z, x):
        return 0


class Round(Elementwise):
    """z = x rounded to the nearest integer, halves to even      dz/dx = 0"""

    def f(x):
        return round_(x)

    def df(g, z, x):
        return 0


class Trunc(Elementwise):
    """z = x rounded towards 0      dz/dx = 0"""

    def f(x):
        return trunc(x)

    def df(g, z, x):
        return 0
