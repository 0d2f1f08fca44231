"""Autograd semantics (one behaviour per test), the recorded graph, error messages, and gradcheck itself."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from helpers import rand

from tinygrad_lstm import (
    GradcheckError,
    Tensor,
    concat,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
)
from tinygrad_lstm.autograd import Function, scope

# ---------------------------------------------------------------------------------------------------------------
# the backward pass
# ---------------------------------------------------------------------------------------------------------------


def test_long_chain_backpropagates_without_recursion():
    """100,001 ops in a row: the topological order is found iteratively (recursion would overflow)."""
    n = 100_001
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    start = time.perf_counter()
    y = x
    for _ in range(n):
        y = -y
    y.sum().backward()
    elapsed = time.perf_counter() - start
    np.testing.assert_array_equal(x.grad, [-1.0, -1.0])  # (-1)^n: every node was visited once
    del y  # freeing a 100,000-deep graph must not overflow the stack either
    assert elapsed < 20, f"forward + backward of {n} ops took {elapsed:.1f} s"


def test_leaf_grads_accumulate_until_cleared():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 3])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3 + 2, 3 + 4])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 4])
    x.zero_grad()
    assert x.grad is None


def test_accumulation_does_not_alias_between_leaves():
    """d(a+b)/da and /db are the same array inside the engine; the leaves' .grad must not share it."""
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 10
    np.testing.assert_array_equal(b.grad, [1.0])


def test_intermediates_keep_no_grad_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = h * 3
    k.retain_grad()
    assert k.retains_grad and not h.retains_grad
    (k * k).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad, 2 * k.data)
    np.testing.assert_array_equal(x.grad, 2 * k.data * 6)
    assert not x.retains_grad  # a leaf keeps its grad anyway; retains_grad is about non-leaves


def test_retain_grad_needs_requires_grad():
    with pytest.raises(RuntimeError, match="retain_grad: can't retain the grad of a tensor that does not"):
        Tensor([1.0]).retain_grad()


def test_second_backward_raises_clearly():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_and_grads_double():
    x = Tensor([0.5, -1.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_graph_saved_values_are_freed_after_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    assert node.saved_tensors is not None
    y.sum().backward()
    assert node.saved_tensors is None


def test_backward_of_a_non_scalar_needs_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match=r"only for a scalar output.*shape \(2,\).*grad="):
        y.backward()
    y.backward(grad=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2, 40])
    x.grad = None
    (x * x).backward(Tensor([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, [2, 4])
    with pytest.raises(RuntimeError, match=r"grad has shape \(3,\) but the output has shape \(2,\)"):
        (x * x).backward(np.ones(3))


def test_backward_of_a_tensor_without_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_backward_on_a_leaf():
    x = Tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad == 1.0


def test_diamond_graph_sums_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    b = x.exp()
    (a * b).sum().backward()  # d/dx 3x·eˣ = 3eˣ + 3x·eˣ
    np.testing.assert_allclose(x.grad, 3 * np.exp(x.data) * (1 + x.data), rtol=1e-6)
    y = Tensor([2.0], requires_grad=True)
    (y * y * y).sum().backward()
    np.testing.assert_allclose(y.grad, [12.0])


def test_unused_branch_and_constants_get_no_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([5.0, 6.0])
    x.exp()  # recorded but not part of the loss
    (x * c).sum().backward()
    np.testing.assert_array_equal(x.grad, c.data)
    assert c.grad is None


def test_gradients_keep_the_input_dtype():
    x32 = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    x64 = Tensor(np.array([1.0, 2.0], np.float64), requires_grad=True)
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64
    y = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y.backward(grad=np.array([1.0, 1.0]))  # a float64 seed still gives a float32 grad
    assert y.grad.dtype == np.float32


def test_astype_passes_gradients_back_in_the_input_dtype():
    x = Tensor(np.array([1.0, 2.0], np.float64), requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2, 4])
    z = Tensor([1.0], requires_grad=True)
    d = z.double()
    assert d.dtype == np.float64 and d.requires_grad
    d.sum().backward()
    assert z.grad.dtype == np.float32 and z.grad[0] == 1
    assert z.float() is z


# ---------------------------------------------------------------------------------------------------------------
# grad mode
# ---------------------------------------------------------------------------------------------------------------


def _records_nothing(t: Tensor) -> None:
    assert not t.requires_grad
    assert t.grad_fn is None and t.is_leaf


def test_no_grad_context_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2).tanh().sum()
    assert is_grad_enabled()
    _records_nothing(y)
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_as_decorator_with_and_without_parentheses():
    x = Tensor([1.0, 2.0], requires_grad=True)

    @no_grad
    def f(t):
        """doc"""
        return t * 2

    @no_grad()
    def g(t):
        return t.exp()

    _records_nothing(f(x))
    _records_nothing(g(x))
    assert f.__name__ == "f" and f.__doc__ == "doc"
    assert (x * 2).requires_grad  # the decorator restores the mode on return


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    assert is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = Tensor([1.0], requires_grad=True)

    @enable_grad
    def h(t):
        return t * 3

    with no_grad():
        with enable_grad():
            y = x * 2
        _records_nothing(x * 2)
        z = h(x)
        with no_grad():  # nesting: the inner block restores the outer mode
            pass
        assert not is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None
    assert z.requires_grad
    (y + z).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0])


def test_ops_on_tensors_needing_no_grad_record_nothing():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    for out in (a * b, a.exp(), a @ b, a[0], a.sum(), concat([a, b])):
        _records_nothing(out)


# ---------------------------------------------------------------------------------------------------------------
# the recorded graph
# ---------------------------------------------------------------------------------------------------------------


def test_node_keeps_op_parents_attrs_shape_and_scope():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True, name="x")
    w = Tensor(np.ones((3, 4), np.float32), requires_grad=True, name="W")
    with scope("LSTMCell"), scope("t=0"):
        h = x @ w
    s = h.sum(axis=1, keepdims=True)
    node = h.grad_fn
    assert node.op == "MatMul" and s.grad_fn.op == "Sum"
    assert node.parents[0] is x and node.parents[1] is w
    assert node.shape == (2, 4) and node.dtype == np.float32
    assert node.scope == ("LSTMCell", "t=0") and s.grad_fn.scope == ()
    assert s.grad_fn.attrs == {"axis": (1,), "keepdims": True}
    assert s.grad_fn.parents == (h,)
    assert "Sum" in repr(s.grad_fn) and "(2, 1)" in repr(s.grad_fn)


def test_node_records_which_inputs_need_grad():
    x, c = Tensor([1.0], requires_grad=True), Tensor([2.0])
    assert (x * c).grad_fn.needs_input_grad == (True, False)
    assert (c * x).grad_fn.needs_input_grad == (False, True)


def test_tensor_name_is_kept():
    x = Tensor([1.0], requires_grad=True, name="x")
    assert x.name == "x"
    y = (x * 2).named("y")
    assert y.name == "y" and y.grad_fn is not None
    assert "name='y'" in repr(y)
    assert x.detach().name == "x"


def test_detach_shares_data_and_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    _records_nothing(d)
    assert d.data is y.data  # same memory, as torch
    (d * x).sum().backward()  # d is a constant now
    np.testing.assert_array_equal(x.grad, y.data)


def test_is_leaf_and_grad_fn():
    x = Tensor([1.0], requires_grad=True)
    c = Tensor([1.0])
    y = x * 2
    assert x.is_leaf and c.is_leaf and not y.is_leaf
    assert x.grad_fn is None and y.grad_fn.op == "Mul"
    assert (c * 2).is_leaf


def test_requires_grad_spreads():
    x = Tensor([1.0], requires_grad=True)
    c = Tensor([1.0])
    assert (x + c).requires_grad and (c + x).requires_grad and not (c + c).requires_grad
    c.requires_grad_()
    assert (c * 2).requires_grad
    assert c.requires_grad_(False) is c and not c.requires_grad


# ---------------------------------------------------------------------------------------------------------------
# clear errors
# ---------------------------------------------------------------------------------------------------------------


def test_broadcast_error_names_the_op_and_both_shapes():
    a, b = Tensor.ones(2, 3), Tensor.ones(4)
    for op, name in [(lambda: a + b, "add"), (lambda: a - b, "sub"), (lambda: a * b, "mul"),
                     (lambda: a / b, "div"), (lambda: a ** b, "pow"), (lambda: a.maximum(b), "maximum"),
                     (lambda: b.minimum(a), "minimum")]:
        with pytest.raises(ValueError, match=rf"^{name}: .*\(2, 3\).*\(4,\)|^{name}: .*\(4,\).*\(2, 3\)"):
            op()


def test_op_error_is_not_wrapped_twice():
    class Strict(Function):
        def forward(self, x):
            raise ValueError("strict: already says who it is")

    with pytest.raises(ValueError, match=r"^strict: already says who it is$"):
        Strict.apply(Tensor([1.0]))

    class Picky(Function):
        def forward(self, x):
            raise TypeError("no floats")

    with pytest.raises(TypeError, match=r"^picky: no floats \(inputs: float32 \(1,\)\)$"):
        Picky.apply(Tensor([1.0]))


def test_matmul_shape_errors():
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(2, 3\)"):
        Tensor.ones(2, 3) @ Tensor.ones(2, 3)
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(3,\) and \(4,\)"):
        Tensor.ones(3) @ Tensor.ones(4)
    with pytest.raises(ValueError, match=r"matmul: the batch axes of shapes \(2, 2, 3\) and \(3, 3, 4\)"):
        Tensor.ones(2, 2, 3) @ Tensor.ones(3, 3, 4)
    with pytest.raises(ValueError, match="matmul: both operands need at least 1 axis"):
        Tensor.ones(3) @ 2.0


@pytest.mark.parametrize("call,match", [
    (lambda t: t.sum(axis=2), r"sum: axis 2 is out of range for a tensor of shape \(2, 3\)"),
    (lambda t: t.mean(axis=-3), r"mean: axis -3 is out of range"),
    (lambda t: t.amax(dim=(0, 5)), r"amax: axis 5 is out of range"),
    (lambda t: t.sum(axis=(1, -1)), r"sum: axis \(1, -1\) repeats an axis"),
    (lambda t: t.var(axis=1.5), r"var: axis 1.5 is out of range"),
    (lambda t: t.logsumexp(axis=3), r"logsumexp: axis 3 is out of range"),
    (lambda t: t.softmax(axis=2), r"softmax: axis 2 is out of range"),
    (lambda t: t.squeeze(4), r"squeeze: axis 4 is out of range"),
    (lambda t: t.unsqueeze(4), r"unsqueeze: axis 4 is out of range .*valid: -3\.\.2"),
    (lambda t: t.transpose(0, 2), r"transpose: axis 2 is out of range"),
    (lambda t: t.transpose((0, 0)), r"transpose: axes \(0, 0\) are not a permutation"),
    (lambda t: t.permute(1, 0, 2), r"permute: got 3 axes"),
    (lambda t: t.permute(1, 1), r"permute: axes \(1, 1\) are not a permutation"),
    (lambda t: t.flatten(3), r"flatten: axis 3 is out of range"),
    (lambda t: t.flatten(1, 0), r"flatten: start_dim 1 comes after end_dim 0"),
    (lambda t: t.split(1, axis=2), r"split: axis 2 is out of range"),
    (lambda t: concat([t, t], axis=2), r"concat: axis 2 is out of range"),
])
def test_bad_axis_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(Tensor.ones(2, 3))


def test_max_of_empty_tensor():
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0, 3\)"):
        Tensor.ones(0, 3).max()


@pytest.mark.parametrize("shape,match", [
    ((4, 2), r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, 2\)"),
    ((-1, 4), r"reshape: .*\(-1, 4\): 6 elements do not divide"),
    ((-1, -1), r"reshape: .*only one axis may be -1"),
    ((-2, 3), r"reshape: .*sizes must be non-negative or -1"),
])
def test_bad_reshape(shape, match):
    with pytest.raises(ValueError, match=match):
        Tensor.ones(2, 3).reshape(shape)


@pytest.mark.parametrize("call,match", [
    (lambda t: t.expand(3, 3), r"expand: cannot expand a tensor of shape \(2, 3\) to \(3, 3\)"),
    (lambda t: t.expand(3), r"expand: cannot expand a tensor of shape \(2, 3\) to \(3,\)"),
])
def test_bad_expand(call, match):
    with pytest.raises(ValueError, match=match):
        call(Tensor.ones(2, 3))


@pytest.mark.parametrize("index,match", [
    ((0, 5), r"getitem: index \[0, 5\] is invalid for a tensor of shape \(2, 3\)"),
    (2, r"getitem: index \[2\] is invalid for a tensor of shape \(2, 3\)"),
    ((0, 0, 0), r"getitem: .*shape \(2, 3\)"),
    (np.array([0, 3]), r"getitem: index \[<int64 array of shape \(2,\)>\] is invalid"),
    (np.array([True, False, True]), r"getitem: .*shape \(2, 3\)"),
    (np.array([0.5]), r"getitem: index arrays must be integers or booleans, got dtype float64"),
    ("a", r"getitem: index \['a'\] is invalid"),
])
def test_bad_index(index, match):
    with pytest.raises(IndexError, match=match):
        Tensor.ones(2, 3)[index]


def test_setitem_guards_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: in-place assignment into a tensor that requires grad"):
        x[0] = 5.0
    with no_grad():
        x[0] = 5.0
    np.testing.assert_array_equal(x.data, [5.0, 2.0])
    c = Tensor([1.0, 2.0])
    c[np.array([True, False])] = Tensor([7.0])
    np.testing.assert_array_equal(c.data, [7.0, 2.0])


def test_requires_grad_on_integer_data_is_refused():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got dtype int64"):
        Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got dtype bool"):
        Tensor([True], requires_grad=True)
    with pytest.raises(TypeError, match="requires_grad_: only floating-point tensors"):
        Tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError, match="floating"):
        Tensor.zeros(2, dtype=np.int32, requires_grad=True)


# ---------------------------------------------------------------------------------------------------------------
# gradcheck itself
# ---------------------------------------------------------------------------------------------------------------


class WrongSquare(Function):
    """z = x²  with a wrong derivative (x instead of 2x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * x


class RightSquare(WrongSquare):
    def backward(self, g):
        (x,) = self.saved_tensors
        return 2 * g * x


def test_gradcheck_passes_a_correct_backward():
    x = rand((2, 3), 1)
    assert gradcheck(RightSquare.apply, [Tensor(x, requires_grad=True)]) is True


def test_gradcheck_catches_a_wrong_backward_and_says_where():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    a = Tensor(np.array([0.5]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, t: a * WrongSquare.apply(t), [a, Tensor(x, requires_grad=True, name="h")])
    msg = str(info.value)
    assert "input 1 ('h') of shape (2, 2)" in msg
    assert "at index (0, 0)" in msg
    m = re.search(r"autograd (\S+), finite differences (\S+) ", msg)
    assert m, msg
    analytic, numeric = float(m.group(1)), float(m.group(2))
    assert numeric == pytest.approx(2 * analytic, rel=1e-6)  # the backward forgot the factor 2
    assert "4 of 4 elements differ" in msg
    assert isinstance(info.value, AssertionError)


def test_gradcheck_without_raising_returns_false():
    x = Tensor(rand((3,), 2), requires_grad=True)
    assert gradcheck(WrongSquare.apply, x, raise_exception=False) is False
    assert gradcheck(RightSquare.apply, x, raise_exception=False) is True


def test_gradcheck_checks_every_output_and_every_input():
    def two_outputs(a, b):
        return [a * b, RightSquare.apply(b)], WrongSquare.apply(a)

    with pytest.raises(GradcheckError, match=r"input 0 of shape \(2,\)"):
        gradcheck(two_outputs, [Tensor(rand((2,), 1), requires_grad=True), Tensor(rand((2,), 2), requires_grad=True)])
    # the wrong op fed by a constant: nothing checked there, the rest is right
    assert gradcheck(two_outputs, [Tensor(rand((2,), 1)), Tensor(rand((2,), 2), requires_grad=True)])


def test_gradcheck_works_in_float64_and_leaves_inputs_alone():
    x = Tensor(rand((3,), 1, dtype=np.float32), requires_grad=True)
    seen = []

    def f(t):
        seen.append(t.dtype)
        return t.tanh()

    before = x.data.copy()
    assert gradcheck(f, x)
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="gradcheck: no input requires grad"):
        gradcheck(lambda t: t * 2, Tensor([1.0]))
    with pytest.raises(TypeError, match="gradcheck: fn must return a Tensor"):
        gradcheck(lambda t: 3.0, Tensor([1.0], requires_grad=True))


@pytest.mark.parametrize("case", ["some rows", "all rows", "row twice", "rows then slice", "rows then whole"])
def test_row_by_row_gradients(case):
    """x[t] gradients are copied into an uninitialised buffer row by row (rows never reached are zeroed at the
    end); a row reached twice, or a later slice or whole-tensor gradient, adds up as usual."""
    x = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    w = np.array([1.0, 2.0, -1.0])
    expect = np.zeros((4, 3))
    uses = {"some rows": [1, 3], "all rows": [0, 1, 2, 3], "row twice": [2, -2, 0],
            "rows then slice": [1], "rows then whole": [0, 3]}[case]
    loss = Tensor(np.zeros(()))
    for k, t in enumerate(uses):
        loss = loss + (x[t] * w * (k + 1)).sum()
        expect[t] += w * (k + 1)
    if case == "rows then slice":
        loss = loss + (x[1:3] * 5.0).sum()
        expect[1:3] += 5.0
    if case == "rows then whole":
        loss = loss + (x * x).sum()
        expect += 2 * x.data
    loss.backward()
    np.testing.assert_array_equal(x.grad, expect)
