"""`save_weights` / `load_weights`: a model's weights in tinygrad_lstm's safe .npz checkpoint format (never
pickle), written atomically at exactly the path given:

    {"format": "tinygrad_lstm.keras.weights", "names": [...], "weights": [kernel, recurrent_kernel, ...]}

Weights are matched by position (the order of `model.get_weights()`), as Keras's own weight files are read
back into a model built by the same code; counts and shapes are checked before anything is loaded.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ...serialization import CheckpointError, load, save

FORMAT = "tinygrad_lstm.keras.weights"


def save_weights(model: Any, filepath: str | os.PathLike[str], overwrite: bool = True) -> None:
    if not model.built:
        raise ValueError(f'Model "{model.name}" has not been built yet, so it has no weights to save: give '
                         "input_shape to the first layer, call model.build(input_shape), or fit first")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_weights: {os.fspath(filepath)} exists and overwrite=False")
    weights = model.weights
    save({"format": FORMAT, "version": 1, "names": [p.name for p in weights], "weights": [p.data for p in weights]},
         filepath)


def load_weights(model: Any, filepath: str | os.PathLike[str]) -> None:
    path = os.fspath(filepath)
    try:
        ckpt = load(path)
    except CheckpointError as e:
        raise ValueError(f"load_weights: {e}. Only files written by save_weights (or ModelCheckpoint) can be read; "
                         "a Keras .h5/.keras file can't: load it in Keras and move the arrays over with "
                         "model.set_weights(keras_model.get_weights())") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"load_weights: {path} is a tinygrad_lstm checkpoint but not a weights file written by "
                         "save_weights")
    if not model.built:
        raise ValueError(f'Model "{model.name}" has not been built yet: build it first (input_shape on the first '
                         "layer, or model.build(input_shape)) so that its weights exist")
    arrays: list[np.ndarray] = list(ckpt["weights"])
    own = model.weights
    if len(arrays) != len(own):
        raise ValueError(f"load_weights: {path} holds {len(arrays)} weight arrays ({', '.join(ckpt['names'])}), "
                         f"but the model has {len(own)} ({', '.join(str(p.name) for p in own)})")
    for saved, p, a in zip(ckpt["names"], own, arrays):
        if a.shape != p.shape:
            raise ValueError(f"load_weights: weight {saved} in {path} has shape {a.shape}, but the model's {p.name} "
                             f"has shape {p.shape}")
    model.set_weights(arrays)


__all__ = ["load_weights", "save_weights"]
