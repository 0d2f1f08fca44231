"""jit.show prints the fused kernels of a cell with the equation symbols as variable names, and what it prints is
the code that runs."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tinygrad_lstm import Tensor, jit, nn
from tinygrad_lstm.jit.show import _plan_step


def test_show_lstm_uses_the_equation_symbols():
    out = io.StringIO()
    text = jit.show(nn.LSTM(3, 4), file=out)
    assert out.getvalue().strip() == text.strip()
    for line in ("i_t = P_sigmoid(", "f_t = P_sigmoid(", "g_t = P_tanh(", "o_t = P_sigmoid(", "c_t = ",
                 "h_t = (o_t * ", "d_c_t += ", "def fwd(", "def bwd("):
        assert line in text, line
    assert "p0 (2, 16)" in text and "out0 = h_t, out1 = c_t" in text


def test_show_prints_the_code_that_runs():
    cell = nn.PeepholeLSTMCell(3, 5, dtype=np.float64)
    tr, group = _plan_step(cell, 2, np.dtype(np.float64))
    text = jit.show(cell, dtype=np.float64, file=io.StringIO())
    assert group.source in text
    # the kernels compiled from that source compute the cell's step
    r = np.random.default_rng(0)
    xw, h, c = r.standard_normal((2, 20)), r.standard_normal((2, 5)), r.standard_normal((2, 5))
    with cell.unrolling():
        eager = cell.step(Tensor(xw), (Tensor(h), Tensor(c)))
        replay = jit.CompiledStep(tr, group)([Tensor(xw), Tensor(h), Tensor(c)])
    for a, b in zip(eager, replay):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-13)


def test_show_needs_a_cell():
    with pytest.raises(TypeError, match="show: expected a recurrent cell or layer, got Linear"):
        jit.show(nn.Linear(2, 2))
