"""Recurrent cells, each written only as its forward equations: autograd derives every gradient.

Layout and semantics follow PyTorch (weights `weight_ih` (G·H, in), `weight_hh` (G·H, H), biases `bias_ih`,
`bias_hh` (G·H), G gates stacked in PyTorch's order), so weights move between the two unchanged.

Every cell splits its forward in two, so that a sequence layer can hoist the input product of all time steps
into one matrix product (still a forward expression):

    forward(x, state) = step(project_input(x), state),   project_input(x) = W_ih x + b,   b = b_ih (+ b_hh)

(a layer computes `input_product` W_ih x for all steps and adds `input_bias` b at each step). Where b_hh only ever
appears in the sum W_ih x + b_ih + W_hh h + b_hh (RNN, LSTM) it joins b_ih: the same sum, one op fewer per step.
The GRU keeps it beside W_hh h, inside r ⊙ (W_hn h + b_hn).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from . import init
from .module import Module, Parameter
from .state import check_state

sigmoid = Tensor.sigmoid
tanh = Tensor.tanh
relu = Tensor.relu

State = Any  # a Tensor h, or a tuple (h, c)


class RNNCellBase(Module):
    """Parameters and the shared plumbing of the cells below; subclasses write `step`, their equations."""

    num_gates = 1
    state_is_tuple = False  # LSTMs carry (h, c); the others carry h
    # σ for the gates, tanh for candidates and outputs; a subclass or instance may swap them (Keras's
    # `recurrent_activation` and `activation`) without touching the equations
    gate_activation = staticmethod(sigmoid)
    activation = staticmethod(tanh)
    hidden_bias_with_input = True  # b_hh joins b_ih in the input projection; False for the GRU
    _weight_hh_t: Tensor | None = None  # W_hhᵀ, made once per sequence by a layer (see `unrolling`)
    _weight_ih_t: Tensor | None = None  # W_ihᵀ, likewise when a layer projects the input step by step

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be positive, got "
                             f"{input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        g, dt = self.num_gates * hidden_size, dtype or np.float32
        self.weight_ih = Parameter(np.empty((g, input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((g, hidden_size), dtype=dt))
        self.bias_ih = Parameter(np.empty(g, dtype=dt)) if bias else None
        self.bias_hh = Parameter(np.empty(g, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter U(-1/√H, 1/√H), as PyTorch."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    # W_ih x + b_ih (+ b_hh), for one step (B, in) or all steps at once (T·B, in)
    def project_input(self, x: Tensor) -> Tensor:
        xw, b = self.input_product(x), self.input_bias()
        return xw if b is None else xw + b

    # its two parts: a layer multiplies all steps at once and adds the bias inside each step (nn/recurrent.py)
    def input_product(self, x: Tensor) -> Tensor:
        return x @ (self._weight_ih_t if self._weight_ih_t is not None else self.weight_ih.T)

    def input_bias(self) -> Tensor | None:
        if self.bias_ih is None:
            return None
        return self.bias_ih + self.bias_hh if self.hidden_bias_with_input else self.bias_ih

    # W_hh h (+ b_hh)
    def project_hidden(self, h: Tensor) -> Tensor:
        if self._weight_hh_t is not None:  # inside `unrolling`: W_hhᵀ made once, W_hh told to MatMul
            hw = ops.MatMul.apply(h, self._weight_hh_t, _transpose_of=self.weight_hh)
        else:
            hw = h @ self.weight_hh.T
        if self.bias_hh is None or self.hidden_bias_with_input:
            return hw
        return hw + self.bias_hh

    @contextmanager
    def unrolling(self, inputs: bool = False) -> Iterator[None]:
        """Inside, W_hhᵀ (and W_ihᵀ if `inputs`: the input is projected step by step) is made once and reused by
        every step: what a layer's loop does. A transposed view, not a copy: BLAS and MKL's packing read it as
        it is (a row-major copy of config c's 1024 x 256 W_hh cost 0.27 ms a call), and MatMul is told it is
        W_hh's transpose, so that its backward multiplies by W_hh itself."""
        object.__setattr__(self, "_weight_hh_t", self.weight_hh.T)
        if inputs:
            object.__setattr__(self, "_weight_ih_t", self.weight_ih.T)
        try:
            yield
        finally:
            object.__setattr__(self, "_weight_hh_t", None)
            object.__setattr__(self, "_weight_ih_t", None)

    def step(self, xw: Tensor, state: State) -> State:  # pragma: no cover - abstract
        raise NotImplementedError

    def initial_state(self, batch: int, dtype: Any) -> State:
        h = Tensor.zeros(batch, self.hidden_size, dtype=dtype)
        return (h, Tensor.zeros(batch, self.hidden_size, dtype=dtype)) if self.state_is_tuple else h

    def forward(self, x: Tensor, state: State | None = None) -> State:
        x = x if isinstance(x, Tensor) else Tensor(x)
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (batch, {self.input_size}) or ({self.input_size},) "
                             f"(input_size={self.input_size}), got {x.shape}")
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        if state is None:
            state = self.initial_state(x.shape[0], x.dtype)
        else:
            want = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
            labels = ("h", "c") if self.state_is_tuple else ("h",)
            parts = check_state(name, state, labels, want, x.dtype, f" (hidden_size={self.hidden_size})")
            if unbatched:
                parts = [p.unsqueeze(0) for p in parts]
            state = tuple(parts) if self.state_is_tuple else parts[0]
        new = self.step(self.project_input(x), state)
        if unbatched:
            return tuple(s.squeeze(0) for s in new) if self.state_is_tuple else new.squeeze(0)
        return new

    @staticmethod
    def output(state: State) -> Tensor:
        """The hidden state h_t that a layer emits as its output at each step."""
        return state[0] if isinstance(state, tuple) else state

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """Elman RNN cell:

        h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        (or relu)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity
        if nonlinearity == "relu":
            object.__setattr__(self, "activation", relu)

    def step(self, xw: Tensor, h: Tensor) -> Tensor:
        a_t = xw + self.project_hidden(h)
        return self.activation(a_t).named("h_t")

    def extra_repr(self) -> str:
        return super().extra_repr() + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTMCell(RNNCellBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000):

        i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)          input gate
        f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)          forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)       candidate cell
        o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)          output gate
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)

    The four gates' weights are stacked in the order i, f, g, o: weight_ih is (4H, in), weight_hh is (4H, H).
    `forward(x, (h, c))` returns (h_t, c_t).
    """

    num_gates = 4
    state_is_tuple = True

    def step(self, xw: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h_prev, c_prev = state
        gates = xw + self.project_hidden(h_prev)
        i, f, g, o = gates.chunk(4, axis=1)
        σ, tanh = self.gate_activation, self.activation
        i_t = σ(i).named("i_t")
        f_t = σ(f).named("f_t")
        g_t = tanh(g).named("g_t")
        o_t = σ(o).named("o_t")
        c_t = (f_t * c_prev + i_t * g_t).named("c_t")
        h_t = (o_t * tanh(c_t)).named("h_t")
        return h_t, c_t


class PeepholeLSTMCell(LSTMCell):
    """LSTM with peephole connections (Gers & Schmidhuber 2000): the gates also look at the cell state, through
    diagonal weights p_i, p_f, p_o (vectors of size H, parameters `weight_ci`, `weight_cf`, `weight_co`):

        i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi + p_i ⊙ c_{t-1})
        f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf + p_f ⊙ c_{t-1})
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho + p_o ⊙ c_t)
        h_t = o_t ⊙ tanh(c_t)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None) -> None:
        dt = dtype or np.float32
        super().__init__(input_size, hidden_size, bias, dtype)
        self.weight_ci = Parameter(np.empty(hidden_size, dtype=dt))
        self.weight_cf = Parameter(np.empty(hidden_size, dtype=dt))
        self.weight_co = Parameter(np.empty(hidden_size, dtype=dt))
        self.reset_parameters()

    def step(self, xw: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h_prev, c_prev = state
        gates = xw + self.project_hidden(h_prev)
        i, f, g, o = gates.chunk(4, axis=1)
        σ, tanh = self.gate_activation, self.activation
        i_t = σ(i + self.weight_ci * c_prev).named("i_t")
        f_t = σ(f + self.weight_cf * c_prev).named("f_t")
        g_t = tanh(g).named("g_t")
        c_t = (f_t * c_prev + i_t * g_t).named("c_t")
        o_t = σ(o + self.weight_co * c_t).named("o_t")
        h_t = (o_t * tanh(c_t)).named("h_t")
        return h_t, c_t


class GRUCell(RNNCellBase):
    """Gated recurrent unit (Cho et al. 2014), PyTorch's variant (the reset gate applies after W_hn):

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))   candidate
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    Gates stacked in the order r, z, n: weight_ih is (3H, in), weight_hh is (3H, H).
    """

    num_gates = 3
    hidden_bias_with_input = False

    def step(self, xw: Tensor, h_prev: Tensor) -> Tensor:
        x_r, x_z, x_n = xw.chunk(3, axis=1)
        h_r, h_z, h_n = self.project_hidden(h_prev).chunk(3, axis=1)
        σ, tanh = self.gate_activation, self.activation
        r_t = σ(x_r + h_r).named("r_t")
        z_t = σ(x_z + h_z).named("z_t")
        n_t = tanh(x_n + r_t * h_n).named("n_t")
        h_t = ((1 - z_t) * n_t + z_t * h_prev).named("h_t")
        return h_t
