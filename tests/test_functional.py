"""tinygrad_lstm.nn.functional: values and gradients against PyTorch (float64, rtol 1e-10), gradcheck,
hand-computed values, numerical stability and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_lstm.nn.functional as F
from tinygrad_lstm import Tensor, gradcheck, manual_seed

RTOL = 1e-10
ATOL = 1e-12
REDUCTIONS = ["mean", "sum", "none"]
ELEMENTWISE_LOSSES = [F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits]


def _torch():
    return pytest.importorskip("torch")


def _rs(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def compare(ours, theirs, *arrays: np.ndarray, seed: int = 1) -> None:
    """ours(*Tensors) and theirs(*torch tensors) on the same float64 inputs (all requiring grad): values and
    the gradients of Σ g·out for a random g must agree."""
    torch = _torch()
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours(*xs), theirs(*ts)
    assert out.shape == tuple(ref.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = _rs(seed).standard_normal(out.shape)
    (out * Tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------------------------------------


ACTIVATIONS = {
    "sigmoid": (F.sigmoid, lambda t, tf: t.sigmoid()),
    "tanh": (F.tanh, lambda t, tf: t.tanh()),
    "relu": (F.relu, lambda t, tf: tf.relu(t)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda t, tf: tf.leaky_relu(t, 0.2)),
    "softplus": (F.softplus, lambda t, tf: tf.softplus(t)),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=5.0),
                      lambda t, tf: tf.softplus(t, beta=2.0, threshold=5.0)),
    "logsigmoid": (F.logsigmoid, lambda t, tf: tf.logsigmoid(t)),
    "gelu": (F.gelu, lambda t, tf: tf.gelu(t)),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda t, tf: tf.gelu(t, approximate="tanh")),
    "softmax0": (lambda x: F.softmax(x, dim=0), lambda t, tf: tf.softmax(t, dim=0)),
    "softmax1": (lambda x: F.softmax(x, axis=-1), lambda t, tf: tf.softmax(t, dim=-1)),
    "log_softmax0": (lambda x: F.log_softmax(x, 0), lambda t, tf: tf.log_softmax(t, dim=0)),
    "log_softmax1": (lambda x: F.log_softmax(x, dim=1), lambda t, tf: tf.log_softmax(t, dim=1)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_torch(name):
    torch = _torch()
    ours, theirs = ACTIVATIONS[name]
    x = _rs(2).standard_normal((4, 5)) * 3
    x[0, :3] = [0.0, 30.0, -30.0]  # the kinks and the flat tails
    compare(ours, lambda t: theirs(t, torch.nn.functional), x)


def test_activation_kink_gradients():
    x = Tensor(np.zeros(3), requires_grad=True)
    (F.relu(x) + F.leaky_relu(x, 0.1) + F.softplus(x) + F.logsigmoid(x)).sum().backward()
    np.testing.assert_allclose(x.grad, 0 + 0.1 + 0.5 + 0.5)  # torch's conventions; σ(0) = ½ exactly


def test_activations_gradcheck():
    x = Tensor(_rs(3).standard_normal((3, 4)), requires_grad=True)
    for fn in (F.softplus, F.logsigmoid, F.gelu, lambda t: F.gelu(t, approximate="tanh"),
               lambda t: F.softmax(t, dim=1), lambda t: F.log_softmax(t, dim=0)):
        assert gradcheck(fn, [x])


def test_activation_stability():
    x = Tensor(np.array([-1e4, -50.0, 50.0, 1e4]), requires_grad=True)
    y = F.logsigmoid(x)
    np.testing.assert_allclose(y.data, [-1e4, -50.0, -math.exp(-50), -0.0], rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0, math.exp(-50), 0.0], rtol=1e-12)
    np.testing.assert_allclose(F.softplus(Tensor([-1e4, 1e4])).data, [0.0, 1e4])
    np.testing.assert_allclose(F.log1p(Tensor(np.array([1e-20]))).data, [1e-20], rtol=1e-15)


def test_softmax_needs_an_axis():
    with pytest.raises(TypeError, match=r"softmax: give the axis to normalize over, e.g. "
                                        r"softmax\(x, dim=-1\)"):
        F.softmax(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="either dim= or axis="):
        F.log_softmax(Tensor([1.0, 2.0]), dim=0, axis=0)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(Tensor([1.0]), approximate="erf")
    with pytest.raises(TypeError, match="relu: input must be a floating-point tensor, got int64"):
        F.relu(Tensor([1, 2]))


# ----- dropout ------------------------------------------------------------------------------------------


def test_dropout_identity_cases():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    z = F.dropout(x, 1.0)
    np.testing.assert_array_equal(z.data, 0.0)
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)


def test_dropout_is_reproducible_and_scaled():
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    manual_seed(7)
    a = F.dropout(x, 0.3)
    manual_seed(7)
    b = F.dropout(x, 0.3)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, F.dropout(x, 0.3).data)  # the generator moved on
    kept = a.data != 0
    np.testing.assert_allclose(a.data[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.02
    a.sum().backward()
    np.testing.assert_allclose(x.grad, a.data)  # d out / d x is the scaled mask
    assert a.dtype == x.dtype
    assert F.dropout(Tensor(np.ones(4, dtype=np.float32)), 0.5).dtype == np.float32


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_bad_p(p):
    with pytest.raises(ValueError, match=r"dropout: probability p must be between 0 and 1, got"):
        F.dropout(Tensor([1.0]), p)


# ---------------------------------------------------------------------------------------------------------
# elementwise losses
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss"])
def test_regression_losses_match_torch(loss, shape, reduction):
    torch = _torch()
    rs = _rs(4)
    x, y = rs.standard_normal(shape), rs.standard_normal(shape)
    compare(lambda a, b: getattr(F, loss)(a, b, reduction=reduction),
            lambda a, b: getattr(torch.nn.functional, loss)(a, b, reduction=reduction), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (4,), (3, 4)])
def test_bce_matches_torch(weight_shape, reduction):
    torch = _torch()
    rs = _rs(5)
    x = rs.uniform(0.05, 0.95, (3, 4))
    y = rs.uniform(0, 1, (3, 4))
    y[0] = [0, 1, 0, 1]
    w = None if weight_shape is None else rs.uniform(0.5, 2, weight_shape)
    tw = None if w is None else torch.tensor(w)
    compare(lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction),
            lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, tw, reduction=reduction), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_matches_torch(pos_weighted, weighted, reduction):
    torch = _torch()
    rs = _rs(6)
    x = rs.standard_normal((3, 4)) * 4
    x[0] = [0.0, 20.0, -20.0, 1.0]
    y = rs.uniform(0, 1, (3, 4))
    y[1] = [0, 1, 0, 1]
    w = rs.uniform(0.5, 2, (3, 1)) if weighted else None
    pw = rs.uniform(0.5, 3, (4,)) if pos_weighted else None
    tw, tpw = (None if a is None else torch.tensor(a) for a in (w, pw))
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction, pos_weight=pw),
            lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
                a, b, tw, reduction=reduction, pos_weight=tpw), x, y)


def test_elementwise_losses_gradcheck():
    rs = _rs(7)
    x = Tensor(rs.uniform(0.1, 0.9, (2, 3)), requires_grad=True)
    y = Tensor(rs.uniform(0, 1, (2, 3)), requires_grad=True)
    w, pw = rs.uniform(0.5, 2, (3,)), rs.uniform(0.5, 2, (3,))
    for reduction in REDUCTIONS:
        assert gradcheck(lambda a, b, r=reduction: F.mse_loss(a, b, reduction=r), [x, y])
        assert gradcheck(lambda a, b, r=reduction: F.l1_loss(a, b, reduction=r), [x, y])
        assert gradcheck(lambda a, b, r=reduction: F.binary_cross_entropy(a, b, w, reduction=r), [x, y])
        assert gradcheck(lambda a, b, r=reduction: F.binary_cross_entropy_with_logits(
            a * 6 - 3, b, w, reduction=r, pos_weight=pw), [x, y])


def test_elementwise_losses_by_hand():
    x, y = Tensor([1.0, 2.0, 3.0], requires_grad=True), np.array([1.0, 0.0, 5.0])
    loss = F.mse_loss(x, y)
    assert loss.item() == pytest.approx((0 + 4 + 4) / 3)
    loss.backward()
    np.testing.assert_allclose(x.grad, [0, 4 / 3, -4 / 3])
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(4.0)
    np.testing.assert_allclose(F.l1_loss(x, y, reduction="none").data, [0, 2, 2])
    # p = ½ costs ln 2 whatever the label; so does the logit 0, with gradient σ(0) - y
    half = Tensor([0.5, 0.5])
    assert F.binary_cross_entropy(half, np.array([0.0, 1.0])).item() == pytest.approx(math.log(2))
    z = Tensor([0.0, 0.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(z, np.array([0, 1]), reduction="sum")  # integer labels are fine
    assert loss.item() == pytest.approx(2 * math.log(2))
    loss.backward()
    np.testing.assert_allclose(z.grad, [0.5, -0.5])
    pw = F.binary_cross_entropy_with_logits(Tensor([0.0]), np.array([1.0]), pos_weight=np.array([3.0]))
    assert pw.item() == pytest.approx(3 * math.log(2))


def test_elementwise_losses_keep_the_input_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for fn in (F.mse_loss, F.l1_loss, F.binary_cross_entropy_with_logits):
        assert fn(x, np.zeros(3)).dtype == np.float32
    assert F.binary_cross_entropy(x * 0.5, np.zeros(3, dtype=np.float64)).dtype == np.float32


def test_bce_stability():
    # logits of ±1e4: finite loss and gradient
    x = Tensor(np.array([1e4, -1e4, 1e4, -1e4]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0, 0, 1e4, 1e4])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [0, 0, 1, -1])
    # probabilities of exactly 0 and 1: the logs clamp at -100, gradients stay finite
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(loss.data, [100, 100, 0, 0])
    loss.sum().backward()
    assert np.isfinite(p.grad).all()
    # tiny losses keep their relative precision (ln(1 + e^-40) needs log1p)
    tiny = F.binary_cross_entropy_with_logits(Tensor([40.0]), np.array([1.0]))
    assert tiny.item() == pytest.approx(math.exp(-40), rel=1e-12)


# ---------------------------------------------------------------------------------------------------------
# class-index losses
# ---------------------------------------------------------------------------------------------------------


def _class_case(shape: tuple[int, ...], n_ignored: int, ignore_index: int, seed: int):
    rs = _rs(seed)
    x = rs.standard_normal(shape) * 2
    n_classes = shape[1] if len(shape) >= 2 else shape[0]
    tshape = shape[:1] + shape[2:] if len(shape) >= 2 else ()
    t = rs.integers(0, n_classes, tshape)
    if n_ignored and t.ndim:
        t.reshape(-1)[rs.choice(t.size, n_ignored, replace=False)] = ignore_index
    return x, t, n_classes


CLASS_SHAPES = [(6, 5), (3, 4, 5), (2, 3, 2, 2), (5,)]


@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, -100, 1])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_torch(shape, reduction, weighted, ignore, smoothing):
    torch = _torch()
    ignore_index = -100 if ignore is None else ignore
    x, t, c = _class_case(shape, 0 if ignore is None else 2, ignore_index, seed=len(shape))
    w = _rs(9).uniform(0.2, 3, c) if weighted else None
    tw = None if w is None else torch.tensor(w)
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    compare(lambda a: F.cross_entropy(a, t, w, **kw),
            lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(t), tw, **kw), x)


@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, -100, 0])
def test_nll_loss_matches_torch(shape, reduction, weighted, ignore):
    torch = _torch()
    ignore_index = -100 if ignore is None else ignore
    x, t, c = _class_case(shape, 0 if ignore is None else 2, ignore_index, seed=10 + len(shape))
    w = _rs(11).uniform(0.2, 3, c) if weighted else None
    tw = None if w is None else torch.tensor(w)
    kw = dict(ignore_index=ignore_index, reduction=reduction)
    compare(lambda a: F.nll_loss(F.log_softmax(a, dim=1 if a.ndim > 1 else 0), Tensor(t), w, **kw),
            lambda a: torch.nn.functional.nll_loss(torch.log_softmax(a, dim=1 if a.ndim > 1 else 0),
                                                   torch.tensor(t), tw, **kw), x)


def test_class_losses_gradcheck():
    x, t, c = _class_case((4, 3, 2), 2, -100, seed=12)
    w = _rs(13).uniform(0.5, 2, c)
    xt = Tensor(x, requires_grad=True)
    for reduction in REDUCTIONS:
        assert gradcheck(lambda a, r=reduction: F.cross_entropy(a, t, w, reduction=r, label_smoothing=0.1),
                         [xt])
        assert gradcheck(lambda a, r=reduction: F.nll_loss(a, t, w, reduction=r), [xt])


def test_cross_entropy_by_hand():
    # uniform logits: every class has probability 1/C, so the loss is ln C (smoothing or not)
    for c in (2, 5, 10):
        x = Tensor(np.zeros((3, c)), requires_grad=True)
        t = np.array([0, 1, 1])
        assert F.cross_entropy(x, t).item() == pytest.approx(math.log(c), rel=1e-14)
        assert F.cross_entropy(x, t, label_smoothing=0.3).item() == pytest.approx(math.log(c), rel=1e-14)
        F.cross_entropy(x, t).backward()  # d/dx = (softmax - onehot) / N
        expected = np.full((3, c), 1 / c)
        expected[[0, 1, 2], t] -= 1
        np.testing.assert_allclose(x.grad, expected / 3, rtol=1e-12)
    # logits [0, ln 3]: p = [1/4, 3/4]
    x = Tensor(np.array([[0.0, math.log(3)], [0.0, math.log(3)]]))
    t = np.array([0, 1])
    np.testing.assert_allclose(F.cross_entropy(x, t, reduction="none").data, [math.log(4), math.log(4 / 3)])
    # class weights: the mean is normalized by the weights of the targets, Σ w[yₙ]
    w = np.array([2.0, 1.0])
    expected = (2 * math.log(4) + 1 * math.log(4 / 3)) / 3
    assert F.cross_entropy(x, t, w).item() == pytest.approx(expected, rel=1e-14)
    # ignore_index: ignored entries cost 0 and the mean is over the others
    t_ign = np.array([-100, 1])
    assert F.cross_entropy(x, t_ign).item() == pytest.approx(math.log(4 / 3), rel=1e-14)
    np.testing.assert_allclose(F.cross_entropy(x, t_ign, reduction="none").data, [0, math.log(4 / 3)])
    # label smoothing ε: (1-ε)·nll + ε/C · Σ_c -log p_c
    eps = 0.2
    smooth = -(math.log(1 / 4) + math.log(3 / 4))
    assert F.cross_entropy(x[1:], t[1:], label_smoothing=eps).item() == pytest.approx(
        (1 - eps) * math.log(4 / 3) + eps / 2 * smooth, rel=1e-14)
    # unbatched
    assert F.cross_entropy(Tensor([0.0, math.log(3)]), np.array(1)).item() == pytest.approx(math.log(4 / 3))
    assert F.cross_entropy(Tensor([0.0, math.log(3)]), np.array(1), reduction="none").shape == ()


def test_nll_loss_by_hand():
    logp = Tensor(np.log(np.array([[0.2, 0.8], [0.6, 0.4]])), requires_grad=True)
    loss = F.nll_loss(logp, np.array([1, 0]), reduction="sum")
    assert loss.item() == pytest.approx(-math.log(0.8) - math.log(0.6))
    loss.backward()
    np.testing.assert_allclose(logp.grad, [[0, -1], [-1, 0]])


def test_all_targets_ignored_gives_nan_and_zero_grad():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    for smoothing in (0.0, 0.1):
        x.grad = None
        loss = F.cross_entropy(x, np.array([-100, -100]), label_smoothing=smoothing)
        assert math.isnan(loss.item())
        loss.backward()
        np.testing.assert_array_equal(x.grad, 0.0)
    assert F.cross_entropy(x, np.array([-100, -100]), reduction="sum").item() == 0.0


def test_cross_entropy_stability():
    x = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]]), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 0]), reduction="none", label_smoothing=0.1)
    assert np.isfinite(loss.data).all()
    loss.sum().backward()
    assert np.isfinite(x.grad).all()
    np.testing.assert_allclose(F.cross_entropy(x, np.array([0, 0]), reduction="none").data, [0.0, 2e4])


def test_cross_entropy_float32_and_target_kinds():
    x = Tensor(np.zeros((2, 3), dtype=np.float32), requires_grad=True)
    for t in (np.array([0, 2]), np.array([0, 2], dtype=np.int32), np.array([0, 2], dtype=np.uint8),
              Tensor([0, 2])):
        loss = F.cross_entropy(x, t, np.array([1.0, 2.0, 3.0]))
        assert loss.dtype == np.float32
        assert loss.item() == pytest.approx(math.log(3), rel=1e-6)


# ---------------------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------------------


def test_class_loss_errors():
    x = Tensor(np.zeros((4, 10)))
    with pytest.raises(ValueError, match=re_escape(
            "cross_entropy: target of shape (4, 1) does not match input of shape (4, 10); "
            "expected class indices of shape (4,)")):
        F.cross_entropy(x, np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(TypeError, match=r"cross_entropy: target must hold integer class indices, got float32 "
                                        r"\(for class probabilities"):
        F.cross_entropy(x, np.zeros(4, dtype=np.float32))
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class indices, got bool"):
        F.nll_loss(x, np.zeros(4, dtype=bool))
    with pytest.raises(ValueError, match=re_escape(
            "cross_entropy: target holds class index 10, but the input has 10 classes (valid: 0..9, "
            "or ignore_index=-100)")):
        F.cross_entropy(x, np.array([0, 1, 10, 2]))
    with pytest.raises(ValueError, match="nll_loss: target holds class index -1, but the input has 10 "
                                         "classes"):
        F.nll_loss(x, np.array([0, -1, 1, 2]))
    with pytest.raises(ValueError, match=re_escape(
            "cross_entropy: weight of shape (3,) does not match the 10 classes of the input; expected one "
            "weight per class, shape (10,)")):
        F.cross_entropy(x, np.zeros(4, dtype=np.int64), np.ones(3))
    with pytest.raises(ValueError, match="cross_entropy: label_smoothing must be between 0.0 and 1.0, "
                                         "got 1.5"):
        F.cross_entropy(x, np.zeros(4, dtype=np.int64), label_smoothing=1.5)
    with pytest.raises(ValueError, match="cross_entropy: input must have a class axis"):
        F.cross_entropy(Tensor(1.0), np.array(0))
    with pytest.raises(TypeError, match="cross_entropy: input must be a floating-point tensor, got int64"):
        F.cross_entropy(Tensor([[1, 2]]), np.array([0]))


@pytest.mark.parametrize("fn", ELEMENTWISE_LOSSES + [F.cross_entropy, F.nll_loss])
def test_unknown_reduction(fn):
    target = np.zeros(3, dtype=np.int64) if fn in (F.cross_entropy, F.nll_loss) else np.zeros((3, 2))
    with pytest.raises(ValueError, match=f"{fn.__name__}: reduction must be one of 'mean', 'sum', 'none', "
                                         "got 'avg'"):
        fn(Tensor(np.full((3, 2), 0.5)), target, reduction="avg")


@pytest.mark.parametrize("fn", ELEMENTWISE_LOSSES)
def test_elementwise_shape_mismatch_raises(fn):
    # torch would warn and broadcast (4, 1) against (4,) into a (4, 4) loss; here it is an error
    with pytest.raises(ValueError, match=re_escape(
            f"{fn.__name__}: target of shape (4,) does not match input of shape (4, 1); they must be equal")):
        fn(Tensor(np.full((4, 1), 0.5)), np.zeros(4))


def test_elementwise_loss_errors():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\], "
                                         r"got 1.5 \(pass logits to binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(Tensor([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="got nan"):
        F.binary_cross_entropy(Tensor([float("nan")]), np.array([0.0]))
    with pytest.raises(ValueError, match=re_escape(
            "binary_cross_entropy_with_logits: pos_weight of shape (3,) does not broadcast to input of shape "
            "(2, 4)")):
        F.binary_cross_entropy_with_logits(Tensor(np.zeros((2, 4))), np.zeros((2, 4)), pos_weight=np.ones(3))
    with pytest.raises(ValueError, match=re_escape(
            "binary_cross_entropy: weight of shape (2, 4, 1) does not broadcast to input of shape (2, 4)")):
        F.binary_cross_entropy(Tensor(np.full((2, 4), 0.5)), np.zeros((2, 4)), np.ones((2, 4, 1)))
    with pytest.raises(TypeError, match="mse_loss: target must be numeric"):
        F.mse_loss(Tensor([1.0]), np.array(["a"]))


def re_escape(s: str) -> str:
    import re

    return re.escape(s)
