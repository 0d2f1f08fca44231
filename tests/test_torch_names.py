"""Module-level constructors, dtype names, devices and the Tensor queries/conversions of issue 12, against what
torch gives for the same call."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_grad, check_op, rand

import tinygrad_lstm as tl
from tinygrad_lstm import Tensor, nn

torch = pytest.importorskip("torch")


def _same(ours: Tensor, theirs) -> None:
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("call", [
    lambda m: m.tensor([1, 2, 3]),
    lambda m: m.tensor([[1.5, 2.0]]),
    lambda m: m.tensor(3.0),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor([1, 2], dtype=m.float64),
    lambda m: m.tensor([1.7, -2.2], dtype=m.long),
    lambda m: m.zeros(2, 3),
    lambda m: m.zeros((2, 3), dtype=m.int64),
    lambda m: m.ones([4]),
    lambda m: m.ones(2, 0),
    lambda m: m.zeros(()),
    lambda m: m.full((2, 2), 7),
    lambda m: m.full((2,), 0.5),
    lambda m: m.full([3], True),
    lambda m: m.arange(5),
    lambda m: m.arange(1, 7, 2),
    lambda m: m.arange(0, 1, 0.25),
    lambda m: m.linspace(0, 1, 5),
    lambda m: m.linspace(-1, 1, 1),
    lambda m: m.eye(3),
    lambda m: m.eye(2, 3, dtype=m.float64),
    lambda m: m.zeros_like(m.tensor([[1, 2]])),
    lambda m: m.ones_like(m.tensor([1.0, 2.0]), dtype=m.int32),
    lambda m: m.full_like(m.tensor([1.0, 2.0]), 3),
    lambda m: m.tensor([[1, 2], [3, 4]]).size(),
], ids=lambda f: "")
def test_constructors_match_torch(call):
    ours, theirs = call(tl), call(torch)
    if isinstance(theirs, torch.Size):
        assert ours == tuple(theirs) and isinstance(ours, tuple)
        return
    _same(ours, theirs)


def test_random_constructors_shapes_dtypes_ranges_and_seed():
    tl.manual_seed(3)
    a = tl.randn(2, 3)
    tl.manual_seed(3)
    assert np.array_equal(tl.randn((2, 3)).data, a.data) and a.dtype == np.float32
    r = tl.rand(1000, dtype=tl.float64)
    assert r.dtype == np.float64 and 0 <= r.data.min() and r.data.max() < 1
    i = tl.randint(3, 7, (500,))
    assert i.dtype == np.int64 and set(np.unique(i.data)) == {3, 4, 5, 6}
    assert tl.randint(4, (2, 2)).shape == (2, 2) and tl.randint(4, (2, 2)).data.max() < 4
    assert sorted(tl.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    like = tl.randn_like(tl.zeros(3, 2, dtype=tl.float64))
    assert like.shape == (3, 2) and like.dtype == np.float64 and tl.rand_like(like).shape == (3, 2)
    assert tl.empty(2, 3).shape == (2, 3) and tl.empty_like(a).dtype == a.dtype
    assert tl.randn(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="randn: expected a floating dtype"):
        tl.randn(2, dtype=tl.int64)
    with pytest.raises(ValueError, match=r"zeros: sizes must be non-negative integers, got \(2, -1\)"):
        tl.zeros(2, -1)
    with pytest.raises(ValueError, match=r"randint: high \(2\) must be greater than low \(5\)"):
        tl.randint(5, 2, (3,))


def test_dtype_names_are_numpy_dtypes_and_torch_aliases():
    assert tl.float32 == np.float32 and tl.float == np.float32 and tl.double == np.float64
    assert tl.long == np.int64 and tl.int64 == np.int64 and tl.int32 == np.int32 and tl.int == np.int32
    assert tl.bool == np.bool_ and tl.tensor([1.0]).dtype == tl.float32
    assert isinstance(True, bool)  # the builtin is untouched outside the package's namespace


def test_size_numel_dim():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.size() == (2, 3, 4) and t.size() == torch.zeros(2, 3, 4).size()
    assert t.size(1) == 3 and t.size(-1) == 4 and t.size().numel() == 24
    assert repr(t.size()) == "Size([2, 3, 4])"
    assert t.numel() == 24 and t.dim() == 3 and Tensor(1.0).dim() == 0 and Tensor(1.0).size() == ()
    with pytest.raises(ValueError, match=r"size: axis 3 is out of range for a tensor of shape \(2, 3, 4\)"):
        t.size(3)
    with pytest.raises(IndexError, match="size: a 0-d tensor has no dims"):
        Tensor(1.0).size(0)


def test_to_cpu_type_device_clone():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(tl.device("cpu")) is x and str(x.device) == "cpu"
    y = x.to(tl.float64)
    assert y.dtype == np.float64 and x.to("cpu", tl.float64).dtype == np.float64
    assert x.to(dtype=tl.float64, device="cpu").dtype == np.float64 and x.to(Tensor([1])).dtype == np.int64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]  # the cast is differentiable
    assert x.to("cpu", copy=True) is not x
    assert x.type() == "tinygrad_lstm.FloatTensor" and Tensor([1]).type() == "tinygrad_lstm.LongTensor"
    assert x.type(tl.float64).dtype == np.float64 and x.type("torch.DoubleTensor").dtype == np.float64
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32 and (x > 1).long().tolist() == [0, 1]
    assert x.bool().dtype == np.bool_ and x.tolist() == [1.0, 2.0]
    c = x.clone()
    assert c.data is not x.data and c.requires_grad and c.grad_fn is not None
    with pytest.raises(RuntimeError, match="to: tinygrad_lstm runs on the CPU only, got device 'cuda'"):
        x.to("cuda")
    with pytest.raises(TypeError, match="to: 'cpux' is neither a dtype"):
        x.to("cpux")
    assert not tl.cuda.is_available()
    dev = tl.device("cuda" if tl.cuda.is_available() else "cpu")
    assert x.to(dev) is x and dev == "cpu"


def test_module_to_accepts_devices_and_dtypes():
    model = nn.Linear(2, 3)
    assert model.to("cpu") is model and model.cpu() is model and model.weight.dtype == np.float32
    model.to(tl.float64)
    assert model.weight.dtype == np.float64
    model.to("cpu", dtype=tl.float32)
    assert model.weight.dtype == np.float32
    with pytest.raises(RuntimeError, match="to: tinygrad_lstm runs on the CPU only"):
        model.to("cuda:0")
    assert sum(p.numel() for p in model.parameters()) == model.num_parameters() == 9


def test_module_level_functions_call_the_methods():
    x = tl.tensor([[1.0, 4.0, 2.0], [3.0, 0.0, 5.0]])
    assert tl.argmax(x, dim=1).tolist() == [1, 2] and tl.argmax(x).item() == 5
    assert tl.sum(x, dim=0).tolist() == [4.0, 4.0, 7.0] and tl.mean(x).item() == pytest.approx(2.5)
    values, indices = tl.max(x.data, 1)  # an ndarray works too (torch code passes `outputs.data`)
    assert values.tolist() == [4.0, 5.0] and indices.tolist() == [1, 2]
    assert tl.numel(x) == 6 and tl.cumsum(x, 1).tolist()[0] == [1.0, 5.0, 7.0]
    assert tl.flatten(x).shape == (6,) and tl.exp(tl.zeros(2)).tolist() == [1.0, 1.0]


def test_operator_methods_and_shape_helpers_match_torch():
    a, b = np.array([[1.0, -2.0, 3.0], [0.5, 2.0, -1.0]]), np.array([[1.0, 2.0, 3.0], [0.5, -2.0, 4.0]])
    ta, tb = torch.tensor(a), torch.tensor(b)
    for op in ("eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "div", "pow"):
        other = np.abs(b) if op == "pow" else b
        _same(getattr(Tensor(a if op != "pow" else np.abs(a)), op)(Tensor(other)),
              getattr(torch.tensor(a if op != "pow" else np.abs(a)), op)(torch.tensor(other)))
    _same(Tensor(a).add(Tensor(b), alpha=2), ta.add(tb, alpha=2))
    _same(Tensor(a).sub(Tensor(b), alpha=0.5), ta.sub(tb, alpha=0.5))
    _same(Tensor(a).neg(), ta.neg())
    _same(tl.eq(Tensor(a), 1.0), torch.eq(ta, 1.0))
    pred, target = Tensor([[2], [1], [0]]), Tensor([2, 0, 0])  # the MNIST example's accuracy count
    assert pred.eq(target.view_as(pred)).sum().item() == 2
    ints = np.array([7, -7, 6, -6])
    for mode in ("floor", "trunc"):
        _same(Tensor(ints).div(2, rounding_mode=mode), torch.tensor(ints).div(2, rounding_mode=mode))
        _same(Tensor(a).div(Tensor(b), rounding_mode=mode), ta.div(tb, rounding_mode=mode))
    _same(Tensor(a).t(), ta.t())
    _same(Tensor(a[0]).t(), ta[0].t())
    _same(Tensor(a).mm(Tensor(b).t()), ta.mm(tb.t()))
    x3, y3 = np.ones((2, 3, 4)), np.ones((2, 4, 5))
    _same(tl.bmm(Tensor(x3), Tensor(y3)), torch.bmm(torch.tensor(x3), torch.tensor(y3)))
    _same(Tensor(a).index_select(1, Tensor([2, 0, 2])), ta.index_select(1, torch.tensor([2, 0, 2])))
    _same(Tensor(a[0]).expand_as(Tensor(a)), ta[0].expand_as(ta))
    _same(Tensor(a).reshape_as(Tensor(a.T)), ta.reshape_as(ta.t()))
    _same(Tensor([1, 2]).type_as(Tensor(a)), torch.tensor([1, 2]).type_as(ta))
    _same(Tensor(a).new_zeros(2, 1), ta.new_zeros(2, 1))
    _same(Tensor(a).new_full((2,), 7.0), ta.new_full((2,), 7.0))
    _same(Tensor(a).new_tensor([1, 2]), ta.new_tensor([1, 2]))
    _same(tl.LongTensor([1, 2]), torch.LongTensor([1, 2]))
    _same(tl.FloatTensor([[1, 2]]), torch.FloatTensor([[1, 2]]))
    assert tl.FloatTensor(2, 3).shape == (2, 3) and tl.is_tensor(Tensor(1.0)) and not tl.is_tensor(1.0)
    with pytest.raises(ValueError, match=r"mm: both operands must be 2-D, got shapes \(2, 3\) and \(3,\)"):
        Tensor(a).mm(Tensor(b[0]))
    with pytest.raises(ValueError, match=r"bmm: operands must be 3-D with the same batch size"):
        Tensor(x3).bmm(Tensor(np.ones((3, 4, 5))))
    with pytest.raises(ValueError, match="t: expects a tensor with at most 2 dims"):
        Tensor(x3).t()
    with pytest.raises(ValueError, match="div: rounding_mode must be None, 'floor' or 'trunc'"):
        Tensor(a).div(2.0, rounding_mode="round")
    with pytest.raises(ZeroDivisionError, match="div: integer division by zero"):
        Tensor(ints).div(0, rounding_mode="trunc")


def test_index_select_gradient_matches_torch():
    x, i = rand((3, 4), 0), np.array([3, 0, 3])
    check_op(lambda a, j: a.index_select(1, j), x, i)
    check_grad(lambda a, j: a.index_select(1, j), x, i)


def test_tensor_of_tensors_and_legacy_type_names():
    _same(tl.tensor([Tensor(1.5), Tensor(2.5)]), torch.tensor([torch.tensor(1.5), torch.tensor(2.5)]))
    _same(tl.tensor([[Tensor(1)], [Tensor(2)]]), torch.tensor([[torch.tensor(1)], [torch.tensor(2)]]))
    x = Tensor([1.5, 2.5])
    _same(x.type(tl.LongTensor), torch.tensor([1.5, 2.5]).type(torch.LongTensor))
    assert x.type(tl.DoubleTensor).dtype == np.float64


def test_from_numpy_shares_memory():
    a = np.arange(6.0).reshape(2, 3)
    t = tl.from_numpy(a)
    a[0, 0] = 9.0
    assert t.data[0, 0] == 9.0 and t.dtype == np.float64 and tl.from_numpy(np.zeros((0, 2))).shape == (0, 2)
    with pytest.raises(TypeError, match="from_numpy: expected an np.ndarray, got list"):
        tl.from_numpy([1.0])


def test_sampling_multinomial_bernoulli_normal_generator():
    g = tl.Generator().manual_seed(5)
    probs = Tensor([[0.0, 0.7, 0.3], [1.0, 0.0, 0.0]])
    draws = tl.multinomial(probs, 400, replacement=True, generator=g)
    assert draws.shape == (2, 400) and draws.dtype == np.int64
    assert set(draws.data[0].tolist()) == {1, 2} and set(draws.data[1].tolist()) == {0}
    assert abs((draws.data[0] == 1).mean() - 0.7) < 0.1  # 4.6 standard errors
    first, again = (tl.multinomial(Tensor([1.0, 1.0, 1.0]), 3, generator=tl.Generator().manual_seed(2))
                    for _ in range(2))
    assert sorted(first.tolist()) == [0, 1, 2] and first.tolist() == again.tolist()  # each once; seeded
    with pytest.raises(ValueError, match="multinomial: cannot draw 3 samples without replacement"):
        tl.multinomial(Tensor([1.0, 0.0, 1.0]), 3)
    with pytest.raises(ValueError, match="multinomial: weights must be finite and non-negative"):
        tl.multinomial(Tensor([1.0, -1.0]), 1)
    b = tl.bernoulli(tl.full((2000,), 0.25))
    assert b.dtype == np.float32 and set(np.unique(b.data)) <= {0.0, 1.0} and abs(b.data.mean() - 0.25) < 0.05
    n = tl.normal(2.0, 0.5, size=(4000,))
    assert n.dtype == np.float32 and abs(n.data.mean() - 2.0) < 0.05 and abs(n.data.std() - 0.5) < 0.05
    assert tl.normal(Tensor(np.zeros((2, 3))), 1.0).shape == (2, 3)
    assert tl.randn(3, generator=tl.Generator().manual_seed(1)).tolist() == \
        tl.randn(3, generator=tl.Generator().manual_seed(1)).tolist()


def test_set_grad_enabled_and_inference_mode():
    x = Tensor([1.0], requires_grad=True)
    with tl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    tl.set_grad_enabled(False)  # as a function: switches now
    try:
        assert not tl.is_grad_enabled()
    finally:
        tl.set_grad_enabled(True)
    with tl.inference_mode():
        assert not (x * 2).requires_grad


def test_in_place_methods():
    w = tl.zeros(2, 3)
    assert w.fill_(2.0) is w and w.tolist() == [[2.0] * 3] * 2
    w.add_(1.0).mul_(2.0).sub_(Tensor([1.0, 2.0, 3.0]), alpha=2).div_(2.0)
    assert w.tolist() == [[2.0, 1.0, 0.0]] * 2
    assert w.clamp_(min=0.5).tolist() == [[2.0, 1.0, 0.5]] * 2 and w.zero_().sum().item() == 0
    w.copy_(Tensor([1, 2, 3]))  # broadcast and cast, as torch
    assert w.dtype == np.float32 and w.tolist() == [[1.0, 2.0, 3.0]] * 2
    tl.manual_seed(0)
    u = tl.empty(1000).uniform_(-0.1, 0.1)
    assert -0.1 <= u.data.min() and u.data.max() < 0.1 and u.dtype == np.float32
    assert abs(tl.empty(4000).normal_(1.0, 0.1).data.mean() - 1.0) < 0.01
    p = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="uniform_: changing a tensor that requires grad in place"):
        p.uniform_()
    with tl.no_grad():
        p.uniform_(0, 1)  # allowed, as torch
    with pytest.raises(ValueError, match=r"copy_: .*\(tensor of shape \(2, 3\)\)"):
        w.copy_(Tensor([1.0, 2.0]))
