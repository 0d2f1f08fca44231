"""`model.save("m.keras")` and `load_model`: the whole model in one file, the architecture, the weights, the
compile arguments and the optimizer's state, so training continues where it stopped.

The file is tinygrad_lstm's checkpoint format (`tinygrad_lstm.save`): a zip of .npy arrays plus the structure
as JSON, never pickle, written to a temporary file and renamed into place (a failed save leaves no file and the
old one intact). Its content:

    {"format": "tinygrad_lstm.keras.model", "version": 1,
     "model": {"class_name": "Sequential" | "Functional", "config": {...layers...}},
     "weights": {"lstm.cell.kernel": array, ...},                    every weight by its dotted name
     "compile": {"loss": "mse", "metrics": [...], "loss_weights": None} or None,
     "optimizer": {"class_name": "Adam", "config": {...}, "variables": {...}} or None}

Layers are rebuilt from their `get_config()` (Keras's own names for the arguments); a layer class or function
(activation, loss) defined outside tinygrad_lstm.keras can't be rebuilt from a name, and saving says so.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ...serialization import CheckpointError, load, save
from .. import losses as losses_mod
from .. import optimizers as optimizers_mod

FORMAT = "tinygrad_lstm.keras.model"


def _name_of_loss(loss: Any) -> Any:
    """A compile argument as a name, or None when it is an object we can't name (then load leaves it out)."""
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, (list, tuple)):
        names = [_name_of_loss(x) for x in loss]
        return None if None in names else names
    if isinstance(loss, dict):
        names = {k: _name_of_loss(v) for k, v in loss.items()}
        return None if None in names.values() else names
    name = getattr(loss, "name", None)
    return name if name in losses_mod._BY_NAME else None


def _compile_state(model: Any) -> dict[str, Any] | None:
    if not model.compiled:
        return None
    args = model._compile_args
    loss, metrics = _name_of_loss(args["loss"]), args["metrics"]
    if loss is None or not all(isinstance(m, str) for m in metrics or []):
        return None  # a custom loss or metric object: the loaded model has to be compiled again
    return {"loss": loss, "metrics": list(metrics or []), "loss_weights": args["loss_weights"]}


def _optimizer_state(model: Any, names: dict[int, str]) -> dict[str, Any] | None:
    opt = model.optimizer
    if opt is None:
        return None
    return {"class_name": type(opt).__name__, "config": opt.get_config(), "variables": opt.save_own_variables(names)}


def save_model(model: Any, filepath: str | os.PathLike[str], overwrite: bool = True) -> None:
    """Write `model` (architecture, weights, compile arguments, optimizer state) to `filepath` (.keras)."""
    from ..layers import serialize

    path = os.fspath(filepath)
    if not path.endswith(".keras"):
        raise ValueError("Invalid filepath extension for saving. Please add a `.keras` extension (this library's "
                         f"single-file format; HDF5 .h5 is not available). Received: filepath={path}. To save only "
                         "the weights, use model.save_weights(path)")
    if not model.built:
        raise ValueError(f'Model "{model.name}" has not been built yet, so it has no weights to save: give an input '
                         "shape (keras.Input or input_shape=), or call it on data first")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save: {path} exists and overwrite=False")
    named = dict(model.named_parameters())
    names = {id(p): n for n, p in named.items()}
    content = {"format": FORMAT, "version": 1, "model": serialize(model),
               "weights": {n: p.data for n, p in named.items()}, "compile": _compile_state(model),
               "optimizer": _optimizer_state(model, names)}
    try:
        save(content, path)
    except TypeError as e:
        raise TypeError(f"save: the model's config holds something that can't be written without pickle ({e}); "
                        "layers, activations and losses must be tinygrad_lstm.keras's own, given by name") from None


def _read(path: str) -> dict[str, Any]:
    try:
        content = load(path)
    except CheckpointError as e:
        raise ValueError(f"load_model: {e}. Only files written by model.save(...'.keras') can be read; a file "
                         "written by Keras itself can't (move its weights with get_weights/set_weights)") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ValueError(f"load_model: {path} is a tinygrad_lstm checkpoint but not a model written by model.save "
                         "(weights files go to model.load_weights)")
    return content


def _load_weights(model: Any, weights: dict[str, np.ndarray], path: str) -> None:
    own = dict(model.named_parameters())
    if set(own) != set(weights):
        raise ValueError(f"load_model: the weights in {path} ({sorted(weights)}) do not match the rebuilt model's "
                         f"({sorted(own)})")
    for name, p in own.items():
        if weights[name].shape != p.shape:
            raise ValueError(f"load_model: weight {name} in {path} has shape {weights[name].shape}, the rebuilt "
                             f"model's has {p.shape}")
    for name, p in own.items():
        p.data[...] = weights[name]


def load_model(filepath: str | os.PathLike[str], custom_objects: Any = None, compile: bool = True,  # noqa: A002
               safe_mode: bool = True) -> Any:
    """The model `save` wrote: same layers, same weights (so the same predictions), compiled as it was with its
    optimizer's state restored (compile=False leaves it uncompiled)."""
    from ..layers import deserialize

    path = os.fspath(filepath)
    if custom_objects:
        raise NotImplementedError("load_model: custom_objects are not supported (only tinygrad_lstm.keras layers)")
    content = _read(path)
    model = deserialize(content["model"])
    _load_weights(model, content["weights"], path)
    state = content.get("compile")
    if compile and state is not None:
        opt_state = content.get("optimizer")
        optimizer: Any = "rmsprop"
        if opt_state is not None:
            optimizer = getattr(optimizers_mod, opt_state["class_name"])(**opt_state["config"])
        model.compile(optimizer=optimizer, loss=state["loss"], metrics=state["metrics"],
                      loss_weights=state["loss_weights"])
        if opt_state is not None:
            optimizer.load_own_variables(opt_state["variables"], dict(model.named_parameters()),
                                         model.trainable_weights)
    return model


__all__ = ["load_model", "save_model"]
