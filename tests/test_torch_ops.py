"""The PyTorch-named ops of issue 12 (selection, scans, indexing, layout, einsum): forward and every input
gradient against torch in float64, and gradcheck (finite differences), including 0-d, broadcast and empty
shapes where torch allows them."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import SEEDS, check_grad, check_op, rand
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lstm as tl
from tinygrad_lstm import Tensor

torch = pytest.importorskip("torch")

IDX = np.array([[2, 0, 1, 1], [0, 0, 2, 1]])  # an index into dim 1 of a (2, 3) input, or dim 0 of (3, 4)

# name: (fn on either library's tensors, torch fn where it differs, input arrays)
CASES = {
    "max(dim)": (lambda a: a.max(dim=1)[0], lambda a: a.max(dim=1).values, (rand((3, 4), 1),)),
    "max(dim, keepdim)": (lambda a: a.max(0, keepdim=True).values, None, (rand((3, 4), 2),)),
    "min(dim)": (lambda a: a.min(dim=-1).values, None, (rand((2, 3, 4), 3),)),
    "max(0-d)": (lambda a: a.max(0).values, None, (np.array(1.5),)),
    "sort": (lambda a: a.sort(dim=1)[0], lambda a: a.sort(dim=1, stable=True)[0], (rand((3, 5), 4),)),
    "sort(descending)": (lambda a: a.sort(dim=0, descending=True).values, None, (rand((4, 2), 5),)),
    "topk": (lambda a: a.topk(2, dim=1).values, None, (rand((3, 5), 6),)),
    "topk(smallest)": (lambda a: a.topk(3, largest=False).values, None, (rand((2, 4), 7),)),
    "cumsum": (lambda a: a.cumsum(1), None, (rand((3, 4), 8),)),
    "cumsum(0-d)": (lambda a: a.cumsum(0), None, (np.array(2.0),)),
    "cumprod": (lambda a: a.cumprod(dim=0), None, (rand((4, 3), 9),)),
    "cumprod(zeros)": (lambda a: a.cumprod(1), None, (np.array([[1.5, 0.0, 2.0, 0.0, 3.0], [0.0, 2.0, -1.0, 3.0, 1.0],
                                                                  [1.0, 2.0, 3.0, -2.0, 0.0]]),)),
    "prod": (lambda a: a.prod(), None, (rand((3, 4), 10),)),
    "prod(dim)": (lambda a: a.prod(1, keepdim=True), None, (rand((3, 4), 11),)),
    "prod(zeros)": (lambda a: a.prod(dim=1), None, (np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]),)),
    "prod(empty)": (lambda a: a.prod(dim=1), None, (np.zeros((2, 0)),)),
    "gather": (lambda a, i: a.gather(1, i), None, (rand((2, 3), 12), IDX)),
    "gather(dim 0, smaller)": (lambda a, i: a.gather(0, i), None, (rand((3, 5), 13), IDX)),
    "scatter": (lambda a, s, i: a.scatter(0, i, s), None,
                (rand((3, 4), 14), rand((2, 4), 15), np.array([[2, 0, 1, 1], [0, 1, 2, 0]]))),
    "scatter_add": (lambda a, s, i: a.scatter_add(1, i, s), None, (rand((2, 3), 16), rand((2, 4), 17), IDX)),
    "masked_fill": (lambda a, m: a.masked_fill(m, -1.5), None, (rand((3, 4), 18), rand((4,), 19) > 0)),
    "where(method)": (lambda a, b, m: a.where(m, b), None, (rand((3, 4), 20), rand((4,), 21), rand((3, 1), 22) > 0)),
    "flip": (lambda a: a.flip(0, 2), lambda a: a.flip((0, 2)), (rand((2, 3, 4), 23),)),
    "roll": (lambda a: a.roll(1, 1), None, (rand((3, 4), 24),)),
    "roll(flat)": (lambda a: a.roll(-5), None, (rand((3, 4), 25),)),
    "roll(several)": (lambda a: a.roll((1, -2), (0, 1)), None, (rand((3, 4), 26),)),
    "repeat": (lambda a: a.repeat(2, 1, 3), None, (rand((3, 2), 27),)),
    "repeat(empty)": (lambda a: a.repeat(0, 2), None, (rand((3, 2), 28),)),
    "repeat_interleave": (lambda a: a.repeat_interleave(2, dim=1), None, (rand((3, 2), 29),)),
    "repeat_interleave(counts)": (lambda a, r: a.repeat_interleave(r, dim=0), None,
                                  (rand((3, 2), 30), np.array([2, 0, 3]))),
    "repeat_interleave(flat)": (lambda a: a.repeat_interleave(3), None, (rand((2, 2), 31),)),
    "tril": (lambda a: a.tril(), None, (rand((2, 3, 4), 32),)),
    "triu(-1)": (lambda a: a.triu(-1), None, (rand((4, 3), 33),)),
    "unflatten": (lambda a: a.unflatten(1, (2, -1)), None, (rand((3, 6), 34),)),
    "clone": (lambda a: a.clone() * 2, None, (rand((3,), 35),)),
    "norm": (lambda a: a.norm(dim=1), None, (rand((3, 4), 36),)),
    "norm(p=3)": (lambda a: a.norm(p=3), None, (rand((3, 4), 37),)),
    "remainder": (lambda a, b: a % b, None, (rand((3, 4), 38) * 3, rand((4,), 39, "away"))),
    # 0-d and empty shapes, where torch allows them
    "sort(empty)": (lambda a: a.sort(dim=0).values, None, (np.zeros((0, 3)),)),
    "sort(0-d)": (lambda a: a.sort().values * 2, None, (np.array(1.5),)),
    "topk(0-d)": (lambda a: a.topk(1).values, None, (np.array(-0.5),)),
    "cumsum(empty)": (lambda a: a.cumsum(0), None, (np.zeros((0, 3)),)),
    "cumprod(empty)": (lambda a: a.cumprod(1), None, (np.zeros((2, 0)),)),
    "prod(0-d)": (lambda a: a.prod(), None, (np.array(-1.5),)),
    "gather(empty index)": (lambda a, i: a.gather(1, i), None, (rand((2, 3), 42), np.zeros((2, 0), np.int64))),
    "gather(0-d)": (lambda a, i: a.gather(0, i), None, (np.array(2.5), np.array(0))),
    "scatter_add(0-d)": (lambda a, s, i: a.scatter_add(0, i, s), None, (np.array(2.5), np.array(0.5), np.array(0))),
    "masked_fill(0-d)": (lambda a, m: a.masked_fill(m, 0.0), None, (np.array(2.5), np.array(True))),
    "roll(empty)": (lambda a: a.roll(1, 0), None, (np.zeros((0, 2)),)),
    "flip(empty)": (lambda a: a.flip(1), None, (np.zeros((2, 0)),)),
    "repeat(0-d)": (lambda a: a.repeat(3), None, (np.array(1.5),)),
    "tril(empty)": (lambda a: a.tril(), None, (np.zeros((0, 3)),)),
    "max(dim, empty rows)": (lambda a: a.max(dim=1).values, None, (np.zeros((0, 3)),)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_op_matches_torch_and_finite_differences(name):
    fn, torch_fn, arrays = CASES[name]
    check_op(fn, *arrays, torch_fn=torch_fn)
    if any(a.dtype.kind == "f" and a.size for a in arrays) and "empty" not in name:
        check_grad(fn, *arrays)


def test_max_gives_torchs_named_tuple_and_indices():
    x = rand((3, 4), 40)
    ours, theirs = Tensor(x).max(dim=1), torch.tensor(x).max(dim=1)
    values, indices = ours  # unpacks as a pair
    assert type(ours).__name__ == "max" and ours.values is values and ours.indices is indices
    np.testing.assert_array_equal(indices.data, theirs.indices.numpy())
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert tl.max(Tensor(x), 1).indices.tolist() == theirs.indices.tolist()
    assert tl.max(Tensor(x)).item() == x.max()  # no dim: the value
    np.testing.assert_array_equal(tl.max(Tensor(x), Tensor(-x)).data, np.maximum(x, -x))  # two tensors
    assert Tensor(x).max(dim=0, keepdim=True).indices.shape == (1, 4)


def test_max_along_a_dim_gives_the_gradient_to_the_picked_index_only():
    x = np.array([[3.0, 1.0, 3.0]])  # a tie: torch's max(dim) sends the gradient to the index it returns
    t, tt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    t.max(dim=1).values.sum().backward()
    tt.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(t.grad, tt.grad.numpy())


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(op):
    x = np.array([[1.0, 5.0, 5.0], [np.nan, 2.0, 0.0], [-1.0, -1.0, -3.0]])
    t, tt = Tensor(x), torch.tensor(x)
    for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": -1, "keepdim": False}):
        ours, theirs = getattr(t, op)(**kw), getattr(tt, op)(**kw)
        assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape), kw
        np.testing.assert_array_equal(ours.data, theirs.numpy(), err_msg=str(kw))
    assert getattr(Tensor(2.5), op)().item() == 0 and getattr(Tensor(2.5), op)(dim=0).shape == ()
    with pytest.raises(ValueError, match=f"{op}: cannot take the {op} of an empty tensor"):
        getattr(Tensor(np.zeros((0, 3))), op)()
    with pytest.raises(ValueError, match=f"{op}: dim 0 of a tensor of shape \\(0, 3\\) is empty"):
        getattr(Tensor(np.zeros((0, 3))), op)(dim=0)
    assert getattr(Tensor(np.zeros((0, 3))), op)(dim=1).shape == (0,)


def test_sort_argsort_topk_indices_match_torch():
    x = np.array([[3.0, 1.0, 2.0, 1.0, np.nan], [0.0, -1.0, 5.0, 5.0, 2.0]])  # ties and a NaN
    t, tt = Tensor(x), torch.tensor(x)
    for desc in (False, True):
        np.testing.assert_array_equal(t.argsort(dim=1, descending=desc).data,
                                      tt.sort(dim=1, descending=desc, stable=True).indices.numpy())
        np.testing.assert_array_equal(t.sort(0, desc).values.data, tt.sort(0, desc).values.numpy())
    y = rand((4, 6), 41)
    ours, theirs = Tensor(y).topk(3, dim=0), torch.tensor(y).topk(3, dim=0)
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    assert Tensor(y).topk(0).values.shape == (4, 0)
    with pytest.raises(ValueError, match=r"topk: k must be between 0 and 6"):
        Tensor(y).topk(7)


def test_cumsum_prod_of_integers_stay_integers():
    a = np.array([[1, 2, 3], [4, 5, 6]])
    t = Tensor(a)
    assert t.cumsum(1).dtype == np.int64 and t.cumsum(1).tolist() == torch.tensor(a).cumsum(1).tolist()
    assert t.cumprod(0).tolist() == torch.tensor(a).cumprod(0).tolist()
    assert t.prod().item() == 720 and t.prod(1).tolist() == [6, 120]
    assert Tensor([1.0, 2.0]).cumsum(0, dtype=np.float64).dtype == np.float64


def test_any_all_over_dims():
    x = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    t, tt = Tensor(x), torch.tensor(x)
    for op in ("any", "all"):
        assert getattr(t, op)().dtype == np.bool_ and getattr(t, op)().item() == getattr(tt, op)().item()
        for kw in ({"dim": 1}, {"dim": 0, "keepdim": True}):
            np.testing.assert_array_equal(getattr(t, op)(**kw).data, getattr(tt, op)(**kw).numpy())
    assert bool(t.any()) and not t.all()  # usable in `if`
    assert Tensor(np.zeros((0, 2))).all().item() and not Tensor(np.zeros((0, 2))).any().item()


def test_gather_scatter_errors_name_the_op_and_shapes():
    x = Tensor(rand((2, 3), 0))
    with pytest.raises(IndexError, match=r"gather: index 3 is out of bounds for dim 1 of size 3"):
        x.gather(1, Tensor([[3], [0]]))
    with pytest.raises(ValueError, match=r"gather: index has 1 dims \(shape \(2,\)\) but the input has 2"):
        x.gather(1, Tensor([0, 1]))
    with pytest.raises(TypeError, match="gather: index must be an integer tensor, got float32"):
        x.gather(0, Tensor([[0.0]]))
    with pytest.raises(ValueError, match=r"gather: index of shape \(3, 1\) is larger than the input"):
        x.gather(1, Tensor(np.zeros((3, 1), np.int64)))
    with pytest.raises(ValueError, match=r"scatter: index of shape \(1, 2\) is larger than src of shape \(1, 1\)"):
        x.scatter(1, Tensor([[0, 1]]), Tensor([[1.0]]))
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor"):
        x.masked_fill(Tensor([1, 0, 1]), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: mask of shape \(4,\) does not broadcast"):
        x.masked_fill(Tensor(np.ones(4, bool)), 0.0)


def test_scatter_value_and_0d_and_repeated_places():
    x = rand((2, 3), 1)
    i = np.array([[1], [2]])
    np.testing.assert_array_equal(Tensor(x).scatter(1, Tensor(i), value=9.0).data,
                                  torch.tensor(x).scatter(1, torch.tensor(i), 9.0).numpy())
    g = Tensor(np.array(2.0)).gather(0, Tensor(np.array(0)))
    assert g.shape == () and g.item() == 2.0
    twice = np.array([[0, 0, 0]])
    np.testing.assert_allclose(Tensor(x).scatter_add(1, Tensor(twice), Tensor(np.ones((1, 3)))).data,
                               torch.tensor(x).scatter_add(1, torch.tensor(twice), torch.ones(1, 3,
                                                                                             dtype=torch.float64)))


def test_masked_fill_with_a_tensor_value_gets_its_gradient():
    x, v, m = rand((3, 4), 2), np.array(0.5), rand((3, 4), 3) > 0
    check_op(lambda a, b: a.masked_fill(Tensor(m) if isinstance(a, Tensor) else torch.tensor(m), b), x, v)


def test_where_forms():
    c = np.array([[True, False], [False, True]])
    assert [i.tolist() for i in tl.where(Tensor(c))] == [i.tolist() for i in torch.where(torch.tensor(c))]
    assert tl.where(Tensor(c), 1.0, Tensor(np.zeros(2))).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert Tensor(c).nonzero().tolist() == torch.tensor(c).nonzero().tolist()
    with pytest.raises(TypeError, match="where: give both input and other"):
        tl.where(Tensor(c), 1.0)


@pytest.mark.parametrize("equation,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,kj", [(2, 3), (4, 3)]),            # implicit output: "ik"
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ii->i", [(3, 3)]),                     # diagonal
    ("ii", [(3, 3)]),                        # trace
    ("ij->", [(2, 3)]),
    ("ij,j->i", [(2, 3), (1,)]),             # j broadcast from 1? no: torch needs equal sizes; see below
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),  # broadcast batch axes
    ("bi,bi,b->b", [(2, 3), (2, 3), (2,)]),
    ("ijk,j->ik", [(2, 0, 3), (0,)]),        # empty contraction: zeros
])
def test_einsum_matches_torch(equation, shapes):
    if shapes == [(2, 3), (1,)]:
        shapes = [(2, 3), (3,)]
    arrays = [rand(s, k) for k, s in enumerate(shapes)]

    def fn(*xs):
        return (tl.einsum if isinstance(xs[0], Tensor) else torch.einsum)(equation, *xs)

    check_op(fn, *arrays)
    if all(a.size for a in arrays):
        check_grad(fn, *arrays)


def test_einsum_errors():
    a, b = Tensor(rand((2, 3), 0)), Tensor(rand((4, 5), 1))
    with pytest.raises(ValueError, match=r"einsum: subscript 'j' has size 3 in one operand and 4 in another"):
        tl.einsum("ij,jk->ik", a, b)
    with pytest.raises(ValueError, match="einsum: the equation 'ij,jk' names 2 operands, got 1"):
        tl.einsum("ij,jk", a)
    with pytest.raises(ValueError, match=r"einsum: subscripts 'ijk' do not fit an operand of shape \(2, 3\)"):
        tl.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="einsum: output subscript 'z' appears in no operand"):
        tl.einsum("ij->z", a)


def test_integer_floor_division_and_remainder_match_torch():
    a, b = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    ta, tb = torch.tensor(a), torch.tensor(b)
    assert (Tensor(a) // Tensor(b)).tolist() == (ta // tb).tolist()
    assert (Tensor(a) % Tensor(b)).tolist() == (ta % tb).tolist()
    assert (Tensor(a) // 3).tolist() == (ta // 3).tolist() and (Tensor(a) % 3).tolist() == (ta % 3).tolist()
    assert (10 // Tensor(b)).tolist() == (10 // tb).tolist() and (10 % Tensor(b)).tolist() == (10 % tb).tolist()
    assert (Tensor(a) // 2).dtype == np.int64
    x = np.array([5.5, -5.5, 2.0])
    np.testing.assert_allclose((Tensor(x) // 2.0).data, (torch.tensor(x) // 2.0).numpy())
    np.testing.assert_allclose((Tensor(x) % -1.5).data, (torch.tensor(x) % -1.5).numpy())
    assert not (Tensor(x, requires_grad=True) // 2.0).requires_grad  # derivative zero wherever it exists
    with pytest.raises(ZeroDivisionError, match="floor_divide: integer division by zero"):
        Tensor(a) // 0
    with pytest.raises(ZeroDivisionError, match="remainder: integer division by zero"):
        Tensor(a) % Tensor(np.array([1, 0, 1, 1, 1]))


def test_isnan_isinf_isfinite_isclose():
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0])
    t, tt = Tensor(x), torch.tensor(x)
    for op in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(t, op)().data, getattr(tt, op)().numpy())
        np.testing.assert_array_equal(getattr(tl, op)(Tensor([1, 2])).data, getattr(torch, op)(torch.tensor([1, 2])))
    y = x + np.array([1e-6, 0, 0, 0, 1e-9])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0, "atol": 1e-7}):
        np.testing.assert_array_equal(t.isclose(Tensor(y), **kw).data, tt.isclose(torch.tensor(y), **kw).numpy())
    assert Tensor([1.0, 2.0]).allclose(Tensor([1.0, 2.0 + 1e-9])) and not tl.allclose(Tensor([1.0]), Tensor([1.1]))
    with pytest.raises(ValueError, match=r"isclose: shapes \(5,\) and \(2,\) do not broadcast"):
        t.isclose(Tensor([1.0, 2.0]))


def test_layout_errors():
    x = Tensor(rand((2, 3), 0))
    with pytest.raises(ValueError, match=r"repeat: got 1 sizes \(2,\) for a tensor of shape \(2, 3\)"):
        x.repeat(2)
    with pytest.raises(ValueError, match=r"tril: needs a tensor with at least 2 dims"):
        Tensor([1.0, 2.0]).tril()
    with pytest.raises(ValueError, match=r"unflatten: sizes \(2, 2\) do not multiply to 3"):
        x.unflatten(1, (2, 2))
    with pytest.raises(ValueError, match=r"repeat_interleave: repeats of shape \(2,\) must give one count"):
        x.repeat_interleave(Tensor([1, 2]), dim=1)
    with pytest.raises(ValueError, match=r"roll: shifts \(1, 2\) and dims 0 must have the same length"):
        x.roll((1, 2), 0)


def test_scatter_uses_the_part_of_a_larger_src_the_index_covers():
    # torch's forward allows it (its backward does not: "invalid gradient ... expected shape [3, 5]"),
    # so the forward is compared with torch and the gradient by finite differences
    x, src, i = rand((3, 4), 1), rand((3, 5), 2), np.array([[2, 0, 1, 1], [0, 1, 2, 0]])
    for op in ("scatter", "scatter_add"):
        ours = getattr(Tensor(x), op)(0, Tensor(i), Tensor(src))
        theirs = getattr(torch.tensor(x), op)(0, torch.tensor(i), torch.tensor(src))
        np.testing.assert_allclose(ours.data, theirs.numpy())
        check_grad(lambda a, s, op=op: getattr(a, op)(0, Tensor(i), s), x, src)


# ----- nn.functional: one_hot, normalize, cross_entropy with class probabilities ---------------------------------


def test_one_hot_matches_torch():
    for t, n in ((np.array([0, 2, 1]), -1), (np.array([[1], [3]]), 5), (np.array(2), 4), (np.zeros(0, np.int64), 3)):
        ours, theirs = tl.nn.functional.one_hot(Tensor(t), n), torch.nn.functional.one_hot(torch.tensor(t), n)
        assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    with pytest.raises(ValueError, match=r"one_hot: class index 3 is outside 0..2 \(num_classes=3\)"):
        tl.nn.functional.one_hot(Tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot: expected a tensor of integer class indices, got float32"):
        tl.nn.functional.one_hot(Tensor([0.0]))
    with pytest.raises(ValueError, match="one_hot: cannot infer the number of classes from an empty tensor"):
        tl.nn.functional.one_hot(Tensor(np.zeros(0, np.int64)))


@pytest.mark.parametrize("kw,shape", [({}, (3, 4)), ({"dim": 0}, (3, 4)), ({"p": 1.0, "dim": -1}, (2, 3, 4)),
                                      ({"dim": 0}, (5,))])
def test_normalize_matches_torch(kw, shape):
    def fn(a):
        return (tl.nn.functional if isinstance(a, Tensor) else torch.nn.functional).normalize(a, **kw)

    x = rand(shape, 50, "away")
    check_op(fn, x)
    check_grad(fn, x)


def test_normalize_and_norm_of_a_zero_vector_stay_finite_as_torch():
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])
    check_op(lambda a: (tl.nn.functional if isinstance(a, Tensor) else torch.nn.functional).normalize(a), x)
    check_op(lambda a: a.norm(dim=1), x)


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2},
                                {"weight": "w"}, {"weight": "w", "label_smoothing": 0.1, "reduction": "mean"}])
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 3, 5)])
def test_cross_entropy_with_class_probabilities_matches_torch(kw, shape):
    c = shape[1] if len(shape) > 1 else shape[0]
    w = rand((c,), 51, "pos")
    probs = np.exp(rand(shape, 52))
    probs /= probs.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)

    def fn(a, y):
        lib = tl if isinstance(a, Tensor) else torch
        args = {k: (lib.tensor(w) if v == "w" else v) for k, v in kw.items()}
        return lib.nn.functional.cross_entropy(a, y, **args)

    check_op(fn, rand(shape, 53), probs)  # gradients of the logits and of the target
    check_grad(fn, rand(shape, 53), probs)


def test_cross_entropy_probability_target_errors():
    x = Tensor(rand((4, 3), 0))
    with pytest.raises(TypeError, match=r"cross_entropy: target must hold integer class indices, got float64 \(for "
                                        r"class probabilities, cross_entropy takes a floating target of the input's "
                                        r"shape \(4, 3\); for indices use target.long\(\)\)"):
        tl.nn.functional.cross_entropy(x, Tensor(np.zeros(4)))
    with pytest.raises(ValueError, match="cross_entropy: ignore_index is not supported with class-probability"):
        tl.nn.functional.cross_entropy(x, Tensor(np.full((4, 3), 1 / 3)), ignore_index=0)
    loss = tl.nn.CrossEntropyLoss()(x, Tensor(np.full((4, 3), 1 / 3, np.float32)))  # the module passes it on
    assert loss.shape == () and np.isfinite(loss.item())


# ----- random shapes (hypothesis): the index and scan ops against torch on whatever shape comes up ----------------


@st.composite
def shape_and_dim(draw, min_side=1):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@given(sd=shape_and_dim(), seed=SEEDS)
def test_gather_and_scatter_add_on_random_shapes(sd, seed):
    shape, dim = sd
    r = np.random.default_rng(seed)
    n = shape[dim]
    index_shape = tuple(int(r.integers(0, s + 1)) if a != dim % len(shape) else int(r.integers(0, 5))
                        for a, s in enumerate(shape))
    index = r.integers(0, n, index_shape)
    x, src = rand(shape, seed), rand(index_shape, seed + 1)
    check_op(lambda a, i: a.gather(dim, i), x, index)
    check_op(lambda a, s, i: a.scatter_add(dim, i, s), x, src, index)


@given(sd=shape_and_dim(), seed=SEEDS, zeros=st.integers(0, 3))
def test_scans_and_prod_on_random_shapes_with_zeros(sd, seed, zeros):
    shape, dim = sd
    x = rand(shape, seed)
    x.reshape(-1)[np.random.default_rng(seed).integers(0, x.size, zeros)] = 0.0  # exact zeros: no division
    check_op(lambda a: a.cumsum(dim), x)
    check_op(lambda a: a.cumprod(dim), x)
    check_op(lambda a: a.prod(dim), x)
    check_op(lambda a: a.sort(dim, descending=True).values, x,
             torch_fn=lambda a: a.sort(dim=dim, descending=True, stable=True).values)


def test_result_dtypes_of_division_and_masked_fill_follow_torch():
    cases = [(np.array([7, -7]), 2.0), (np.array([7, -7]), np.array([2.0, 3.0], np.float32)),
             (np.array([7.0, -7.0], np.float32), 2), (np.array([7, -7], np.int32), 2)]
    for a, b in cases:
        ta, tb = torch.tensor(a), (torch.tensor(b) if isinstance(b, np.ndarray) else b)
        oa, ob = Tensor(a), (Tensor(b) if isinstance(b, np.ndarray) else b)
        for ours, theirs in ((oa // ob, ta // tb), (oa % ob, ta % tb), (ob // oa, tb // ta),
                             (oa.div(ob, rounding_mode="trunc"), ta.div(tb, rounding_mode="trunc"))):
            assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (a.dtype, b)
            np.testing.assert_allclose(ours.data, theirs.numpy())
    m = np.array([True, False])
    for x, v in ((np.array([1, 2]), 0.5), (np.array([1.0, 2.0], np.float32), 3), (np.array([1, 2]), np.array(7.5))):
        ours = Tensor(x).masked_fill(Tensor(m), Tensor(v) if isinstance(v, np.ndarray) else v)
        theirs = torch.tensor(x).masked_fill(torch.tensor(m), torch.tensor(v) if isinstance(v, np.ndarray) else v)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.") and ours.tolist() == theirs.tolist()
