"""Activation modules: `nn.ReLU()`, `nn.Softmax(dim=1)`, …, each the module form of a function in `functional`,
with torch's constructor arguments and printed form. They hold no parameters; the derivatives are those of the
functions they call."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Inplace(Module):
    """torch's `inplace=True` overwrites the input to save memory. Here the result is always a new tensor (the
    values and gradients are the same); the flag is kept so that torch code constructs and prints unchanged."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """max(x, 0); derivative 1 where x > 0, else 0."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class Tanh(Module):
    """tanh(x); derivative 1 - tanh²(x)."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ); derivative σ(x)(1 - σ(x))."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class GELU(Module):
    """x·Φ(x) (or its tanh approximation with approximate="tanh"), as `functional.gelu`."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_Inplace):
    """x·σ(x) (also called swish); derivative σ(x)(1 + x(1 - σ(x)))."""

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


class LeakyReLU(_Inplace):
    """x where x > 0, else negative_slope·x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """(1/β) ln(1 + e^(βx)), x itself where βx > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(_Inplace):
    """x where x > 0, else α(eˣ - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """max(0, x) + min(0, α(e^(x/α) - 1))."""

    def forward(self, x: Any) -> Tensor:
        return F.celu(x, self.alpha)


class SELU(_Inplace):
    """λ·elu(x, α) with the self-normalizing constants λ ≈ 1.0507, α ≈ 1.6733."""

    def forward(self, x: Any) -> Tensor:
        return F.selu(x)


class Hardtanh(_Inplace):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Any) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(_Inplace):
    """min(max(x, 0), 6)."""

    def forward(self, x: Any) -> Tensor:
        return F.relu6(x)


class Mish(_Inplace):
    """x · tanh(softplus(x))."""

    def forward(self, x: Any) -> Tensor:
        return F.mish(x)


class Hardsigmoid(Module):
    """relu6(x + 3) / 6. (torch's `inplace` is accepted and, as in torch's printed form, not shown.)"""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Any) -> Tensor:
        return F.hardsigmoid(x)


class Hardswish(Hardsigmoid):
    """x · relu6(x + 3) / 6."""

    def forward(self, x: Any) -> Tensor:
        return F.hardswish(x)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x: Any) -> Tensor:
        return F.softsign(x)


class LogSigmoid(Module):
    """ln σ(x), finite for any x."""

    def forward(self, x: Any) -> Tensor:
        return F.logsigmoid(x)


class _AlongDim(Module):
    """A normalization along one axis. torch lets `dim` default to a guess by the input's rank (deprecated
    there, with a warning); here, as in `functional.softmax`, a missing dim is an error that says what to give."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def _checked_dim(self, x: Any) -> int:
        if self.dim is None:
            name = type(self).__name__
            shape = getattr(x, "shape", None)
            raise TypeError(f"{name}: no dim given (input of shape {shape}); construct it with the axis to "
                            f"normalize over, e.g. nn.{name}(dim=-1)")
        return self.dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along `dim`."""

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self._checked_dim(x))


class Softmin(_AlongDim):
    """softmax(-x) along `dim`."""

    def forward(self, x: Any) -> Tensor:
        return F.softmin(x, self._checked_dim(x))


class LogSoftmax(_AlongDim):
    """xᵢ - log Σⱼ e^xⱼ along `dim`."""

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self._checked_dim(x))


__all__ = [
    "CELU", "ELU", "GELU", "SELU", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU", "LogSigmoid", "LogSoftmax",
    "Mish", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "Softmin", "Softplus", "Softsign", "Tanh",
]
