"""Tensor constructors, attributes, conversions and their errors."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lstm import Tensor, manual_seed, no_grad


def test_from_python_data():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.dtype == np.float32 and t.shape == (2, 2) and t.ndim == 2 and t.numel() == 4 and len(t) == 2
    assert t.size() == (2, 2) and t.size(-1) == 2
    assert not t.requires_grad and t.grad is None and t.is_leaf and t.name is None
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor(3).dtype == np.int64 and Tensor(3).shape == ()
    assert Tensor(2.5).dtype == np.float32
    assert Tensor([1, 2.5]).dtype == np.float32
    assert Tensor([True, False]).dtype == np.bool_


def test_from_ndarray_keeps_dtype_and_copies():
    a = np.array([1.0, 2.0])
    t = Tensor(a)
    assert t.dtype == np.float64
    a[0] = 99
    assert t.data[0] == 1.0, "the tensor must own a copy of the caller's array"
    assert Tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert Tensor(np.float64(1.5)).dtype == np.float64
    u = Tensor(t)
    assert u.data is not t.data and u.dtype == np.float64


def test_dtype_argument():
    t = Tensor([1, 2], dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    assert Tensor(np.ones(2), dtype=np.float32).dtype == np.float32


def test_bad_data_is_refused():
    with pytest.raises(TypeError, match="Tensor: cannot make a tensor from the string .abc."):
        Tensor("abc")
    with pytest.raises(TypeError, match="Tensor: cannot make a tensor from"):
        Tensor([1 + 2j])


@pytest.mark.parametrize("make", [
    lambda **kw: Tensor.zeros(2, 3, **kw),
    lambda **kw: Tensor.zeros((2, 3), **kw),
    lambda **kw: Tensor.ones([2, 3], **kw),
    lambda **kw: Tensor.full((2, 3), 0.5, **kw),
    lambda **kw: Tensor.randn(2, 3, **kw),
    lambda **kw: Tensor.rand(2, 3, **kw),
    lambda **kw: Tensor.uniform(2, 3, low=-1, high=1, **kw),
    lambda **kw: Tensor.zeros_like(np.empty((2, 3), np.float32), **kw),
    lambda **kw: Tensor.ones_like(Tensor.zeros(2, 3), **kw),
])
def test_constructors_shape_dtype_requires_grad(make):
    t = make()
    assert t.shape == (2, 3) and t.dtype == np.float32 and not t.requires_grad
    g = make(requires_grad=True)
    assert g.requires_grad and g.is_leaf
    d = make(dtype=np.float64)
    assert d.dtype == np.float64


def test_constructor_values():
    np.testing.assert_array_equal(Tensor.zeros(2).data, [0, 0])
    np.testing.assert_array_equal(Tensor.ones(2).data, [1, 1])
    np.testing.assert_array_equal(Tensor.full(2, 7).data, [7, 7])
    assert Tensor.full(2, 7).dtype == np.int64 and Tensor.full(2, 7.0).dtype == np.float32
    np.testing.assert_array_equal(Tensor.eye(2).data, np.eye(2))
    assert Tensor.eye(2, 3).shape == (2, 3) and Tensor.eye(2).dtype == np.float32
    np.testing.assert_array_equal(Tensor.arange(4).data, [0, 1, 2, 3])
    assert Tensor.arange(4).dtype == np.int64
    np.testing.assert_allclose(Tensor.arange(0, 1, 0.25).data, [0, 0.25, 0.5, 0.75])
    assert Tensor.arange(0, 1, 0.25).dtype == np.float32
    assert Tensor.arange(3, requires_grad=True).dtype == np.float32
    u = Tensor.uniform(1000, low=2, high=3)
    assert u.data.min() >= 2 and u.data.max() < 3
    r = Tensor.rand(1000)
    assert r.data.min() >= 0 and r.data.max() < 1
    n = Tensor.randn(10_000)
    assert abs(n.data.mean()) < 0.05 and abs(n.data.std() - 1) < 0.05


def test_random_constructors_follow_manual_seed():
    manual_seed(3)
    a, b = Tensor.randn(4), Tensor.rand(4)
    manual_seed(3)
    np.testing.assert_array_equal(Tensor.randn(4).data, a.data)
    np.testing.assert_array_equal(Tensor.rand(4).data, b.data)
    assert not np.array_equal(Tensor.randn(4).data, a.data)


def test_random_constructors_need_a_float_dtype():
    with pytest.raises(TypeError, match="expected a floating dtype .* got int64"):
        Tensor.randn(2, dtype=np.int64)
    with pytest.raises(TypeError, match="floating"):
        Tensor.rand(2, dtype=np.int32)


def test_conversions():
    t = Tensor([[1.5, 2.0]])
    assert t.numpy() is t.data
    assert t.tolist() == [[1.5, 2.0]]
    assert Tensor([2.5]).item() == 2.5 and isinstance(Tensor([2.5]).item(), float)
    assert float(Tensor(2.5)) == 2.5 and int(Tensor(3)) == 3
    assert bool(Tensor([1.0])) and not bool(Tensor(0.0))
    assert [10, 20, 30][Tensor(1)] == 20
    with pytest.raises(ValueError, match=r"item: only a tensor with one element .* got shape \(2,\)"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="the truth value of a tensor with 2 elements is ambiguous"):
        bool(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(Tensor(1.0))
    with pytest.raises(TypeError, match="only an integer tensor with one element can be used as an index"):
        [1, 2][Tensor(1.0)]
    assert Tensor([1.0, 0.0]).any() and not Tensor([1.0, 0.0]).all()


def test_hashable_despite_elementwise_eq():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1


def test_repr():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert repr(Tensor([1, 2])) == "Tensor([1, 2], dtype=int64)"
    assert repr(Tensor([1.0], requires_grad=True)) == "Tensor([1.], requires_grad=True)"
    x = Tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "Tensor([2.], grad_fn=Mul)"
    assert repr(Tensor([1.0], name="h")) == "Tensor([1.], name='h')"


def test_astype():
    t = Tensor([1.5, 2.5])
    assert t.astype(np.float32) is t
    assert t.double().dtype == np.float64 and not t.double().requires_grad
    i = t.astype(np.int64)
    assert i.dtype == np.int64 and i.tolist() == [1, 2]
    g = Tensor([1.5], requires_grad=True)
    assert not g.astype(np.int64).requires_grad
    with no_grad():
        assert not g.double().requires_grad


def test_requires_grad_flag_and_methods():
    t = Tensor([1.0])
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad
    with pytest.raises(TypeError, match="requires_grad_: only floating-point tensors can require gradients"):
        Tensor([1]).requires_grad_(True)
    Tensor([1]).requires_grad_(False)  # switching it off is always fine


def test_named_returns_the_tensor():
    t = Tensor([1.0])
    assert t.named("w") is t and t.name == "w"
    assert Tensor([1.0], name="b").name == "b"


def test_slots_keep_tensors_small():
    with pytest.raises(AttributeError):
        Tensor([1.0]).whatever = 1
