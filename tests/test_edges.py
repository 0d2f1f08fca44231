"""Regression tests for the edges of issue 11: 0-d, empty and degenerate inputs, clear messages, and save's temp
files. Each bug is checked against PyTorch (values and gradients) where it has an answer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers import check_op

import tinygrad_lstm.nn.functional as F
from tinygrad_lstm import Tensor, maximum, minimum, nn, optim
from tinygrad_lstm.keras.preprocessing.sequence import pad_sequences
from tinygrad_lstm.serialization import load, save

torch = pytest.importorskip("torch")


# ----- 0-d tensors: micrograd's own tests, with Value mapped to a 0-d Tensor ---------------------------------------
def test_micrograd_sanity_check_on_0d_tensors():
    """micrograd's test_sanity_check: x receives several gradient contributions (it crashed with a numpy scalar)."""

    def run(lib, V):
        x = V(-4.0)
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        y = h + q + q * x
        y.backward()
        return float(y.item()), float(x.grad.item() if lib == "torch" else x.grad)

    ours = run("ours", lambda v: Tensor(v, requires_grad=True, dtype=np.float64))
    ref = run("torch", lambda v: torch.tensor(v, requires_grad=True, dtype=torch.float64))
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_micrograd_more_ops_on_0d_tensors():
    """micrograd's test_more_ops: powers, division, repeated in-place style accumulation, all on 0-d values."""

    def run(lib, V):
        a, b = V(-4.0), V(2.0)
        c = a + b
        d = a * b + b ** 3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + (b + a).relu()
        d = d + 3 * d + (b - a).relu()
        e = c - d
        f = e ** 2
        g = f / 2.0
        g = g + 10.0 / f
        g.backward()
        grads = [float(t.grad.item() if lib == "torch" else t.grad) for t in (a, b)]
        return [float(g.item())] + grads

    ours = run("ours", lambda v: Tensor(v, requires_grad=True, dtype=np.float64))
    ref = run("torch", lambda v: torch.tensor(v, requires_grad=True, dtype=torch.float64))
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda x: x + x + x,
    lambda x: F.softplus(x) if isinstance(x, Tensor) else torch.nn.functional.softplus(x),
    lambda x: (F.gelu(x, approximate="tanh") if isinstance(x, Tensor)
               else torch.nn.functional.gelu(x, approximate="tanh")),
    lambda x: (x * x).tanh() * x - x.exp() / (x + 3),
], ids=["x+x+x", "softplus", "gelu_tanh", "mixed"])
def test_0d_tensor_with_many_gradient_contributions(fn):
    check_op(fn, np.array(0.7))


def test_stack_of_0d_tensors():
    from tinygrad_lstm import stack

    check_op(lambda a, b: stack([a, b, a * b, a]) if isinstance(a, Tensor) else torch.stack([a, b, a * b, a]),
             np.array(0.5), np.array(-1.5))


def test_grad_accumulates_on_a_0d_leaf_across_backward_calls():
    x = Tensor(2.0, requires_grad=True)
    for _ in range(3):
        (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == () and x.grad == 12.0


# ----- std where the variance is zero ------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [np.ones(4), np.array([[1.0, 1.0], [1.0, 3.0]]), np.array([2.5])])
def test_std_gradient_is_zero_where_the_std_is_zero(x):
    if x.size > 1:  # one element: the unbiased estimate divides by n - 1 = 0
        check_op(lambda t: t.std(), x)
    check_op(lambda t: t.std(dim=-1, correction=0), x)
    check_op(lambda t: t.std(dim=0, keepdim=True, unbiased=False), x)


def test_var_and_std_default_to_torchs_unbiased_estimate():
    x = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    check_op(lambda t: t.var() + t.std(), x)
    check_op(lambda t: t.var(1) + t.std(1), x,
             torch_fn=lambda t: t.var(1) + t.std(1))
    np.testing.assert_allclose(Tensor(x).var(ddof=0).data, np.var(x))  # numpy's spelling still works
    with pytest.raises(TypeError, match="only one of ddof, correction and unbiased"):
        Tensor(x).var(ddof=0, correction=1)


# ----- zero-size inputs -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0,), (2, 0, 3)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_on_empty_tensors(shape, name):
    check_op(lambda t: getattr(t, name)(dim=-1), np.zeros(shape))
    check_op(lambda t: getattr(F, name)(t, dim=0) if isinstance(t, Tensor) else getattr(torch, name)(t, dim=0),
             np.zeros(shape))


@pytest.mark.parametrize("shape", [(3, 0), (0, 2)])
def test_logsumexp_on_empty_tensors(shape):
    check_op(lambda t: t.logsumexp(dim=1).exp(), np.zeros(shape))  # exp: -inf of empty rows -> 0


@pytest.mark.parametrize("shape, start, end", [((2, 0, 3), 0, -1), ((0, 3), 1, -1), ((2, 0, 3), 1, 2),
                                               ((0, 3), 0, 1), ((4, 0), 0, 0)])
def test_flatten_with_a_zero_size_axis(shape, start, end):
    check_op(lambda t: t.flatten(start, end), np.zeros(shape))


# ----- infinities and 0-d axes ------------------------------------------------------------------------------------
def test_softmax_of_a_row_with_inf_is_nan_as_torch():
    x = np.array([[1.0, np.inf, 2.0], [1.0, 2.0, 3.0], [-np.inf, -np.inf, -np.inf]])
    for name in ("softmax", "log_softmax"):
        ours = getattr(Tensor(x), name)(-1).data
        ref = getattr(torch.tensor(x), name)(-1).numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
        np.testing.assert_allclose(ours[1], ref[1], rtol=1e-12)
    np.testing.assert_array_equal(Tensor(x).logsumexp(-1).data, torch.tensor(x).logsumexp(-1).numpy())


@pytest.mark.parametrize("op", ["sum", "mean", "logsumexp", "squeeze", "softmax", "log_softmax", "amax", "std"])
@pytest.mark.parametrize("dim", [-1, 0])
def test_axis_minus_one_and_zero_on_a_0d_tensor(op, dim):
    kw = {"correction": 0} if op == "std" else {}
    check_op(lambda t: getattr(t, op)(dim=dim, **kw) * 1.0,
             np.array(1.5))


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_gradients_with_nan_follow_torch(op):
    """Found by the property test (7,198th case of 20,000): torch passes the gradient to both inputs at a NaN."""
    x, y = np.array([np.nan, 1.0, 2.0, 3.0]), np.array([0.5, np.nan, 2.0, 1.0])
    fn = {"maximum": maximum, "minimum": minimum}[op]
    check_op(lambda a, b: fn(a, b) if isinstance(a, Tensor) else getattr(torch, op)(a, b), x, y)


# ----- dtypes ------------------------------------------------------------------------------------------------------
def test_linear_refuses_an_integer_input_as_torch():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"Linear: input has dtype int64 but the weight has float32; the input must "
                                        r"be floating"):
        layer(Tensor(np.ones((2, 3), dtype=np.int64)))
    with pytest.raises(RuntimeError):
        torch.nn.Linear(3, 2)(torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"matmul: both operands must have the same dtype, got float32 and int64"):
        Tensor(np.ones((2, 2), np.float32)) @ Tensor(np.ones((2, 2), np.int64))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("target_dtype", [np.float64, np.int64])
def test_a_loss_target_tensor_promotes_as_torch(name, target_dtype):
    x = np.array([0.25, -1.5, 2.0], dtype=np.float32)
    y = np.array([1, 0, 1], dtype=target_dtype)
    if name == "binary_cross_entropy_with_logits" and target_dtype == np.int64:
        return  # torch refuses an integer target there
    ours = getattr(F, name)(Tensor(x, requires_grad=True), Tensor(y))
    theirs = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(y))
    assert ours.dtype == {torch.float32: np.float32, torch.float64: np.float64}[theirs.dtype]
    check_op(lambda t: getattr(F, name)(t, Tensor(y)) if isinstance(t, Tensor)
             else getattr(torch.nn.functional, name)(t, torch.tensor(y)), x.astype(np.float64))


@pytest.mark.parametrize("fn", ["exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos", "erf", "log1p", "expm1",
                                "rsqrt", "log2", "exp2"])
def test_float_functions_of_integer_tensors_give_the_default_float_dtype(fn):
    x = np.array([1, 2, 3], dtype=np.int64)
    ours, theirs = getattr(Tensor(x), fn)(), getattr(torch.tensor(x), fn)()
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("case", [
    "t * np.sqrt(2.0)",        # a numpy float64 scalar does not upcast a float32 tensor
    "t + T(np.array(2.0))",    # nor does a 0-d float64 tensor
    "t.long() * 2.5",          # int tensor and a float: the default float dtype
    "t.long() / 2",            # true division of ints: the default float dtype
    "t.long() // 2",
    "t + T(np.full(3, 2.0))",  # a float64 tensor with axes does upcast
    "T(np.array(2.0)) + T(np.array(1.0, np.float32))",  # two 0-d tensors promote between themselves
    "t.bool() + 1",            # bool and an int: int64
])
def test_type_promotion_follows_torch(case):
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    ours = eval(case, {"np": np, "t": Tensor(x), "T": Tensor})
    theirs = eval(case, {"np": np, "t": torch.tensor(x), "T": torch.tensor})
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


# ----- messages ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, error, match", [
    ([[1.0, 2.0], [3.0]], ValueError, r"ragged nested lists: item \[1\] has length 1 but item \[0\] has length 2"),
    ([[1.0, [2.0]], [3.0, 4.0]], ValueError, r"item \[0, 1\] has length 1 but item \[0, 0\] is a number"),
    ("abc", TypeError, r"cannot make a tensor from the string 'abc'; expected numbers"),
    ([1.0, "a"], TypeError, r"list holding strings \('1.0', \.\.\.\)"),
])
def test_tensor_from_bad_data_says_what_is_wrong(data, error, match):
    with pytest.raises(error, match=match):
        Tensor(data)


def test_optimizer_given_a_module_says_to_pass_its_parameters():
    with pytest.raises(TypeError, match=r"SGD: .*got the module Linear itself; pass its parameters: "
                                        r"SGD\(model.parameters\(\), \.\.\.\)"):
        optim.SGD(nn.Linear(2, 2), lr=0.1)
    with pytest.raises(TypeError, match=r"Adam: .*model.parameters"):
        optim.Adam(nn.Sequential(nn.Linear(2, 2)))


def test_pad_sequences_bad_maxlen_and_string_tokens():
    with pytest.raises(ValueError, match=r"pad_sequences: maxlen must be a non-negative integer or None, got -1"):
        pad_sequences([[1, 2]], maxlen=-1)
    with pytest.raises(ValueError, match=r"sequence 1 holds str tokens \('the', \.\.\.\), but dtype int32 needs "
                                         r"numbers: map the tokens to integer ids"):
        pad_sequences([[1, 2], ["the", "cat"]])
    np.testing.assert_array_equal(pad_sequences([["a"], ["b", "c"]], dtype=object),
                                  np.array([[0.0, "a"], ["b", "c"]], dtype=object))


# ----- save: temp files of a killed save -------------------------------------------------------------------------
_KILLED_SAVE = textwrap.dedent("""
    import os, sys, time
    from tinygrad_lstm import serialization
    def stuck(f, arrays):  # write part of the file, then hang until killed
        f.write(b"partial" * 1000); f.flush(); print("writing", flush=True); time.sleep(60)
    serialization._write_npz = stuck
    serialization.save({"w": 1}, sys.argv[1])
""")


def test_a_save_killed_midway_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    target = tmp_path / "ckpt.npz"
    save({"w": np.arange(3)}, target)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(target)], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == b"writing"
    proc.kill()
    proc.wait()
    left = [n for n in os.listdir(tmp_path) if n != "ckpt.npz"]
    assert len(left) == 1 and left[0].endswith(".tmp")  # SIGKILL: nothing in the process could clean up
    np.testing.assert_array_equal(load(target)["w"], np.arange(3))  # the old checkpoint is intact
    other = tmp_path / ".ckpt.npz.other"
    other.write_bytes(b"not ours")
    save({"w": np.arange(4)}, target)
    assert sorted(os.listdir(tmp_path)) == [".ckpt.npz.other", "ckpt.npz"]
    np.testing.assert_array_equal(load(target)["w"], np.arange(4))


def test_a_save_that_fails_removes_its_temp_file_and_a_live_writers_file_is_kept(tmp_path, monkeypatch):
    from tinygrad_lstm import serialization

    target = tmp_path / "m.npz"
    live = tmp_path / f".m.npz.{os.getppid()}-0123abcd.tmp"  # a running process (our parent) is writing it
    live.write_bytes(b"x")

    def boom(f, arrays):
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_npz", boom)
    with pytest.raises(OSError, match="disk full"):
        save({"a": 1}, target)
    assert sorted(os.listdir(tmp_path)) == [live.name]
