"""Keras's losses, as Tensor expressions (autograd gives the gradients). Each function returns one loss per
sample (the mean, or for cross-entropies the sum, over the last axis); a `Loss` object reduces them:
"sum_over_batch_size" (the mean over samples; the default), "sum" or "none".

With ε = 1e-7 and probabilities p (the model's output), as Keras computes them:

    binary_crossentropy        -mean_k [ y ln p̃ + (1 - y) ln(1 - p̃) ],   p̃ = clip(p, ε, 1 - ε)
    categorical_crossentropy   -Σ_k y_k ln p̃_k,           p̃ = clip(p / Σ_k p_k, ε, 1 - ε),  y one-hot
    sparse_categorical_crossentropy   -ln p̃_y,            y an integer class id
    mean_squared_error (mse)   mean_k (y - p)²            mean_absolute_error (mae)   mean_k |y - p|

With from_logits=True the model's output z is a logit: ln σ and log_softmax are used instead, exact and stable.
A mask (padded time steps, from Embedding(mask_zero=True)) leaves those steps out of the mean, as Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor
from .backend import epsilon, to_snake_case

LossFn = Callable[..., Tensor]


def _labels(y_true: Any) -> np.ndarray:
    return np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)


def align(y_true: np.ndarray, pred_shape: tuple[int, ...], name: str) -> np.ndarray:
    """Keras's squeeze-or-expand: labels (N,) against an output (N, 1) become (N, 1), and (N, 1) against (N,)
    become (N,). Any other difference is an error naming both shapes."""
    if y_true.ndim == len(pred_shape) - 1 and pred_shape[-1:] == (1,):
        y_true = y_true[..., None]
    elif y_true.ndim == len(pred_shape) + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != tuple(pred_shape):
        hint = ""
        if name == "categorical_crossentropy" and (y_true.ndim == len(pred_shape) - 1 or y_true.shape[-1:] == (1,)):
            c = pred_shape[-1]
            hint = (f". These look like integer class labels: use loss='sparse_categorical_crossentropy', or "
                    f"one-hot encode them with keras.utils.to_categorical(y, num_classes={c})")
        elif name == "binary_crossentropy" and pred_shape[-1:] == (1,) and y_true.shape[-1:] != (1,):
            hint = (f". For {y_true.shape[-1]} classes end the model with Dense({y_true.shape[-1]}, "
                    "activation='softmax') and use categorical_crossentropy")
        raise ValueError(f"{name}: labels of shape {y_true.shape} do not match the model's output of shape "
                         f"{tuple(pred_shape)}{hint}")
    return y_true


def _float_labels(y_true: Any, y_pred: Tensor, name: str) -> np.ndarray:
    y = align(_labels(y_true), y_pred.shape, name)
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{name}: labels must be numbers, got dtype {y.dtype}")
    return y.astype(y_pred.dtype, copy=False)


def _class_ids(y_true: Any, y_pred: Tensor, name: str) -> np.ndarray:
    """Integer class ids of shape y_pred.shape[:-1], checked against the number of classes."""
    y = _labels(y_true)
    want = y_pred.shape[:-1]
    if y.shape == want + (1,):
        y = y[..., 0]
    if y.shape != want:
        hint = ""
        if y.shape == y_pred.shape:
            hint = (". These look like one-hot labels: use loss='categorical_crossentropy', or turn them into "
                    "class ids with np.argmax(y, axis=-1)")
        raise ValueError(f"{name}: labels of shape {y.shape} do not match the model's output of shape "
                         f"{y_pred.shape}; expected integer class ids of shape {want}{hint}")
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError(f"{name}: labels must be integer class ids, got non-integer values")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integer class ids, got dtype {y.dtype}")
    c = y_pred.shape[-1]
    if y.size and (y.min() < 0 or y.max() >= c):
        bad = int(y.min() if y.min() < 0 else y.max())
        raise ValueError(f"{name}: received a label value of {bad} which is outside the valid range of [0, {c}) "
                         f"(the model's last layer has {c} units)")
    return y


def _pick(t: Tensor, ids: np.ndarray) -> Tensor:
    """t[..., ids]: the entry of each row's class."""
    grids = np.indices(ids.shape, sparse=True)
    return t[(*grids, ids)]


# ----- per-sample loss functions ------------------------------------------------------------------------------
def binary_crossentropy(y_true: Any, y_pred: Tensor, from_logits: bool = False) -> Tensor:
    y = _float_labels(y_true, y_pred, "binary_crossentropy")
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y, reduction="none").mean(axis=-1)
    eps = epsilon()
    p = y_pred.clip(eps, 1.0 - eps)
    return -(y * p.log() + (1.0 - y) * (1.0 - p).log()).mean(axis=-1)


def categorical_crossentropy(y_true: Any, y_pred: Tensor, from_logits: bool = False) -> Tensor:
    y = _float_labels(y_true, y_pred, "categorical_crossentropy")
    if from_logits:
        return -(y * y_pred.log_softmax(axis=-1)).sum(axis=-1)
    eps = epsilon()
    p = (y_pred / y_pred.sum(axis=-1, keepdims=True)).clip(eps, 1.0 - eps)
    return -(y * p.log()).sum(axis=-1)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Tensor, from_logits: bool = False) -> Tensor:
    ids = _class_ids(y_true, y_pred, "sparse_categorical_crossentropy")
    if from_logits:
        return -_pick(y_pred.log_softmax(axis=-1), ids)
    eps = epsilon()
    p = (y_pred / y_pred.sum(axis=-1, keepdims=True)).clip(eps, 1.0 - eps)
    return -_pick(p, ids).log()


def mean_squared_error(y_true: Any, y_pred: Tensor) -> Tensor:
    d = y_pred - _float_labels(y_true, y_pred, "mean_squared_error")
    return (d * d).mean(axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Tensor) -> Tensor:
    return (y_pred - _float_labels(y_true, y_pred, "mean_absolute_error")).abs().mean(axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# ----- Loss objects ---------------------------------------------------------------------------------------------
class Loss:
    """A loss function plus its reduction: ``loss(y_true, y_pred, sample_weight=None, mask=None)`` → scalar.

    sum_over_batch_size:  Σᵢ wᵢ mᵢ ℓᵢ / (number of entries, or of unmasked entries when there is a mask)
    """

    fn: LossFn

    def __init__(self, reduction: str = "sum_over_batch_size", name: str | None = None, **fn_kwargs: Any) -> None:
        if reduction not in ("sum_over_batch_size", "sum", "none", "mean"):
            raise ValueError(f"Invalid value for argument `reduction`: {reduction!r}; expected one of "
                             "'sum_over_batch_size', 'sum', 'none'")
        self.reduction, self.fn_kwargs = reduction, fn_kwargs
        self.name = name or to_snake_case(type(self).__name__)

    def call(self, y_true: Any, y_pred: Tensor) -> Tensor:
        return type(self).fn(y_true, y_pred, **self.fn_kwargs)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None, mask: np.ndarray | None = None
                 ) -> Tensor:
        y_pred = y_pred if isinstance(y_pred, Tensor) else Tensor(np.asarray(y_pred, dtype=np.float32))
        per = self.call(y_true, y_pred)
        w = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=per.dtype)
            w = sw.reshape(sw.shape + (1,) * (per.ndim - sw.ndim)) if sw.ndim < per.ndim else sw
        count = float(per.numel())
        if mask is not None and np.shape(mask) == per.shape:
            m = np.asarray(mask, dtype=per.dtype)
            w = m if w is None else w * m
            count = float(m.sum())
        if self.reduction == "none":
            return per * w if w is not None else per
        total = (per * w).sum() if w is not None else per.sum()
        if self.reduction == "sum":
            return total
        return total / max(count, 1.0)


class LossFunctionWrapper(Loss):
    """A plain function ``fn(y_true, y_pred) -> per-sample losses`` as a Loss."""

    def __init__(self, fn: LossFn, reduction: str = "sum_over_batch_size", name: str | None = None,
                 **fn_kwargs: Any) -> None:
        super().__init__(reduction, name or getattr(fn, "__name__", "loss"), **fn_kwargs)
        self._fn = fn

    def call(self, y_true: Any, y_pred: Tensor) -> Tensor:
        out = self._fn(y_true, y_pred, **self.fn_kwargs)
        return out if isinstance(out, Tensor) else Tensor(np.asarray(out, dtype=np.float32))


class BinaryCrossentropy(Loss):
    fn = staticmethod(binary_crossentropy)

    def __init__(self, from_logits: bool = False, reduction: str = "sum_over_batch_size",
                 name: str = "binary_crossentropy") -> None:
        super().__init__(reduction, name, from_logits=from_logits)


class CategoricalCrossentropy(Loss):
    fn = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits: bool = False, reduction: str = "sum_over_batch_size",
                 name: str = "categorical_crossentropy") -> None:
        super().__init__(reduction, name, from_logits=from_logits)


class SparseCategoricalCrossentropy(Loss):
    fn = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits: bool = False, reduction: str = "sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy") -> None:
        super().__init__(reduction, name, from_logits=from_logits)


class MeanSquaredError(Loss):
    fn = staticmethod(mean_squared_error)

    def __init__(self, reduction: str = "sum_over_batch_size", name: str = "mean_squared_error") -> None:
        super().__init__(reduction, name)


class MeanAbsoluteError(Loss):
    fn = staticmethod(mean_absolute_error)

    def __init__(self, reduction: str = "sum_over_batch_size", name: str = "mean_absolute_error") -> None:
        super().__init__(reduction, name)


_BY_NAME: dict[str, type[Loss]] = {
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy, "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError, "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
}


def get(identifier: Any) -> Loss:
    """A Loss from a Keras name, a Loss object, or a function ``fn(y_true, y_pred)``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret loss identifier: {identifier!r}. Known losses: "
                             f"{', '.join(sorted(_BY_NAME))} (or pass a function fn(y_true, y_pred))")
        loss = cls()
        loss.name = identifier
        return loss
    if callable(identifier):
        for cls in set(_BY_NAME.values()):
            if identifier is cls.fn:
                return cls()
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


__all__ = [
    "MAE", "MSE", "BinaryCrossentropy", "CategoricalCrossentropy", "Loss", "LossFunctionWrapper", "MeanAbsoluteError",
    "MeanSquaredError", "SparseCategoricalCrossentropy", "align", "binary_crossentropy", "categorical_crossentropy",
    "get", "mae", "mean_absolute_error", "mean_squared_error", "mse", "sparse_categorical_crossentropy",
]
