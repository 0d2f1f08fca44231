"""Keras's metrics: numbers computed on numpy outputs (no gradients), averaged over an epoch.

    binary_accuracy             mean_k [y == (p > 0.5)]
    categorical_accuracy        [argmax y == argmax p]          (one-hot labels)
    sparse_categorical_accuracy [y == argmax p]                 (integer class ids)
    mse, mae                    mean_k (y - p)², mean_k |y - p|
    Precision, Recall           TP / (TP + FP), TP / (TP + FN) with p > 0.5 counted as positive

"accuracy" (or "acc") in compile(metrics=[...]) picks one of the first three from the shapes, as Keras does: an
output with one unit → binary; labels with one axis fewer than the output (or a last axis of 1) → sparse;
else categorical. A mask (padded time steps) leaves those steps out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .losses import align

MetricFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _arrays(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(getattr(y_true, "data", y_true)), np.asarray(getattr(y_pred, "data", y_pred))


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    y, p = _arrays(y_true, y_pred)
    y = align(y, p.shape, "binary_accuracy")
    return np.mean(y == (p > threshold).astype(y.dtype), axis=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    y, p = _arrays(y_true, y_pred)
    y = align(y, p.shape, "categorical_accuracy")
    return (np.argmax(y, axis=-1) == np.argmax(p, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    y, p = _arrays(y_true, y_pred)
    if y.shape == p.shape[:-1] + (1,):
        y = y[..., 0]
    if y.shape != p.shape[:-1]:
        raise ValueError(f"sparse_categorical_accuracy: labels of shape {y.shape} do not match the model's output "
                         f"of shape {p.shape}; expected class ids of shape {p.shape[:-1]}")
    return (y == np.argmax(p, axis=-1)).astype(np.float32)


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    y, p = _arrays(y_true, y_pred)
    return np.mean((p - align(y, p.shape, "mean_squared_error")) ** 2, axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    y, p = _arrays(y_true, y_pred)
    return np.mean(np.abs(p - align(y, p.shape, "mean_absolute_error")), axis=-1)


mse = mean_squared_error
mae = mean_absolute_error


class Metric:
    """A running value: ``update_state(y_true, y_pred, mask=None)`` per batch, ``result()``, ``reset_state()``.
    `direction` ("up" or "down") tells EarlyStopping and ModelCheckpoint which way is better."""

    direction = "down"

    def __init__(self, name: str | None = None) -> None:
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self) -> None:
        pass

    def update_state(self, y_true: Any, y_pred: Any, mask: np.ndarray | None = None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) mean of the values given: Σ wᵢ vᵢ / Σ wᵢ; fit's `loss` is one, weighted by batch size."""

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        v = np.asarray(values, dtype=np.float64)
        w = np.ones_like(v) if sample_weight is None else np.broadcast_to(np.asarray(sample_weight, float), v.shape)
        self.total += float((v * w).sum())
        self.count += float(w.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Metric):
    """The mean of fn(y_true, y_pred) over all samples (and unmasked time steps) seen since the last reset."""

    def __init__(self, fn: MetricFn, name: str | None = None, direction: str = "down", **kwargs: Any) -> None:
        self.fn, self.kwargs, self.direction = fn, kwargs, direction
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true: Any, y_pred: Any, mask: np.ndarray | None = None) -> None:
        v = np.asarray(self.fn(y_true, y_pred, **self.kwargs), dtype=np.float64)
        if mask is not None and np.shape(mask) == v.shape:
            m = np.asarray(mask, dtype=np.float64)
            self.total += float((v * m).sum())
            self.count += float(m.sum())
        else:
            self.total += float(v.sum())
            self.count += float(v.size)

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name, "up", threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_accuracy") -> None:
        super().__init__(categorical_accuracy, name, "up")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_accuracy") -> None:
        super().__init__(sparse_categorical_accuracy, name, "up")


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_squared_error") -> None:
        super().__init__(mean_squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_absolute_error") -> None:
        super().__init__(mean_absolute_error, name)


class Accuracy(MeanMetricWrapper):
    """Exact agreement y == p (Keras's metrics.Accuracy; the string "accuracy" means something smarter)."""

    def __init__(self, name: str = "accuracy") -> None:
        def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
            y, p = _arrays(y_true, y_pred)
            return (align(y, p.shape, "accuracy") == p).astype(np.float32)

        super().__init__(accuracy, name, "up")


class _AutoAccuracy(MeanMetricWrapper):
    """What the string "accuracy" means: binary, sparse or categorical accuracy, chosen at the first batch from
    the shapes of the labels and the output (Keras's rule)."""

    def __init__(self, name: str = "accuracy") -> None:
        super().__init__(binary_accuracy, name, "up")
        self._chosen = False

    def update_state(self, y_true: Any, y_pred: Any, mask: np.ndarray | None = None) -> None:
        if not self._chosen:
            y, p = _arrays(y_true, y_pred)
            if p.shape[-1] == 1:
                self.fn = binary_accuracy
            elif y.ndim < p.ndim or (y.shape[-1] == 1 and p.shape[-1] > 1):
                self.fn = sparse_categorical_accuracy
            else:
                self.fn = categorical_accuracy
            self._chosen = True
        super().update_state(y_true, y_pred, mask)


class _Counts(Metric):
    direction = "up"

    def __init__(self, name: str | None = None, thresholds: float = 0.5) -> None:
        self.threshold = float(thresholds)
        super().__init__(name)

    def reset_state(self) -> None:
        self.tp = self.fp = self.fn = 0.0

    def update_state(self, y_true: Any, y_pred: Any, mask: np.ndarray | None = None) -> None:
        y, p = _arrays(y_true, y_pred)
        y = align(y, p.shape, self.name).astype(bool)
        pos = p > self.threshold
        keep = np.ones(y.shape, bool) if mask is None or np.shape(mask) != y.shape[:-1] else \
            np.broadcast_to(np.asarray(mask, bool)[..., None], y.shape)
        self.tp += float((pos & y & keep).sum())
        self.fp += float((pos & ~y & keep).sum())
        self.fn += float((~pos & y & keep).sum())


class Precision(_Counts):
    """TP / (TP + FP), positives being outputs above the threshold (0.5)."""

    def __init__(self, thresholds: float = 0.5, name: str = "precision") -> None:
        super().__init__(name, thresholds)

    def result(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0


class Recall(_Counts):
    """TP / (TP + FN)."""

    def __init__(self, thresholds: float = 0.5, name: str = "recall") -> None:
        super().__init__(name, thresholds)

    def result(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


_BY_NAME: dict[str, Callable[[str], Metric]] = {
    "accuracy": _AutoAccuracy, "acc": _AutoAccuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError, "precision": lambda name: Precision(name=name),
    "recall": lambda name: Recall(name=name),
}


def get(identifier: Any) -> Metric:
    """A fresh Metric from a Keras name (its log key is that name), a Metric (reset and used), or a function
    ``fn(y_true, y_pred) -> per-sample values`` (numpy)."""
    if isinstance(identifier, Metric):
        identifier.reset_state()
        return identifier
    if isinstance(identifier, str):
        make = _BY_NAME.get(identifier)
        if make is None:
            raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Known metrics: "
                             f"{', '.join(sorted(_BY_NAME))} (or pass a function fn(y_true, y_pred))")
        return make(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


__all__ = [
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanAbsoluteError", "MeanMetricWrapper",
    "MeanSquaredError", "Metric", "Precision", "Recall", "SparseCategoricalAccuracy", "binary_accuracy",
    "categorical_accuracy", "get", "mae", "mean_absolute_error", "mean_squared_error", "mse",
    "sparse_categorical_accuracy",
]
