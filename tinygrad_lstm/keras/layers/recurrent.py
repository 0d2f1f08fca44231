"""LSTM, GRU, SimpleRNN: Keras's recurrent layers, running the Keras-layout cells of `cells.py` over time.

The loop (`scan`, the loop every recurrent layer shares: nn/loop.py), for inputs of shape (batch, timesteps, features):

    X_proj = X · kernel + bias                       all time steps in one matrix product (cell.project_input)
    for t in 0 … T-1   (T-1 … 0 with go_backwards):
        new = cell.step(X_proj[t], state)            the cell's equations (nn.LSTMCell.step, ...)
        where mask[:, t] is False (a padded step):   new = state      the state is carried over unchanged
        output_t = h of new                          (zeros at masked steps if zero_output_for_mask)
        state = new

Returns the last output (return_sequences=False) or every output in the order processed (so reversed with
go_backwards, as Keras), and with return_state also the final state: [output, h, c] for an LSTM, [output, h]
otherwise. The mask comes from `Embedding(mask_zero=True)` (ids ≠ 0) or is passed as `mask=`; Keras pads
at the front by default (pad_sequences padding="pre"), which a mask handles like any other pattern.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...nn import loop
from ...tensor import Tensor
from .. import activations
from .base import Layer, Shape, incompatible, show_shape
from .cells import GRUCell, KerasLayoutCell, LSTMCell, SimpleRNNCell


def scan(cell: Any, x: Tensor, state: Any, mask: np.ndarray | None, go_backwards: bool = False,
         zero_output_for_mask: bool = False) -> tuple[Tensor, Any]:
    """Run `cell` over x (batch, T, features) from `state` (nn.loop.run, the loop every recurrent layer
    shares); return the outputs (batch, T, units) in processing order and the final state. Masked steps keep
    the state; their output is the carried h, or zeros."""
    xw = cell.project_input(x.transpose(0, 1))  # (T, batch, G·units)
    # with recurrent dropout the step multiplies h by a mask before the product: no compiled loop for it
    out, state = loop.run(cell.step, xw, state, mask=None if mask is None else mask.T, reverse=go_backwards,
                          zero_output=zero_output_for_mask, scope_entry=cell._scope_entry)
    out = out.transpose(0, 1)
    return (out[:, ::-1] if go_backwards else out), state


class RNN(Layer):
    """What the recurrent layers share: arguments, build (make the cell), call (run `scan`), shapes, masks."""

    supports_masking = True
    cell_class: type = SimpleRNNCell
    cell_args: tuple[str, ...] = ()

    def __init__(self, units: int, *, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 stateful: bool = False, unroll: bool = False, seed: int | None = None,
                 zero_output_for_mask: bool = False, cell_config: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        kwargs.pop("implementation", None)  # Keras's choice of kernel fusion: the same numbers either way
        kwargs.pop("use_cudnn", None)
        super().__init__(**kwargs)
        name = type(self).__name__
        if int(units) <= 0:
            raise ValueError(f"{name}: units must be a positive integer, got {units!r}")
        if stateful:
            raise NotImplementedError(f"{name}: stateful=True is not supported (each batch starts from zeros); "
                                      "pass initial_state= to the layer call instead")
        self.units = int(units)
        self.return_sequences, self.return_state, self.go_backwards = return_sequences, return_state, go_backwards
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.zero_output_for_mask = zero_output_for_mask
        self.cell_config = dict(cell_config or {})
        self.cell: KerasLayoutCell | None = None

    # ----- build ------------------------------------------------------------------------------------------
    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != 3:
            hint = ""
            if len(input_shape) == 2:
                hint = (f". A recurrent layer reads (batch, timesteps, features); for one feature per step "
                        f"reshape x to (samples, {input_shape[1]}, 1), e.g. x.reshape(len(x), -1, 1)")
            raise incompatible(self.name, f"expected ndim=3, found ndim={len(input_shape)}. Full shape received: "
                                          f"{show_shape(input_shape)}{hint}")
        if input_shape[-1] is None:
            raise incompatible(self.name, f"the number of features (last axis) must be known, got "
                                          f"{show_shape(input_shape)}")
        self.cell = self.cell_class(int(input_shape[-1]), self.units, **self.cell_config)

    def compute_output_shape(self, input_shape: Shape) -> Any:
        batch = input_shape[0]
        out = (batch, input_shape[1], self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            n = 2 if self.cell_class is LSTMCell else 1
            return [out] + [(batch, self.units)] * n
        return out

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> np.ndarray | None:
        return mask if self.return_sequences else None

    # ----- call -------------------------------------------------------------------------------------------
    def call(self, inputs: Tensor, training: bool = False, mask: np.ndarray | None = None,
             initial_state: Any = None) -> Any:
        cell = self.cell
        assert cell is not None
        if inputs.ndim != 3 or inputs.shape[-1] != cell.input_size:
            raise incompatible(self.name, f"expected shape={show_shape((None, None, cell.input_size))}, found "
                                          f"shape={show_shape(inputs.shape)}")
        x = inputs.astype(cell.kernel.dtype)  # float32, or float64 after layer.double()
        B, T = x.shape[0], x.shape[1]
        state = self._initial_state(initial_state, B)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (B, T):
                raise ValueError(f'Layer "{self.name}": mask of shape {mask.shape} does not match the input\'s '
                                 f"(batch, timesteps) = {(B, T)}")
        cell.prepare(B, training, self.dropout, self.recurrent_dropout)
        try:
            outputs, state = scan(cell, x, state, mask, self.go_backwards, self.zero_output_for_mask)
        finally:
            cell.release()
        output = outputs if self.return_sequences else outputs[:, -1]
        if self.return_state:
            return [output, *(state if isinstance(state, tuple) else (state,))]
        return output

    def _initial_state(self, initial_state: Any, batch: int) -> Any:
        cell = self.cell
        assert cell is not None
        if initial_state is None:
            return cell.initial_state(batch, cell.kernel.dtype)
        labels = ("h", "c") if cell.state_is_tuple else ("h",)
        parts = loop.check_state(f'Layer "{self.name}"', initial_state, labels, (batch, self.units),
                                 cell.kernel.dtype, " (batch, units)")
        return tuple(parts) if cell.state_is_tuple else parts[0]

    # ----- config -----------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "units": self.units, "return_sequences": self.return_sequences,
                  "return_state": self.return_state, "go_backwards": self.go_backwards, "dropout": self.dropout,
                  "recurrent_dropout": self.recurrent_dropout}
        config.update({k: self.cell_config[k] for k in self.cell_args if k in self.cell_config})
        return config

    def clone(self, **changes: Any) -> RNN:
        """A new, unbuilt layer with this one's arguments (weights freshly initialized), some of them changed."""
        config = self.get_config()
        config.pop("trainable")
        config.update(changes)
        return type(self)(**config)


class LSTM(RNN):
    """Long short-term memory layer (Hochreiter & Schmidhuber 1997), Keras's arguments and weight layout.

    Weights: kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,), gate blocks i, f, c, o: 4·u·(in + u + 1)
    parameters. The equations are nn.LSTMCell's (see `cells.LSTMCell`).
    """

    cell_class = LSTMCell
    cell_args = ("activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                 "bias_initializer", "unit_forget_bias")

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 **kwargs: Any) -> None:
        activations.get(activation), activations.get(recurrent_activation)  # unknown names fail here
        super().__init__(units, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                         cell_config=dict(activation=activation, recurrent_activation=recurrent_activation,
                                          use_bias=use_bias, kernel_initializer=kernel_initializer,
                                          recurrent_initializer=recurrent_initializer,
                                          bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias),
                         **kwargs)


class GRU(RNN):
    """Gated recurrent unit (Cho et al. 2014), Keras 2/3's default variant reset_after=True.

    Weights: kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u), gate blocks z, r, h: 3·u·(in + u + 2)
    parameters. The equations are nn.GRUCell's (see `cells.GRUCell`).
    """

    cell_class = GRUCell
    cell_args = ("activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                 "bias_initializer")

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, reset_after: bool = True,
                 **kwargs: Any) -> None:
        if not reset_after:
            raise NotImplementedError(
                "GRU(reset_after=False) is not available: it applies the reset gate before the recurrent matrix "
                "product, r ⊙ h_{t-1} · U_h, a different equation from nn.GRUCell's r ⊙ (h_{t-1} · U_h + b). "
                "Use the default reset_after=True (Keras 2 and 3's default).")
        activations.get(activation), activations.get(recurrent_activation)
        super().__init__(units, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                         cell_config=dict(activation=activation, recurrent_activation=recurrent_activation,
                                          use_bias=use_bias, kernel_initializer=kernel_initializer,
                                          recurrent_initializer=recurrent_initializer,
                                          bias_initializer=bias_initializer),
                         **kwargs)


class SimpleRNN(RNN):
    """Fully connected recurrent layer: h_t = activation(x_t·kernel + bias + h_{t-1}·recurrent_kernel).

    Weights: kernel (in, u), recurrent_kernel (u, u), bias (u,): u·(in + u + 1) parameters.
    """

    cell_class = SimpleRNNCell
    cell_args = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer")

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 **kwargs: Any) -> None:
        activations.get(activation)
        super().__init__(units, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                         cell_config=dict(activation=activation, use_bias=use_bias,
                                          kernel_initializer=kernel_initializer,
                                          recurrent_initializer=recurrent_initializer,
                                          bias_initializer=bias_initializer),
                         **kwargs)


__all__ = ["GRU", "LSTM", "RNN", "SimpleRNN", "scan"]
