"""The engine's safety nets and seams: the version counter (in-place changes of saved tensors), anomaly detection,
and the public context managers jit and viz use (trace_calls, at_scope, observe_grads(exclusive=True))."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lstm import Tensor, autograd, nn, no_grad, optim
from tinygrad_lstm.ops import MatMul

torch = pytest.importorskip("torch")


# ----- version counter --------------------------------------------------------------------------------------------
def test_changing_a_saved_tensor_in_place_makes_backward_raise_as_torch():
    """The issue's example: y = (x * w).sum(); w[0] = 100; y.backward() gave x.grad = [100, 2, 3] silently."""
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = Tensor([1.0, 2.0, 3.0])
    y = (x * w).sum()
    w[0] = 100.0
    assert w._version == 1
    with pytest.raises(RuntimeError, match=r"one of the tensors Mul saved for its gradient \(input 1, float32 "
                                           r"\(3,\)\) was changed in place .* at version 1; Mul saw version 0"):
        y.backward()
    tx, tw = torch.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.tensor([1.0, 2.0, 3.0])
    ty = (tx * tw).sum()
    tw[0] = 100.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.backward()


def test_a_change_under_no_grad_is_caught_too():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    with no_grad():
        w[1] = 0.0
        w[0] = 0.0
    with pytest.raises(RuntimeError, match=r"Mul saved .*input 1.* at version 2; Mul saw version 0"):
        y.backward()


@pytest.mark.parametrize("change", [lambda w: w.mul_(2.0), lambda w: w.fill_(0.0), lambda w: w.zero_(),
                                    lambda w: w.add_(1.0), lambda w: w.copy_(Tensor([5.0, 6.0]))])
def test_in_place_methods_count_as_changes(change):
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    with no_grad():
        change(w)
    assert w._version == 1
    with pytest.raises(RuntimeError, match=r"Mul saved .*input 1.* at version 1; Mul saw version 0"):
        y.backward()


def test_changing_a_saved_output_in_place_is_caught():
    x = Tensor([0.5, 1.0], requires_grad=True)
    z = x.exp()  # Exp saves its output
    y = z.sum()
    with no_grad():
        z[0] = 0.0
    with pytest.raises(RuntimeError, match=r"Exp saved .*\(output, float32 \(2,\)\)"):
        y.backward()


def test_changes_that_backward_does_not_need_are_fine():
    """Add saves nothing, and a change before the op is used is no change to what it saw (as torch)."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0])
    y = (x + w).sum()
    w[0] = 10.0  # Add's gradient does not depend on w
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    w[1] = 5.0  # before the next op: Mul sees version 2
    x.grad = None
    (x * w).sum().backward()
    np.testing.assert_array_equal(x.grad, [10.0, 5.0])


def test_an_optimizer_step_counts_as_a_change():
    model = nn.Linear(2, 1)
    loss = (model(Tensor([[1.0, 2.0]])) ** 2).sum()
    loss.backward(retain_graph=True)
    before = model.weight._version  # init filled it in place too
    optim.SGD(model.parameters(), lr=0.1).step()
    assert model.weight._version == before + 1
    with pytest.raises(RuntimeError, match=r"MatMul saved .*\(input 1, float32 \(2, 1\), a view of a float32 \(1, 2\) "
                                           r"tensor\) was changed in place"):
        loss.backward()


def test_row_major_weight_hint_is_dropped_when_the_weight_changed():
    """MatMul's _transpose_of=W hint: used while W is unchanged, ignored (the saved copy used) after a change."""
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    h = Tensor(rng.standard_normal((2, 4)), requires_grad=True)
    w_t = w.T.contiguous()
    out = MatMul.apply(h, w_t, _transpose_of=w)
    g = rng.standard_normal((2, 3))
    expect = g @ w.data
    with no_grad():
        w[0, 0] = 100.0  # W changed after the product: its copy w_t still holds the values used
    out.backward(g)
    np.testing.assert_allclose(h.grad, expect, rtol=1e-12)


# ----- anomaly detection ------------------------------------------------------------------------------------------
def test_detect_anomaly_names_the_op_shapes_and_the_users_line():
    x = Tensor([1.0, 0.0, 2.0], requires_grad=True)
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
        with pytest.raises(FloatingPointError, match=r"Log returned inf values in its output \(inputs: float32 "
                                                     r"\(3,\)\); created at .*test_autograd_safety.py:\d+ in "
                                                     r"test_detect_anomaly_names_the_op_shapes_and_the_users_line"):
            x.log()
    assert not autograd.is_anomaly_enabled()
    y = x.log()  # off: no cost, no error
    assert np.isinf(y.data[1])


def test_detect_anomaly_catches_the_first_bad_gradient():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x.sqrt()  # forward finite; d sqrt / dx = inf at 0
        line = y._ctx.site[1]
        with pytest.raises(FloatingPointError, match=rf"backward of Sqrt returned inf values in the gradient of "
                                                     rf"its input 0 .*created at .*:{line} in"):
            y.sum().backward()


def test_set_detect_anomaly_and_nested_blocks():
    try:
        autograd.set_detect_anomaly(True)
        with autograd.detect_anomaly(check_nan=False):
            assert not autograd.is_anomaly_enabled()
            Tensor([-1.0]).sqrt()  # nan, not checked
        assert autograd.is_anomaly_enabled()
        with pytest.raises(FloatingPointError, match="Sqrt returned nan"):
            Tensor([-1.0]).sqrt()
    finally:
        autograd.set_detect_anomaly(False)


def test_inputs_that_already_hold_nan_are_not_the_ops_fault():
    with autograd.detect_anomaly():
        y = Tensor([np.nan, 1.0]) * 2  # the data was nan before any op
    assert np.isnan(y.data[0])


# ----- public seams --------------------------------------------------------------------------------------------
def test_trace_calls_sees_every_op_and_nested_blocks_do_not_share():
    a = Tensor([1.0, 2.0])
    with autograd.trace_calls() as outer:
        b = a * 2
        with autograd.trace_calls() as inner:
            c = b + 1
        d = c.exp()
    assert [(cls.__name__, out) for cls, _, _, out in outer] == [("Mul", b), ("Exp", d)]
    assert [(cls.__name__, out) for cls, _, _, out in inner] == [("Add", c)]


def test_at_scope_records_under_exactly_the_given_scope():
    entry = autograd.ScopeEntry("step", "t=3", "", 3)
    x = Tensor([1.0], requires_grad=True)
    with autograd.scope(autograd.ScopeEntry("module", "LSTM", "lstm", 1)):
        with autograd.at_scope((entry,)):
            y = x * 2
        z = x * 3
    assert y._ctx.scope == (entry,) and z._ctx.scope[0].label == "LSTM"
    assert autograd.current_scope() == ()


def test_observe_grads_exclusive_pauses_the_observers_around():
    class Count(autograd.GradObserver):
        def __init__(self):
            self.n = 0

        def tensor_grad(self, t, grad):
            self.n += 1

    outer, inner = Count(), Count()
    x = Tensor([1.0, 2.0], requires_grad=True)
    with autograd.observe_grads(outer):
        with autograd.observe_grads(inner, exclusive=True):
            (x * x).sum().backward()
        assert (outer.n, inner.n) == (0, 3)
        (x * x).sum().backward()
    assert outer.n == 3
