"""`Model`: compile, fit, evaluate, predict, on top of autograd and a Keras optimizer. `fit` runs, per batch:

    for p in trainable weights: p.grad = None
    y_pred = model(x_batch, training=True)          the forward pass; autograd records every op
    loss = loss_fn(y_batch, y_pred)                 one number (a Tensor)
    loss.backward()                                 d loss / d p into every p.grad
    optimizer.apply(trainable weights)              p ← p − (the optimizer's step)

with the batches of a fresh shuffle each epoch (`tinygrad_lstm.manual_seed` makes it reproducible), the loss and
the metrics averaged over the epoch, then evaluated on the validation data, and the callbacks told.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ... import autograd
from ...random import rng
from ...tensor import Tensor
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import optimizers as optimizers_mod
from ..callbacks import Callback, CallbackList, History, ProgbarLogger
from ..layers.base import Layer
from ..progbar import shows
from . import data, saving
from .summary import print_summary

COMPILE_FIRST = "You must compile your model before training/testing. Use `model.compile(optimizer, loss)`."


class Model(Layer):
    """Base class of models. ``Model(inputs, outputs)`` builds a functional model (see `functional`); or subclass
    it and write ``call(self, inputs, training=False)``; or use Sequential."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return object.__new__(Functional)  # Keras's Model(inputs, outputs) is a Functional model
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(f"{type(self).__name__}: a subclassed Model takes no inputs/outputs; build a functional "
                            "model with keras.Model(inputs, outputs)")
        super().__init__(**kwargs)
        self.optimizer: optimizers_mod.Optimizer | None = None
        self.loss: Any = None
        self.stop_training = False
        self.history: History | None = None
        self.compiled = False
        self._compile_args: dict[str, Any] = {}
        self._metric_ids: list[Any] = []
        self._train_metrics: list[metrics_mod.Metric] = []
        self._eval_metrics: list[metrics_mod.Metric] = []

    # ----- structure ----------------------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return [m for m in self.children() if isinstance(m, Layer)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[lay.name for lay in self.layers]}")

    def summary(self, line_length: int | None = None, positions: Any = None, print_fn: Any = None,
                **kwargs: Any) -> None:
        """Print the table of layers, output shapes and parameter counts (Keras 3's layout)."""
        print_summary(self, print_fn)

    def _check_data(self, x: Any) -> None:
        """Check all of `x` against the declared input shape, before the first batch (Sequential does)."""

    def _to_x(self, x: Any, what: str = "x") -> Any:
        """The model's input data as one array (several: `data.Arrays`, in the functional model)."""
        return data.to_array(x, what)

    def _to_y(self, y: Any, what: str = "y") -> Any:
        return data.to_array(y, what)

    def _output_count(self) -> int:
        return 1

    def _run(self, x: Any, training: bool) -> tuple[Any, np.ndarray | None]:
        """The forward pass and the mask of its output (None unless the model passes one on)."""
        y = self(x, training=training)
        if isinstance(y, Tensor):
            self._output_shape = (None,) + y.shape[1:]
        return y, None

    # ----- compile ------------------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None, loss_weights: Any = None,
                weighted_metrics: Any = None, run_eagerly: Any = None, steps_per_execution: int = 1,
                jit_compile: Any = "auto", **kwargs: Any) -> None:
        """Choose the optimizer (name or object), the loss (name, Loss or function) and the metrics (names)."""
        if kwargs:
            raise TypeError(f"compile: unrecognized keyword argument(s): {', '.join(sorted(kwargs))}")
        if loss is None:
            raise ValueError("compile: give a loss, e.g. loss='binary_crossentropy'. Known losses: "
                             f"{', '.join(sorted(losses_mod._BY_NAME))} (or a function fn(y_true, y_pred))")
        if weighted_metrics is not None:
            raise NotImplementedError("compile: weighted_metrics are not supported")
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = self._output_losses(loss, loss_weights, metrics)
        self._compile_args = {"loss": loss, "metrics": metrics, "loss_weights": loss_weights}
        self._metric_ids = list(metrics or [])
        self._train_metrics = [metrics_mod.get(m) for m in self._metric_ids]
        self._eval_metrics = [copy.deepcopy(m) for m in self._train_metrics]
        self._loss_tracker, self._eval_loss_tracker = metrics_mod.Mean("loss"), metrics_mod.Mean("loss")
        self.compiled = True

    def _output_losses(self, loss: Any, loss_weights: Any, metrics: Any) -> Any:
        """One Loss; with several outputs, a list of (loss, weight) per output (one loss given: for each)."""
        n = self._output_count()
        if n == 1:
            if isinstance(loss, (list, dict)) or loss_weights is not None:
                raise ValueError("compile: a list/dict of losses and loss_weights are for models with several "
                                 "outputs; this model has one")
            return losses_mod.get(loss)
        if metrics:
            raise NotImplementedError(f"compile: metrics for a model with {n} outputs are not supported (compile "
                                      "without metrics, or evaluate each output from predict)")
        names = self.output_names  # type: ignore[attr-defined]
        per = [loss[k] for k in names] if isinstance(loss, dict) else list(loss) if isinstance(loss, list) \
            else [loss] * n
        weights = [loss_weights[k] for k in names] if isinstance(loss_weights, dict) else \
            list(loss_weights) if loss_weights is not None else [1.0] * n
        if len(per) != n or len(weights) != n:
            raise ValueError(f"compile: the model has {n} outputs ({', '.join(names)}); got {len(per)} losses and "
                             f"{len(weights)} loss weights")
        return [(losses_mod.get(f), float(w)) for f, w in zip(per, weights)]

    def _loss_value(self, y: Any, y_pred: Any, sw: np.ndarray | None, mask: Any) -> Tensor:
        """The loss of a batch; with several outputs the weighted sum of each output's loss (as Keras)."""
        if not isinstance(self.loss, list):
            return self.loss(y, self._single(y_pred), sample_weight=sw, mask=mask)
        total: Tensor | None = None
        for (fn, w), yk, pk, mk in zip(self.loss, y.arrays, y_pred, mask):
            term = fn(yk, pk, sample_weight=sw, mask=mk) * w
            total = term if total is None else total + term
        assert total is not None
        return total

    @property
    def metrics(self) -> list[metrics_mod.Metric]:
        """The loss tracker and the compiled metrics (what the logs report)."""
        return ([self._loss_tracker] if self.compiled else []) + self._train_metrics

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def _require_compiled(self) -> None:
        if not self.compiled:
            raise RuntimeError(COMPILE_FIRST)

    # ----- one batch ----------------------------------------------------------------------------------------
    def _train_batch(self, x: Any, y: Any, sw: np.ndarray | None) -> None:
        assert self.loss is not None and self.optimizer is not None
        params = self.trainable_weights
        for p in params:
            p.grad = None
        y_pred, mask = self._run(x, training=True)
        loss = self._loss_value(y, y_pred, sw, mask)
        loss.backward()
        self.optimizer.apply(self.trainable_weights)
        self._track(self._loss_tracker, self._train_metrics, loss, y, y_pred, mask)

    def _test_batch(self, x: Any, y: Any, sw: np.ndarray | None) -> None:
        assert self.loss is not None
        with autograd.no_grad():
            y_pred, mask = self._run(x, training=False)
            loss = self._loss_value(y, y_pred, sw, mask)
        self._track(self._eval_loss_tracker, self._eval_metrics, loss, y, y_pred, mask)

    @staticmethod
    def _single(y_pred: Any) -> Tensor:
        if not isinstance(y_pred, Tensor):
            raise ValueError("The model returns several outputs; compile/fit handle a model with one output "
                             "(return_state=True or merge_mode=None belong in a hand-written loop)")
        return y_pred

    @staticmethod
    def _track(tracker: metrics_mod.Mean, metrics: list[metrics_mod.Metric], loss: Tensor, y: Any,
               y_pred: Tensor, mask: np.ndarray | None) -> None:
        tracker.update_state(float(loss.item()), sample_weight=len(y))
        for m in metrics:
            m.update_state(y, y_pred.data, mask)

    @staticmethod
    def _logs(tracker: metrics_mod.Mean, metrics: list[metrics_mod.Metric], prefix: str = "") -> dict[str, float]:
        logs = {m.name: float(m.result()) for m in metrics}
        logs["loss"] = float(tracker.result())
        return {prefix + k: logs[k] for k in sorted(logs)}

    # ----- fit / evaluate / predict -------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: list[Callback] | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict[int, float] | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, **kwargs: Any) -> History:
        """Train for `epochs` passes over (x, y) in batches of `batch_size` (32); returns the History."""
        for unsupported in ("steps_per_epoch", "validation_steps", "validation_batch_size", "validation_freq"):
            if kwargs.pop(unsupported, None) not in (None, 1):
                raise NotImplementedError(f"fit: `{unsupported}` is not supported")
        if kwargs:
            raise TypeError(f"fit: unrecognized keyword argument(s): {', '.join(sorted(kwargs))}")
        self._require_compiled()
        xs, ys = self._to_x(x), self._to_y(y)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float32)
        data.check_cardinality(xs, ys, sw)
        self._check_data(xs)
        if class_weight is not None:
            cw = data.class_weights_to_sample_weights(ys, class_weight)
            sw = cw if sw is None else sw * cw
        val = None
        if validation_data is not None:
            val = data.unpack_validation(validation_data, self._to_x, self._to_y)
            self._check_data(val[0])
        elif validation_split:
            (xs, ys, sw), (xv, yv, swv) = data.split_validation([xs, ys, sw], validation_split)
            val = (xv, yv, swv)
        bs = int(batch_size or 32)
        n = len(xs)
        steps = -(-n // bs)
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        cbs = list(callbacks or [])
        if shows(verbose):
            cbs.insert(0, ProgbarLogger(verbose))
        cbl = CallbackList(cbs + [history], self, {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        cbl.on_train_begin()
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            self._loss_tracker.reset_state()
            for m in self._train_metrics:
                m.reset_state()
            cbl.on_epoch_begin(epoch)
            order = rng().permutation(n) if shuffle else None
            for step, idx in enumerate(data.batches(n, bs, order)):
                cbl.on_train_batch_begin(step)
                self._train_batch(xs[idx], ys[idx], None if sw is None else sw[idx])
                cbl.on_train_batch_end(step, self._logs(self._loss_tracker, self._train_metrics))
                if self.stop_training:
                    break
            logs = self._logs(self._loss_tracker, self._train_metrics)
            if val is not None:
                logs.update(self._evaluate_arrays(*val, bs, prefix="val_"))
            cbl.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbl.on_train_end(logs)
        return history

    def _evaluate_arrays(self, x: Any, y: Any, sw: np.ndarray | None, batch_size: int,
                         prefix: str = "") -> dict[str, float]:
        self._eval_loss_tracker.reset_state()
        for m in self._eval_metrics:
            m.reset_state()
        for idx in data.batches(len(x), batch_size):
            self._test_batch(x[idx], y[idx], None if sw is None else sw[idx])
        return self._logs(self._eval_loss_tracker, self._eval_metrics, prefix)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto",
                 sample_weight: Any = None, return_dict: bool = False, **kwargs: Any) -> Any:
        """The loss on (x, y), or [loss, *metrics] when metrics were compiled (a dict with return_dict=True)."""
        self._require_compiled()
        xs, ys = self._to_x(x), self._to_y(y)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float32)
        data.check_cardinality(xs, ys, sw)
        self._check_data(xs)
        logs = self._evaluate_arrays(xs, ys, sw, int(batch_size or 32))
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in self._eval_metrics]
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto", **kwargs: Any) -> Any:
        """The outputs for x, batch by batch, in inference mode (no dropout), as a numpy array."""
        xs = self._to_x(x)
        self._check_data(xs)
        outs: list[Any] = []
        with autograd.no_grad():
            for idx in data.batches(len(xs), int(batch_size or 32)):
                y_pred, _ = self._run(xs[idx], training=False)
                outs.append(y_pred)
        if isinstance(outs[0], Tensor):
            return np.concatenate([o.data for o in outs])
        return [np.concatenate([o[k].data for o in outs]) for k in range(len(outs[0]))]

    def __call__(self, inputs: Any, training: bool | None = None, mask: Any = None, **kwargs: Any) -> Any:
        # passed on only when given: a model called inside a functional model follows that model's training flag
        if training is not None:
            kwargs["training"] = training
        if mask is not None:
            kwargs["mask"] = mask
        return super().__call__(inputs, **kwargs)

    def train_on_batch(self, x: Any, y: Any, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """One optimizer step on this batch; returns its loss (and metrics)."""
        self._require_compiled()
        xs, ys = self._to_x(x), self._to_y(y)
        data.check_cardinality(xs, ys)
        self._loss_tracker.reset_state()
        for m in self._train_metrics:
            m.reset_state()
        self._train_batch(xs, ys, None if sample_weight is None else np.asarray(sample_weight, np.float32))
        logs = self._logs(self._loss_tracker, self._train_metrics)
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in self._train_metrics]
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any = None, return_dict: bool = False) -> Any:
        return self.evaluate(x, y, batch_size=len(self._to_x(x)), sample_weight=sample_weight,
                             return_dict=return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        return self.predict(x, batch_size=len(self._to_x(x)))

    # ----- weights on disk ----------------------------------------------------------------------------------
    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Write the weights to `filepath` (tinygrad_lstm's safe .npz format, whatever the extension)."""
        saving.save_weights(self, filepath, overwrite)

    def load_weights(self, filepath: str) -> None:
        """Read weights written by `save_weights` into this (built) model; counts and shapes are checked."""
        saving.load_weights(self, filepath)

    def save(self, filepath: str, overwrite: bool = True, **kwargs: Any) -> None:
        """Write the whole model to a ``.keras`` file: architecture, weights, compile arguments and optimizer
        state (see `model_file`); `keras.models.load_model` reads it back."""
        from .model_file import save_model

        save_model(self, filepath, overwrite)


__all__ = ["Model"]
