"""Bidirectional and TimeDistributed: layers that wrap another layer.

    Bidirectional(LSTM(u))   two copies of the layer, one reading forward, one backward (go_backwards=True);
                             their outputs merged: concat (…, 2u), sum, mul or ave. With return_sequences the
                             backward outputs are flipped back, so output t of both halves is about step t.
    TimeDistributed(Dense(k))  the same layer applied at every time step: (batch, T, …) → (batch, T, k), done as
                             one call on (batch·T, …)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor, concat
from .base import Layer, Shape, serialize, show_shape
from .recurrent import RNN

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Bidirectional wrapper for LSTM, GRU and SimpleRNN. Parameters: twice the wrapped layer's.

    As in Keras, the wrapped layer is a template: the forward and backward layers are fresh copies of it
    (named forward_<name>, backward_<name>), and their outputs at masked steps are zeros when returning sequences.
    """

    supports_masking = True

    def __init__(self, layer: RNN, merge_mode: str | None = "concat", backward_layer: RNN | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(layer, RNN):
            raise ValueError("Please initialize `Bidirectional` layer with a recurrent layer (LSTM, GRU or "
                             f"SimpleRNN). Received: {layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        if "input_shape" not in kwargs and layer._declared_input_shape is not None:
            kwargs["input_shape"] = layer._declared_input_shape[1:]
        super().__init__(**kwargs)
        fwd = layer.clone(name="forward_" + layer.name.removeprefix("forward_"))
        if backward_layer is None:
            bwd = layer.clone(name="backward_" + layer.name.removeprefix("backward_"),
                              go_backwards=not layer.go_backwards)
        else:
            bwd = backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError("Forward layer and backward layer should have different `go_backwards` value. "
                             f"Received: forward_layer.go_backwards={fwd.go_backwards}, "
                             f"backward_layer.go_backwards={bwd.go_backwards}")
        for attr in ("return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(f'Forward layer and backward layer are expected to have the same value for '
                                 f'attribute "{attr}"')
        for sub in (fwd, bwd):
            sub.zero_output_for_mask = sub.return_sequences
        self.forward_layer, self.backward_layer = fwd, bwd
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state

    def build(self, input_shape: Shape) -> None:
        self.forward_layer.build_from_shape(input_shape)
        self.backward_layer.build_from_shape(input_shape)

    def compute_output_shape(self, input_shape: Shape) -> Any:
        out = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            out, states = out[0], out[1:]
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (2 * out[-1],)
        elif self.merge_mode is None:
            out = [out, out]
        if self.return_state:
            return ([*out] if isinstance(out, list) else [out]) + states + states
        return out

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> np.ndarray | None:
        return mask if self.return_sequences else None

    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None,
             initial_state: Any = None) -> Any:
        fs = bs = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fs, bs = initial_state[:half], initial_state[half:]
        y = self.forward_layer(inputs, training=training, mask=mask, initial_state=fs)
        y_rev = self.backward_layer(inputs, training=training, mask=mask, initial_state=bs)
        states: list[Tensor] = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, np.arange(y_rev.shape[1] - 1, -1, -1)]  # back to time order
        if self.merge_mode == "concat":
            out: Any = concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) * 0.5
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:
            out = [y, y_rev]
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": serialize(self.forward_layer),
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        from . import deserialize

        return cls(**{**config, "layer": deserialize(config["layer"]),
                      "backward_layer": deserialize(config["backward_layer"])})


class TimeDistributed(Layer):
    """Apply `layer` to every time step: inputs (batch, T, ...) → (batch, T, ...layer's output). Its weights are
    shared by all steps, so the parameter count is the wrapped layer's."""

    supports_masking = True

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    @staticmethod
    def _inner(input_shape: Shape) -> Shape:
        return (None,) + tuple(input_shape[2:])

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                             f"dimensions, received: {show_shape(input_shape)}")
        self.layer.build_from_shape(self._inner(input_shape))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        inner = self.layer.compute_output_shape(self._inner(input_shape))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None) -> Tensor:
        if inputs.ndim < 3:
            raise ValueError(f'Layer "{self.name}" (TimeDistributed) expects inputs with at least 3 dimensions '
                             f"(batch, timesteps, ...), received shape {show_shape(inputs.shape)}")
        B, T = inputs.shape[0], inputs.shape[1]
        y = self.layer(inputs.reshape((B * T,) + inputs.shape[2:]), training=training)
        return y.reshape((B, T) + y.shape[1:])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeDistributed:
        from . import deserialize

        return cls(**{**config, "layer": deserialize(config["layer"])})


__all__ = ["Bidirectional", "TimeDistributed"]
