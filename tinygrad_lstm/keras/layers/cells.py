"""Keras's weight layout for tinygrad_lstm's recurrent cells. The equations are not repeated here: each class
below *is* the nn cell (its `step` computes the gates), and only says where the weights live.

Keras stores one layer's weights as

    kernel            (input_dim, G·units)     x_t · kernel         (nn: W_ih, transposed)
    recurrent_kernel  (units, G·units)         h_{t-1} · recurrent_kernel
    bias              (G·units,)               LSTM, SimpleRNN: one bias (nn has b_ih + b_hh; here b_hh = 0)
                      (2, G·units)             GRU (reset_after=True): row 0 for the input, row 1 recurrent

with the G gate blocks side by side: LSTM i, f, c, o (nn's order i, f, g, o: the same), GRU z, r, h (nn's order
r, z, n: `nn_gate_order` says which Keras block each nn block is). So

    project_input(x)  = (x ⊙ m_x) · kernel + bias           (hoisted over all time steps by the layer)
    project_hidden(h) = (h ⊙ m_h) · recurrent_kernel [+ recurrent bias]

and the nn cell's `step(project_input(x_t), state)` does the rest. m_x, m_h are Keras's dropout masks: drawn once
per call of the layer and kept for every time step (`dropout`, `recurrent_dropout`); with recurrent_dropout > 0
Keras draws one mask per gate (its implementation 1), without it one mask for all gates (implementation 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...nn import cells as nn_cells
from ...nn.module import Module, Parameter
from ...random import rng
from ...tensor import Tensor, concat
from .. import activations, initializers


def _project(x: Tensor, w: Tensor, masks: list[Tensor] | None, gates: int) -> Tensor:
    """x · w for x of shape (..., in); with dropout masks (one, or one per gate block of w) applied to x first."""
    lead, n_in = x.shape[:-1], x.shape[-1]
    if masks is None:
        y = x.reshape(-1, n_in) @ w
    elif len(masks) == 1:
        y = (x * masks[0]).reshape(-1, n_in) @ w
    else:
        blocks = w.chunk(gates, axis=1)
        y = concat([(x * m).reshape(-1, n_in) @ wk for m, wk in zip(masks, blocks)], axis=1)
    return y.reshape(lead + (y.shape[-1],))


class KerasLayoutCell:
    """Mixin for an nn cell: Keras's `kernel`, `recurrent_kernel`, `bias` instead of W_ih, W_hh, b_ih, b_hh."""

    nn_gate_order: tuple[int, ...] | None = None  # nn block k reads Keras block nn_gate_order[k]; None: same order
    num_gates: int
    hidden_size: int

    def _init_layout(self, input_dim: int, units: int, use_bias: bool, bias: np.ndarray | None,
                     kernel_initializer: Any, recurrent_initializer: Any) -> None:
        Module.__init__(self)  # type: ignore[arg-type]  # the nn cell's own __init__ would make W_ih, W_hh
        g = self.num_gates * units
        self.input_size, self.hidden_size, self.use_bias = input_dim, units, use_bias
        self.kernel = Parameter(initializers.get(kernel_initializer)((input_dim, g)))
        self.recurrent_kernel = Parameter(initializers.get(recurrent_initializer)((units, g)))
        self.bias = Parameter(bias) if use_bias else None
        self.input_masks: list[Tensor] | None = None
        self.recurrent_masks: list[Tensor] | None = None
        self._prepared: tuple | None = None

    # ----- where the weights are --------------------------------------------------------------------------
    def _biases(self) -> tuple[Tensor | None, Tensor | None]:
        """(input bias, recurrent bias) in Keras's gate order."""
        return self.bias, None

    def _weights(self) -> tuple:
        """kernel, recurrent kernel, input bias, recurrent bias, with the gate blocks in the nn cell's order.
        For the GRU this is one gather per layer call (`prepare` keeps it for all the time steps)."""
        if self._prepared is not None:
            return self._prepared
        k, rk = self.kernel, self.recurrent_kernel
        b_in, b_rec = self._biases()
        if self.nn_gate_order is None:
            return k, rk, b_in, b_rec
        u = self.hidden_size
        idx = np.concatenate([np.arange(b * u, (b + 1) * u) for b in self.nn_gate_order])
        return (k[:, idx], rk[:, idx], None if b_in is None else b_in[idx], None if b_rec is None else b_rec[idx])

    def project_input(self, x: Tensor) -> Tensor:
        k, _, b_in, _ = self._weights()
        xw = _project(x, k, self.input_masks, self.num_gates)
        return xw + b_in if b_in is not None else xw

    def project_hidden(self, h: Tensor) -> Tensor:
        _, rk, _, b_rec = self._weights()
        hw = _project(h, rk, self.recurrent_masks, self.num_gates)
        return hw + b_rec if b_rec is not None else hw

    # ----- one layer call ---------------------------------------------------------------------------------
    def prepare(self, batch: int, training: bool, dropout: float, recurrent_dropout: float) -> None:
        """Before a layer's time loop: fix the weights' gate order and draw this call's dropout masks."""
        self._prepared = None
        self._prepared = self._weights()
        per_gate = 0.0 < recurrent_dropout < 1.0
        n = self.num_gates if per_gate else 1
        self.input_masks = self._masks(n, (batch, self.input_size), dropout) if training else None
        self.recurrent_masks = self._masks(n, (batch, self.hidden_size), recurrent_dropout) if training else None

    def _masks(self, n: int, shape: tuple[int, int], rate: float) -> list[Tensor] | None:
        if not 0.0 < rate < 1.0:
            return None
        masks = [(rng().random(shape) >= rate).astype(np.float32) / np.float32(1.0 - rate) for _ in range(n)]
        if n > 1 and self.nn_gate_order is not None:
            masks = [masks[b] for b in self.nn_gate_order]
        return [Tensor(m) for m in masks]

    def release(self) -> None:
        """After the loop: forget the masks and the gathered weights (they hold this call's values)."""
        self._prepared, self.input_masks, self.recurrent_masks = None, None, None

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.use_bias else ", use_bias=False")


def _set_activations(cell: Any, activation: Any, recurrent_activation: Any = None) -> None:
    object.__setattr__(cell, "activation", activations.get(activation))
    if recurrent_activation is not None:
        object.__setattr__(cell, "gate_activation", activations.get(recurrent_activation))


class LSTMCell(KerasLayoutCell, nn_cells.LSTMCell):
    """nn.LSTMCell with Keras's layout; gates i, f, c, o (nn's i, f, g, o), `activation` for the candidate and
    the output (tanh), `recurrent_activation` for the gates (sigmoid).

        z = x_t·kernel + h_{t-1}·recurrent_kernel + bias = [z_i | z_f | z_c | z_o]
        c_t = σ(z_f) ⊙ c_{t-1} + σ(z_i) ⊙ tanh(z_c);   h_t = σ(z_o) ⊙ tanh(c_t)

    unit_forget_bias=True starts the forget block of the bias at 1 (the rest at bias_initializer's values).
    """

    def __init__(self, input_dim: int, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True) -> None:
        bias = None
        if use_bias:
            init = initializers.get(bias_initializer)
            if unit_forget_bias:
                bias = np.concatenate([init((units,)), np.ones(units, np.float32), init((2 * units,))])
            else:
                bias = init((4 * units,))
        self._init_layout(input_dim, units, use_bias, bias, kernel_initializer, recurrent_initializer)
        _set_activations(self, activation, recurrent_activation)


class GRUCell(KerasLayoutCell, nn_cells.GRUCell):
    """nn.GRUCell with Keras's layout (reset_after=True): gates z, r, h in Keras, r, z, n in nn; bias (2, 3u).

        [x_z | x_r | x_h] = x_t·kernel + bias[0],   [h_z | h_r | h_h] = h_{t-1}·recurrent_kernel + bias[1]
        z = σ(x_z + h_z),  r = σ(x_r + h_r),  ĥ = tanh(x_h + r ⊙ h_h),  h_t = z ⊙ h_{t-1} + (1 - z) ⊙ ĥ
    """

    nn_gate_order = (1, 0, 2)  # nn's r, z, n are Keras's blocks 1 (r), 0 (z), 2 (h)

    def __init__(self, input_dim: int, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros") -> None:
        bias = initializers.get(bias_initializer)((2, 3 * units)) if use_bias else None
        self._init_layout(input_dim, units, use_bias, bias, kernel_initializer, recurrent_initializer)
        _set_activations(self, activation, recurrent_activation)

    def _biases(self) -> tuple[Tensor | None, Tensor | None]:
        if self.bias is None:
            return None, None
        return self.bias[0], self.bias[1]


class SimpleRNNCell(KerasLayoutCell, nn_cells.RNNCell):
    """nn.RNNCell with Keras's layout: h_t = activation(x_t·kernel + bias + h_{t-1}·recurrent_kernel)."""

    def __init__(self, input_dim: int, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros") -> None:
        bias = initializers.get(bias_initializer)((units,)) if use_bias else None
        self._init_layout(input_dim, units, use_bias, bias, kernel_initializer, recurrent_initializer)
        self.nonlinearity = "keras"
        _set_activations(self, activation)


__all__ = ["GRUCell", "KerasLayoutCell", "LSTMCell", "SimpleRNNCell"]
