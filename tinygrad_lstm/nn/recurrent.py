"""Sequence layers RNN, LSTM, GRU: run a cell over time, layer after layer, optionally in both directions.

PyTorch's call, returns and parameter names (`weight_ih_l0`, `bias_hh_l1_reverse`, …): a PyTorch state_dict
converted to numpy loads with `load_state_dict` and gives the same outputs and gradients.

The loop, for one layer and direction, is

    X_proj = X W_ihᵀ                        all T steps in one matrix product
    for t in 0 … T-1:  state = cell.step(X_proj[t] + b_ih, state);  out[t] = h_t

`lengths` (one per batch element) handles padded batches as `pack_padded_sequence` does: past its length a
sequence's state stays unchanged and its outputs are zero. A `PackedSequence` input runs that same path
(`nn.utils.rnn.run_packed`) and gives a PackedSequence output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor, concat, stack
from . import functional as F
from . import loop
from .cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from .module import Module
from .utils.rnn import PackedSequence, run_packed

CellFactory = Callable[..., Module]
# Below this many input features the layers project the input step by step instead of for all steps at once: with
# one feature (config b of benchmarks/lstm_train.py) the all-steps product wrote a 40 MB array in 8-20 ms.
HOIST_MIN_FEATURES = 8


class RNNBase(Module):
    """The shared loop. Subclasses choose the default cell and whether the state is h or (h, c)."""

    default_cell: type[RNNCellBase] = RNNCell
    state_is_tuple = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 cell: CellFactory | None = None, dtype: Any = None, **cell_kwargs: Any) -> None:
        super().__init__()
        name = type(self).__name__
        if num_layers < 1:
            raise ValueError(f"{name}: num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be between 0 and 1, got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, dropout, bidirectional
        self.num_directions = 2 if bidirectional else 1
        make = cell or self.default_cell
        # cells[layer][direction]; their parameters are registered on this layer under PyTorch's names
        self.cells: list[list[Module]] = []
        for layer in range(num_layers):
            row = []
            in_size = input_size if layer == 0 else hidden_size * self.num_directions
            for d in range(self.num_directions):
                c = make(in_size, hidden_size, bias=bias, dtype=dtype, **cell_kwargs)
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                for pname, p in list(c._parameters.items()):
                    setattr(self, pname + suffix, p)
                object.__setattr__(c, "_prefix", f"{self._prefix}cell{suffix}.")
                row.append(c)
            self.cells.append(row)

    def _set_prefix(self, prefix: str) -> None:
        super()._set_prefix(prefix)
        for layer, row in enumerate(self.cells):
            for d, c in enumerate(row):
                object.__setattr__(c, "_prefix", f"{prefix}cell_l{layer}{'_reverse' if d else ''}.")

    def train(self, mode: bool = True) -> RNNBase:
        super().train(mode)
        for row in self.cells:
            for c in row:
                c.train(mode)
        return self

    # ------------------------------------------------------------------------------------------------------------
    def forward(self, x: Any, hx: Any = None, lengths: Any = None) -> tuple[Tensor, Any]:
        if isinstance(x, PackedSequence):  # unpacked, run with lengths, packed again
            return run_packed(self, x, hx, lengths)
        name = type(self).__name__
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(batch, seq, features)" if self.batch_first else "(seq, batch, features)"
            raise ValueError(f"{name}: expected input of shape {layout} with features={self.input_size} "
                             f"(input_size), or unbatched (seq, features); got shape {x.shape}")
        unbatched = x.ndim == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        T, B = x.shape[0], x.shape[1]
        mask = self._mask(lengths, T, B)
        h0, c0 = self._initial_state(hx, B, x.dtype, unbatched)

        layer_in = x
        h_n, c_n = [], []
        for layer, row in enumerate(self.cells):
            outs = []
            for d, cell in enumerate(row):
                k = layer * self.num_directions + d
                state = (h0[k], c0[k]) if self.state_is_tuple else h0[k]
                out, state = self._run_direction(cell, layer_in, state, reverse=d == 1, mask=mask)
                outs.append(out)
                if self.state_is_tuple:
                    h_n.append(state[0])
                    c_n.append(state[1])
                else:
                    h_n.append(state)
            layer_in = outs[0] if len(outs) == 1 else concat(outs, axis=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)

        output, h_last = layer_in, stack(h_n, axis=0)
        c_last = stack(c_n, axis=0) if self.state_is_tuple else None
        if unbatched:
            output, h_last = output.squeeze(1), h_last.squeeze(1)
            c_last = c_last.squeeze(1) if c_last is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, ((h_last, c_last) if self.state_is_tuple else h_last)

    def _run_direction(self, cell: Module, x: Tensor, state: Any, reverse: bool,
                       mask: np.ndarray | None) -> tuple[Tensor, Any]:
        if not isinstance(cell, RNNCellBase):  # any Module(x_t, state): called step by step, its own scope
            return loop.run(cell, x, state, mask=mask, reverse=reverse, compile=False)
        T, B = x.shape[0], x.shape[1]
        # project all steps' inputs at once (one GEMM), unless there are too few input features for a GEMM to
        # pay: then it only writes a (T·B, G·H) array to memory, where step by step it stays in cache
        project_all = x.shape[2] >= HOIST_MIN_FEATURES
        with cell.unrolling(inputs=not project_all):
            if project_all:
                # the bias joins at each step, where a compiled loop adds it in registers: added to all steps'
                # product at once it was a pass over a (T·B, G·H) array, and its gradient another
                b = cell.input_bias()
                xs = cell.input_product(x.reshape(T * B, x.shape[2])).reshape(T, B, -1)
                fn = cell.step if b is None else (lambda xw_t, s: cell.step(xw_t + b, s))
            else:
                xs, fn = x, (lambda x_t, s: cell.step(cell.project_input(x_t), s))
            return loop.run(fn, xs, state, mask=mask, reverse=reverse, scope_entry=cell._scope_entry)

    def _mask(self, lengths: Any, T: int, B: int) -> np.ndarray | None:
        """(T, B): True where step t is within sequence b's length."""
        if lengths is None:
            return None
        name = type(self).__name__
        lens = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths).reshape(-1)
        if lens.dtype.kind not in "iu" or lens.shape != (B,):
            raise ValueError(f"{name}: lengths must be {B} integers (one per sequence in the batch), got "
                             f"{lens.dtype} array of shape {lens.shape}")
        if lens.size and (lens.min() < 1 or lens.max() > T):
            raise ValueError(f"{name}: every length must be between 1 and the sequence length {T}, got "
                             f"{lens.tolist()}")
        return np.arange(T)[:, None] < lens[None, :]

    def _initial_state(self, hx: Any, B: int, dtype: Any, unbatched: bool) -> tuple[list, list]:
        n = self.num_layers * self.num_directions
        if hx is None:
            # h₀ and c₀ separate tensors, so that the first step can be traced (see jit.Stepper)
            return ([Tensor.zeros(B, self.hidden_size, dtype=dtype) for _ in range(n)],
                    [Tensor.zeros(B, self.hidden_size, dtype=dtype) for _ in range(n)])
        want = (n, self.hidden_size) if unbatched else (n, B, self.hidden_size)
        labels = ("h_0", "c_0") if self.state_is_tuple else ("h_0",)
        parts = loop.check_state(type(self).__name__, hx, labels, want, dtype,
                                 f" (num_layers * num_directions, {'' if unbatched else 'batch, '}hidden_size)")
        split = [[(p.unsqueeze(1) if unbatched else p)[k] for k in range(n)] for p in parts]
        return split[0], split[-1]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        cell = type(self.cells[0][0])
        if cell is not self.default_cell:
            s += f", cell={cell.__name__}"
        return s


class RNN(RNNBase):
    """Elman RNN over a sequence: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), per layer.

    ``output, h_n = rnn(x, h_0=None)``
    """

    default_cell = RNNCell

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 cell: CellFactory | None = None, dtype: Any = None) -> None:
        kw = {"nonlinearity": nonlinearity} if cell is None else {}
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, cell,
                         dtype, **kw)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """LSTM over a sequence (equations in `LSTMCell`), PyTorch's nn.LSTM.

    ``output, (h_n, c_n) = lstm(x, (h_0, c_0)=None, lengths=None)``; `cell=PeepholeLSTMCell` runs the peephole
    variant with the same loop.
    """

    default_cell = LSTMCell
    state_is_tuple = True


class GRU(RNNBase):
    """GRU over a sequence (equations in `GRUCell`), PyTorch's nn.GRU. ``output, h_n = gru(x, h_0=None)``"""

    default_cell = GRUCell


__all__: Sequence[str] = ["GRU", "LSTM", "RNN", "RNNBase"]
