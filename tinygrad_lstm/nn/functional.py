"""Activations and losses as functions, with PyTorch's names and semantics (``torch.nn.functional``).

Everything is composed from Tensor ops, so autograd supplies the gradients; activations with kinks and constants
(elu, hardtanh, ...) are elementwise ops of their own, defined with their derivative in ops/activations.py.

Losses take ``reduction="mean" | "sum" | "none"``. Targets may be Tensors or ndarrays. Unlike PyTorch, shapes
are never silently broadcast: a target whose shape differs from what the loss expects is an error.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes, ops
from ..grad_buffer import broadcasts_to
from ..random import rng
from ..tensor import Tensor, where
from .conv import conv1d

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "gelu", "l1_loss",
    "layer_norm", "leaky_relu", "log1p", "log_softmax", "logsigmoid", "mse_loss", "nll_loss", "normalize",
    "one_hot", "relu", "sigmoid", "silu", "softmax", "softplus", "tanh", "celu", "elu", "hardsigmoid", "hardswish",
    "hardtanh", "mish", "relu6", "selu", "softmin", "softsign",
]

__all__ += ["conv1d"]  # from nn/conv.py

REDUCTIONS = ("mean", "sum", "none")


def log1p(x: Any) -> Tensor:
    """ln(1 + x), accurate when x is tiny."""
    return ops.Log1p.apply(_input(x, "log1p"))


# ----------------------------------------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------------------------------------


def sigmoid(x: Any) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ)"""
    return _input(x, "sigmoid").sigmoid()


def tanh(x: Any) -> Tensor:
    """tanh(x) = (eˣ - e⁻ˣ) / (eˣ + e⁻ˣ)"""
    return _input(x, "tanh").tanh()


def relu(x: Any) -> Tensor:
    """max(x, 0)"""
    return _input(x, "relu").relu()


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope·x (the gradient at 0 is negative_slope, as torch)."""
    x = _input(x, "leaky_relu")
    return where(x.data > 0, x, x * negative_slope)


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β) ln(1 + e^(βx)), computed as max(βx, 0) + ln(1 + e^(-|βx|)); x itself where βx > threshold."""
    x = _input(x, "softplus")
    bx = x * beta if beta != 1 else x
    sp = _softplus(bx)
    if beta != 1:
        sp = sp / beta
    return where(bx.data > threshold, x, sp)


def _softplus(z: Tensor) -> Tensor:
    # maximum splits its gradient at the tie z = 0, which gives the exact σ(0) = 1/2 there
    return z.maximum(0.0) + ops.Log1p.apply((-z.abs()).exp())


def logsigmoid(x: Any) -> Tensor:
    """ln σ(x) = -softplus(-x), finite for any x."""
    return -_softplus(-_input(x, "logsigmoid"))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x·Φ(x) = ½x(1 + erf(x/√2)); approximate="tanh": ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    x = _input(x, "gelu")
    if approximate == "none":
        return 0.5 * x * (1 + ops.Erf.apply(x * (1 / math.sqrt(2))))
    if approximate == "tanh":
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else α(eˣ - 1)."""
    return ops.Elu.apply(_input(x, "elu"), alpha=float(alpha))


def selu(x: Any) -> Tensor:
    """λ·elu(x, α) with the self-normalizing constants λ ≈ 1.0507, α ≈ 1.6733."""
    return ops.Selu.apply(_input(x, "selu"))


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, α(e^(x/α) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return ops.Celu.apply(_input(x, "celu"), alpha=float(alpha))


def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 0 at the corners, as torch."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return ops.Hardtanh.apply(_input(x, "hardtanh"), min_val=float(min_val), max_val=float(max_val))


def relu6(x: Any) -> Tensor:
    """min(max(x, 0), 6): hardtanh(x, 0, 6)."""
    return ops.Hardtanh.apply(_input(x, "relu6"), min_val=0.0, max_val=6.0)


def hardsigmoid(x: Any) -> Tensor:
    """relu6(x + 3) / 6."""
    return ops.Hardsigmoid.apply(_input(x, "hardsigmoid"))


def hardswish(x: Any) -> Tensor:
    """x · relu6(x + 3) / 6."""
    return ops.Hardswish.apply(_input(x, "hardswish"))


def softsign(x: Any) -> Tensor:
    """x / (1 + |x|)."""
    return ops.Softsign.apply(_input(x, "softsign"))


def mish(x: Any) -> Tensor:
    """x · tanh(softplus(x)); composed, so autograd gives the derivative."""
    x = _input(x, "mish")
    return x * softplus(x).tanh()


def softmin(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """softmax(-x) along `dim`."""
    return (-_input(x, "softmin")).softmax(_dim(dim, axis, "softmin"))


def silu(x: Any) -> Tensor:
    """x·σ(x) (swish); composed, so autograd gives d/dx = σ(x)(1 + x(1 - σ(x)))."""
    x = _input(x, "silu")
    return x * x.sigmoid()


def softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along `dim` (or `axis`; required, unlike torch's implicit guess)."""
    return _input(x, "softmax").softmax(_dim(dim, axis, "softmax"))


def log_softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """log_softmax(x)ᵢ = xᵢ - log Σⱼ e^xⱼ along `dim` (also spelled `axis`), stable for large |x|."""
    return _input(x, "log_softmax").log_softmax(_dim(dim, axis, "log_softmax"))


def dropout(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p), so E[out] = x.

    The mask comes from the generator `manual_seed` sets. Identity if p = 0 or not training; zeros if p = 1.
    """
    x = _input(x, "dropout")
    if not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
        raise ValueError(f"dropout: probability p must be between 0 and 1, got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = rng().random(x.shape) >= p
    return x * (keep * (1.0 / (1.0 - p))).astype(x.dtype)


def layer_norm(input: Any, normalized_shape: int | Sequence[int], weight: Any = None,  # noqa: A002
               bias: Any = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing axes `normalized_shape`, then scale and shift:

        y = (x - μ) / √(σ² + eps) · weight + bias,   μ, σ² the mean and biased variance over those axes

    Composed from differentiable ops, so the gradients (into x, weight and bias) come from autograd.
    `weight` and `bias` (Tensors, e.g. Parameters, or arrays) have shape `normalized_shape`.
    """
    x = _input(input, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != tuple(int(s) for s in shape):
        raise ValueError(f"layer_norm: normalized_shape {list(shape)} must be the trailing axes of the input, "
                         f"got input of shape {x.shape}")
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(np.shape(p.data if isinstance(p, Tensor) else p)) != shape:
            raise ValueError(f"layer_norm: {what} must have shape normalized_shape={tuple(shape)}, got "
                             f"{np.shape(p.data if isinstance(p, Tensor) else p)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    centered = x - x.mean(axis=axes, keepdims=True)
    var = (centered * centered).mean(axis=axes, keepdims=True)
    y = centered / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ----------------------------------------------------------------------------------------------------------
# losses
# ----------------------------------------------------------------------------------------------------------


def mse_loss(input: Any, target: Any, *, reduction: str = "mean") -> Tensor:  # noqa: A002 - torch's name
    """Mean squared error: ℓᵢ = (xᵢ - yᵢ)², then reduced.

    `target` must have exactly the input's shape: torch only warns and broadcasts, which silently computes
    the wrong loss (e.g. (N, 1) against (N,) gives an N×N matrix of differences); here it is an error.
    """
    x, y = _pair(input, target, "mse_loss")
    d = x - y
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input: Any, target: Any, *, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error: ℓᵢ = |xᵢ - yᵢ|, then reduced (gradient sign(x - y), 0 at a tie).

    Shapes must match exactly, as in `mse_loss`.
    """
    x, y = _pair(input, target, "l1_loss")
    return _reduce((x - y).abs(), reduction, "l1_loss")


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, *,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """ℓᵢ = -wᵢ [yᵢ ln xᵢ + (1 - yᵢ) ln(1 - xᵢ)] for probabilities x in [0, 1], then reduced ("mean" divides
    by the number of elements, whatever the weights).

    As torch, each log is clamped at -100, so x = 0 or 1 gives a finite loss; there the clamped term has zero
    gradient (torch's backward instead uses (x - y) / max(x(1-x), 1e-12)). `weight` broadcasts to the input.
    For logits use `binary_cross_entropy_with_logits`, which is exact and stable.
    """
    x, y = _pair(input, target, "binary_cross_entropy")
    outside = ~((x.data >= 0) & (x.data <= 1))  # nan included, as torch
    if outside.any():
        bad = float(x.data[outside][0])
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1], got {bad:g} "
                         "(pass logits to binary_cross_entropy_with_logits instead)")
    pos, neg = x.data > 0, x.data < 1
    log_x = where(pos, where(pos, x, 1.0).log(), -100.0).clip(min=-100.0)          # ln x, clamped
    log_1mx = where(neg, ops.Log1p.apply(-where(neg, x, 0.0)), -100.0).clip(min=-100.0)  # ln(1 - x), clamped
    loss = -(y * log_x + (1 - y) * log_1mx)
    if weight is not None:
        loss = loss * _broadcastable(weight, x, "binary_cross_entropy", "weight")
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, *,  # noqa: A002
                                     reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """Binary cross entropy of σ(x), from logits x:

        ℓᵢ = wᵢ [(1 - yᵢ) xᵢ + (1 + (p - 1) yᵢ) softplus(-xᵢ)],   softplus(-x) = max(-x, 0) + ln(1 + e^(-|x|))

    which without pos_weight p is max(x, 0) - x·y + ln(1 + e^(-|x|)): no exp overflows, so logits of ±1e4
    give finite losses and gradients. `pos_weight` (e.g. one per class, on the last axis) weighs positive
    examples; `weight` rescales each element; both broadcast to the input. "mean" divides by the number of
    elements.
    """
    name = "binary_cross_entropy_with_logits"
    x, y = _pair(input, target, name)
    sp = _softplus(-x)
    if pos_weight is not None:
        sp = sp * ((_broadcastable(pos_weight, x, name, "pos_weight") - 1) * y + 1)
    loss = (1 - y) * x + sp
    if weight is not None:
        loss = loss * _broadcastable(weight, x, name, "weight")
    return _reduce(loss, reduction, name)


def nll_loss(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    """Negative log likelihood of class indices, given log-probabilities (e.g. from log_softmax):

        ℓₙ = -w[yₙ] · x[n, yₙ]            (0 where yₙ == ignore_index)
        "mean": Σₙ ℓₙ / Σₙ w[yₙ] over the non-ignored n (the count when weight is None; nan if none is left)

    input (N, C) with target (N,); (N, C, d₁, ...) with target (N, d₁, ...); or unbatched (C,) with target ().
    `weight` (C,) is a constant: no gradient flows into it, as in torch.
    """
    logp, t, w, keep = _class_problem(input, target, weight, ignore_index, "nll_loss")
    picked = _pick(logp, t)
    per = -(picked * w) if w is not None else -where(keep, picked, 0.0)
    return _class_reduce(per, w, keep, reduction, "nll_loss")


def cross_entropy(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,  # noqa: A002
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits x against class indices y: nll_loss(log_softmax(x, dim=class axis), y).

    With class weights w, ignore_index and reduction as in `nll_loss`. With label_smoothing ε the target is
    (1 - ε)·onehot(y) + ε/C, giving, as torch,

        (1 - ε)·nll + (ε/C)·smooth,    smoothₙ = -Σ_c w[c] log_softmax(x)[n, c]   (0 where yₙ is ignored)

    where smooth is reduced like nll (for "mean": divided by the same Σ w[yₙ] over non-ignored n).
    Shapes: input (N, C) with target (N,); (N, C, d₁, ...) with target (N, d₁, ...); unbatched (C,) with ().

    A floating target of the input's shape holds class probabilities instead (see `_soft_cross_entropy`).
    """
    name = "cross_entropy"
    if not (isinstance(label_smoothing, numbers.Real) and 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}")
    x = _input(input, name)
    cdim = 1 if x.ndim >= 2 else 0
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class axis: (C,), (N, C) or (N, C, d1, ...), "
                         "got a scalar")
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind == "f" and t.shape == x.shape:
        return _soft_cross_entropy(x, target, weight, ignore_index, reduction, float(label_smoothing), cdim)
    logp, t, w, keep = _class_problem(x.log_softmax(cdim), target, weight, ignore_index, name)
    picked = _pick(logp, t)
    nll = -(picked * w) if w is not None else -where(keep, picked, 0.0)
    if label_smoothing == 0:
        return _class_reduce(nll, w, keep, reduction, name)
    n_classes = logp.shape[cdim]
    if weight is not None:
        wc = _weight_array(weight, n_classes, logp.dtype, name)
        shape = [1] * logp.ndim
        shape[cdim] = n_classes
        smooth = -(logp * wc.reshape(shape)).sum(axis=cdim)
    else:
        smooth = -logp.sum(axis=cdim)
    smooth = where(keep, smooth, 0.0)
    eps = float(label_smoothing)
    return ((1 - eps) * _class_reduce(nll, w, keep, reduction, name)
            + (eps / n_classes) * _class_reduce(smooth, w, keep, reduction, name))


def _soft_cross_entropy(x: Tensor, target: Any, weight: Any, ignore_index: int, reduction: str, eps: float,
                        cdim: int) -> Tensor:
    """Cross entropy against class probabilities y (a floating target of the input's shape), as torch:

        ℓₙ = -Σ_c w[c] ỹ[n, c] log_softmax(x)[n, c],    ỹ = (1 - ε)·y + ε/C   (label smoothing ε)

    "mean" divides by the number of rows (N, or N·d₁·…), whatever the weights. Gradients reach x and, if it
    requires them, the target (dℓ/dy = -w·log_softmax(x))."""
    name = "cross_entropy"
    y = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if ignore_index != -100:
        raise ValueError(f"{name}: ignore_index is not supported with class-probability targets (a floating target)")
    if y.dtype != x.dtype and not y.requires_grad:
        y = Tensor(y.data.astype(x.dtype))
    n_classes = x.shape[cdim]
    if eps:
        y = y * (1 - eps) + eps / n_classes
    logp = x.log_softmax(cdim)
    if weight is not None:
        shape = [1] * x.ndim
        shape[cdim] = n_classes
        logp = logp * _weight_array(weight, n_classes, x.dtype, name).reshape(shape)
    return _reduce(-(y * logp).sum(axis=cdim), reduction, name)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) as one-hot rows: shape + (num_classes,), int64, as torch. num_classes=-1
    takes the largest index + 1."""
    t = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected a tensor of integer class indices, got {t.dtype}")
    if num_classes == -1:
        if t.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = int(t.max()) + 1
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        bad = int(t.min() if t.min() < 0 else t.max())
        raise ValueError(f"one_hot: class index {bad} is outside 0..{num_classes - 1} (num_classes={num_classes})")
    return Tensor((t[..., None] == np.arange(num_classes)).astype(np.int64))


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """x / max(‖x‖ₚ, eps) along `dim`: unit vectors (an all-zero vector stays zero, as torch)."""
    x = _input(input, "normalize")
    return x / x.norm(p, dim=dim, keepdim=True).clamp(min=eps)


# ----------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------


def _input(x: Any, name: str) -> Tensor:
    t = x if isinstance(x, Tensor) else Tensor(x)
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating-point tensor, got {t.dtype}")
    return t


def _dim(dim: int | None, axis: int | None, name: str) -> int:
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: give either dim= or axis=, not both")
    d = dim if dim is not None else axis
    if d is None:
        raise TypeError(f"{name}: give the axis to normalize over, e.g. {name}(x, dim=-1)")
    return d


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in REDUCTIONS:
        valid = ", ".join(map(repr, REDUCTIONS))
        raise ValueError(f"{name}: reduction must be one of {valid}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    _check_reduction(reduction, name)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _pair(input: Any, target: Any, name: str) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The input and an elementwise target of the same shape. A target Tensor promotes with the input as in torch
    (float32 input, float64 target: a float64 loss; an integer target takes the input's dtype); a target given as
    plain data (an array, a list) is a constant in the input's dtype, as a Python scalar would be."""
    x = _input(input, name)
    y = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if y.shape != x.shape:
        raise ValueError(f"{name}: target of shape {y.shape} does not match input of shape {x.shape}; they "
                         "must be equal (reshape one, e.g. target.reshape(input.shape); no broadcasting)")
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{name}: target must be numeric, got {y.dtype}")
    dt = dtypes.result_type(x.data, y.data) if isinstance(target, Tensor) else x.dtype
    if y.dtype != dt:
        y = y.astype(dt)
    if x.dtype != dt:
        x = x.astype(dt)
    return x, y


def _broadcastable(w: Any, x: Tensor, name: str, what: str) -> np.ndarray:
    """A constant elementwise weight, checked to broadcast to the input's shape (no gradient, as torch)."""
    arr = np.asarray(w.data if isinstance(w, Tensor) else w)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}: {what} must be numeric, got {arr.dtype}")
    if not broadcasts_to(arr.shape, x.shape):
        raise ValueError(f"{name}: {what} of shape {arr.shape} does not broadcast to input of shape "
                         f"{x.shape}")
    return arr.astype(x.dtype, copy=False)


def _weight_array(weight: Any, n_classes: int, dtype: np.dtype, name: str) -> np.ndarray:
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if w.dtype.kind not in "fiu":
        raise TypeError(f"{name}: weight must be numeric, got {w.dtype}")
    if w.shape != (n_classes,):
        raise ValueError(f"{name}: weight of shape {w.shape} does not match the {n_classes} classes of the "
                         f"input; expected one weight per class, shape ({n_classes},)")
    return w.astype(dtype, copy=False)


def _class_problem(input: Any, target: Any, weight: Any, ignore_index: int, name: str  # noqa: A002
                   ) -> tuple[Tensor, np.ndarray, np.ndarray | None, np.ndarray]:
    """Validate input/target for a class-index loss. Returns the input, the targets with ignored entries set
    to 0 (safe to index with), the per-element weights w[yₙ] (0 where ignored; None without class weights)
    and the mask of non-ignored entries."""
    x = _input(input, name)
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class axis: (C,), (N, C) or (N, C, d1, ...), "
                         "got a scalar")
    cdim = 1 if x.ndim >= 2 else 0
    n_classes = x.shape[cdim]
    expected = x.shape[:cdim] + x.shape[cdim + 1:]
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        hint = ((f" (for class probabilities, cross_entropy takes a floating target of the input's shape "
                 f"{x.shape}; for indices use target.long())") if t.dtype.kind == "f" else "")
        raise TypeError(f"{name}: target must hold integer class indices, got {t.dtype}{hint}")
    if t.shape != expected:
        raise ValueError(f"{name}: target of shape {t.shape} does not match input of shape {x.shape}; "
                         f"expected class indices of shape {expected}")
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise ValueError(f"{name}: target holds class index {int(t[bad].flat[0])}, but the input has "
                         f"{n_classes} classes (valid: 0..{n_classes - 1}, or ignore_index={ignore_index})")
    t = np.where(keep, t, 0)
    w = None
    if weight is not None:
        w = _weight_array(weight, n_classes, x.dtype, name)[t] * keep
    return x, t, w, keep


def _pick(logp: Tensor, t: np.ndarray) -> Tensor:
    """logp[n, tₙ, d₁, ...] for every position of t (the class axis is 1, or 0 when unbatched)."""
    if logp.ndim == 1:
        return logp[t]
    grids = [np.arange(n).reshape((-1,) + (1,) * (t.ndim - 1 - k)) for k, n in enumerate(t.shape)]
    return logp[(grids[0], t, *grids[1:])]


def _class_reduce(per: Tensor, w: np.ndarray | None, keep: np.ndarray, reduction: str, name: str) -> Tensor:
    _check_reduction(reduction, name)
    if reduction != "mean":
        return _reduce(per, reduction, name)
    total = float(w.sum()) if w is not None else float(keep.sum())
    s = per.sum()
    if total == 0:  # nothing left to average (all ignored): nan, with zero gradients, as torch
        return s * 0.0 + float("nan")
    return s / total
