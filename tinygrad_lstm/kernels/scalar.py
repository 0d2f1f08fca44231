"""The numba implementation of each primitive of `ops/expr.py`, on one scalar: what generated kernels call.

Generated code (the backend's elementwise loops, the fused kernels of jit/fuse.py) calls `P_<name>(...)` for the
primitive `<name>`; numba picks the float32 or float64 implementation from the argument's type. Most are numpy's
functions as numba compiles them. Three are our own, because the loops that call them must vectorize (numba
has no vector math library here, so a call to libm's expf/tanhf per element is 5-10x slower than numpy):

- float32 `exp`: range reduction plus a polynomial, no calls and no branches (~1 ulp);
- float32 `tanh`: a rational approximation (|error| < 3e-7, exact ±1 limits, x itself near 0);
- float32 `sigmoid`: from that exp, in the stable split form, so it keeps *relative* accuracy in the left tail
  (σ(-30) = 9.36e-14, not 0).

These are implementations, not definitions: no derivative is stated here (see ops/elementwise.py).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

# fastmath 'contract' only lets LLVM fuse a*b+c into one FMA: faster and slightly more accurate.
# (Full fastmath also assumes no inf/NaN, which turns saturated inputs into NaN.)
_FMA = {"contract"}
_F32 = np.float32


@intrinsic
def _bits_to_f32(typingctx, i):
    """The float32 whose bit pattern is the int32 `i` (2^n is ((n + 127) << 23)): one free instruction."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


# exp(x) = 2^n · e^r with n = round(x / ln 2) and r = x - n·ln 2 (ln 2 split in two for exactness, Cody-Waite),
# e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2 (the Cephes expf polynomial). 2^n is built from its bits in two halves so
# that results below the normal range (n < -126) come out as subnormals and large n overflow to inf.
_E_HI, _E_LO = _F32(100.0), _F32(-110.0)  # beyond these exp is inf / 0 in float32 anyway
_LOG2E, _LN2_HI, _LN2_LO = _F32(1.44269504088896341), _F32(0.693359375), _F32(-2.12194440e-4)
_P0, _P1, _P2 = _F32(1.9875691500e-4), _F32(1.3981999507e-3), _F32(8.3334519073e-3)
_P3, _P4, _P5 = _F32(4.1665795894e-2), _F32(1.6666665459e-1), _F32(5.0000001201e-1)
_ONE32, _HALF32 = _F32(1.0), _F32(0.5)


@njit(fastmath=_FMA)
def exp32(x):
    v = _E_HI if x > _E_HI else x  # selects, so that NaN passes through
    v = _E_LO if v < _E_LO else v
    n = np.floor(v * _LOG2E + _HALF32)
    r = v - n * _LN2_HI - n * _LN2_LO
    p = ((((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5) * (r * r) + r) + _ONE32
    k = np.int32(n)
    h = k >> 1
    return p * _bits_to_f32((h + 127) << 23) * _bits_to_f32((k - h + 127) << 23)


# float32 tanh(x) ~ x * P(x^2) / Q(x^2): the degree 13/6 rational minimax approximation used by Eigen
# (`generic_fast_tanh_float`) and XLA. Measured max |error| 2.9e-7 over every float32 in [0, 10]. Clamping the
# input to ±9 (float32 tanh rounds to ±1 beyond ~9.01) keeps x^13 finite, and clamping the output makes the limits
# exactly ±1. Below |x| = 4e-4, tanh x = x to float32 precision (x³/3 is < 6e-8 of x), also for subnormals, where
# the polynomial would lose bits. All constants are float32: one float64 constant would promote the expression.
_T_CLAMP, _T_SMALL = _F32(9.0), _F32(4e-4)
_T_A1, _T_A3 = _F32(4.89352455891786e-03), _F32(6.37261928875436e-04)
_T_A5, _T_A7 = _F32(1.48572235717979e-05), _F32(5.12229709037114e-08)
_T_A9, _T_A11 = _F32(-8.60467152213735e-11), _F32(2.00018790482477e-13)
_T_A13 = _F32(-2.76076847742355e-16)
_T_B0, _T_B2 = _F32(4.89352518554385e-03), _F32(2.26843463243900e-03)
_T_B4, _T_B6 = _F32(1.18534705686654e-04), _F32(1.19825839466702e-06)


@njit(fastmath=_FMA)
def tanh32(x):
    v = _T_CLAMP if x > _T_CLAMP else x
    v = -_T_CLAMP if v < -_T_CLAMP else v
    v2 = v * v
    p = ((((((_T_A13 * v2 + _T_A11) * v2 + _T_A9) * v2 + _T_A7) * v2 + _T_A5) * v2 + _T_A3) * v2 + _T_A1) * v
    q = ((_T_B6 * v2 + _T_B4) * v2 + _T_B2) * v2 + _T_B0
    r = p / q
    r = _ONE32 if r > _ONE32 else r
    r = -_ONE32 if r < -_ONE32 else r
    return x if abs(x) < _T_SMALL else r


@njit(fastmath=_FMA)
def sigmoid32(x):
    # with e = exp(-|x|) ≤ 1 nothing overflows, and e / (1 + e) for x < 0 keeps relative accuracy
    e = exp32(-abs(x))
    d = _ONE32 / (_ONE32 + e)
    return d if x >= 0 else e * d


@njit
def sigmoid64(x):
    e = np.exp(-abs(x))
    d = 1.0 / (1.0 + e)
    return d if x >= 0 else e * d


# ---------------------------------------------------------------------------------------------------------------
# P_<primitive>: what generated code calls. The stubs' Python bodies are never run by numba (the overloads are);
# they make the functions usable from Python for checking.
# ---------------------------------------------------------------------------------------------------------------


def _by_dtype(name: str, f32, f64):
    def stub(x):
        return f64(x)

    stub.__name__ = f"P_{name}"

    @overload(stub, inline="always")
    def _impl(x):
        if x == types.float32:
            return lambda x: f32(x)
        return lambda x: f64(x)

    return stub


@njit
def _np_exp(x):
    return np.exp(x)


@njit
def _np_tanh(x):
    return np.tanh(x)


P_exp = _by_dtype("exp", exp32, _np_exp)
P_tanh = _by_dtype("tanh", tanh32, _np_tanh)
P_sigmoid = _by_dtype("sigmoid", sigmoid32, sigmoid64)


@njit(inline="always")
def P_maximum(a, b):
    return a if (a >= b or a != a) else b  # NaN in either argument gives NaN, as np.maximum


@njit(inline="always")
def P_minimum(a, b):
    return a if (a <= b or a != a) else b


@njit(inline="always")
def P_sign(x):
    return np.sign(x)


@njit(inline="always")
def P_abs(x):
    return abs(x)


def _unary(fn):
    return njit(inline="always")(lambda x: fn(x))


P_log, P_sqrt, P_log1p, P_expm1 = _unary(np.log), _unary(np.sqrt), _unary(np.log1p), _unary(np.expm1)
P_sin, P_cos, P_tan = _unary(np.sin), _unary(np.cos), _unary(np.tan)
P_asin, P_acos, P_atan = _unary(np.arcsin), _unary(np.arccos), _unary(np.arctan)
P_sinh, P_cosh = _unary(np.sinh), _unary(np.cosh)
P_asinh, P_acosh, P_atanh = _unary(np.arcsinh), _unary(np.arccosh), _unary(np.arctanh)
P_floor, P_ceil, P_trunc = _unary(np.floor), _unary(np.ceil), _unary(np.trunc)
P_erf = _unary(math.erf)


@njit(inline="always")
def P_round(x):
    return np.rint(x)  # half to even, as numpy and torch


__all__ = [n for n in dir() if n.startswith("P_")] + ["exp32", "tanh32", "sigmoid32", "sigmoid64", "np"]
