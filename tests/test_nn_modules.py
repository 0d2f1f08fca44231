"""The module forms of activations, Identity/Flatten, LayerNorm (and F.layer_norm) and the loss modules:
values and gradients against the same torch modules (float64), gradcheck, printed forms and errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from helpers import check_op

import tinygrad_lstm.nn.functional as F
from tinygrad_lstm import Tensor, gradcheck, nn

RTOL, ATOL = 1e-10, 1e-12


def _torch():
    return pytest.importorskip("torch")


def _rs(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# name -> constructor arguments, the same for ours and torch's
ACTIVATIONS = {
    "ReLU": {}, "Tanh": {}, "Sigmoid": {}, "GELU": {}, "SiLU": {}, "LeakyReLU": {"negative_slope": 0.2},
    "Softplus": {"beta": 2.0, "threshold": 3.0}, "Softmax": {"dim": 1}, "LogSoftmax": {"dim": -1}, "Identity": {},
    "Flatten": {}, "GELU_tanh": {"approximate": "tanh"}, "Flatten_0": {"start_dim": 0, "end_dim": 1},
    "ELU": {"alpha": 0.5}, "CELU": {"alpha": 2.0}, "SELU": {}, "Hardtanh": {"min_val": -2.0, "max_val": 1.5},
    "ReLU6": {}, "Hardsigmoid": {}, "Hardswish": {}, "Softsign": {}, "Mish": {}, "LogSigmoid": {},
    "Softmin": {"dim": 2},
}


@pytest.mark.parametrize("shape", [(3, 4, 2), (0, 4, 2)], ids=["3x4x2", "empty"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_parameterless_module_matches_torch(name, shape):
    torch = _torch()
    cls = name.split("_")[0]
    ours, theirs = getattr(nn, cls)(**ACTIVATIONS[name]), getattr(torch.nn, cls)(**ACTIVATIONS[name])
    assert repr(ours) == repr(theirs)
    x = _rs(1).uniform(-4, 4, shape)
    # torch's float64 hardsigmoid backward multiplies by the float32 constant 1.0f/6.0f (relative error 3e-8)
    rtol = 1e-7 if cls == "Hardsigmoid" else RTOL
    check_op(ours, x, torch_fn=theirs, rtol=rtol, atol=ATOL)


@pytest.mark.parametrize("name", ["ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "Identity"])
def test_elementwise_modules_on_a_scalar(name):
    torch = _torch()
    check_op(getattr(nn, name)(), np.array(0.7), torch_fn=getattr(torch.nn, name)(), rtol=RTOL, atol=ATOL)


def test_modules_gradcheck():
    x = Tensor(_rs(2).uniform(-2, 2, (3, 4)), requires_grad=True)
    for m in [nn.SiLU(), nn.GELU(), nn.Softmax(dim=0), nn.LogSoftmax(dim=1), nn.Flatten(0)]:
        assert gradcheck(m, [x])


def test_silu_by_hand():
    x = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_allclose(nn.SiLU()(Tensor(x)).data, x / (1 + np.exp(-x)), rtol=1e-15)


def test_inplace_flag_is_accepted_and_shown():
    torch = _torch()
    x = Tensor(np.array([-1.0, 2.0]))
    m = nn.ReLU(inplace=True)
    assert repr(m) == repr(torch.nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    for ours, theirs in [(nn.ReLU6(True), torch.nn.ReLU6(True)), (nn.ELU(0.5, True), torch.nn.ELU(0.5, True)),
                         (nn.Hardsigmoid(True), torch.nn.Hardsigmoid(True)),
                         (nn.Hardtanh(-2.0, 3.0, True), torch.nn.Hardtanh(-2.0, 3.0, True))]:
        assert repr(ours) == repr(theirs)
    np.testing.assert_array_equal(m(x).data, [0.0, 2.0])
    np.testing.assert_array_equal(x.data, [-1.0, 2.0])  # the result is a new tensor; the input is kept


def test_modules_in_sequential():
    torch = _torch()
    ours = nn.Sequential(nn.Flatten(), nn.Linear(6, 5, dtype=np.float64), nn.GELU(), nn.LayerNorm(5, dtype=np.float64),
                         nn.Linear(5, 3, dtype=np.float64), nn.LogSoftmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 5), torch.nn.GELU(), torch.nn.LayerNorm(5),
                                 torch.nn.Linear(5, 3), torch.nn.LogSoftmax(dim=1)).double()
    theirs[3].weight.data.uniform_(0.5, 1.5)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = _rs(3).standard_normal((4, 2, 3))
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert repr(ours) == repr(theirs)


def test_softmax_without_dim_is_an_error():
    with pytest.raises(TypeError, match=r"Softmax: no dim given \(input of shape \(2, 3\)\).*nn.Softmax\(dim=-1\)"):
        nn.Softmax()(Tensor(np.zeros((2, 3))))
    with pytest.raises(TypeError, match="LogSoftmax: no dim given"):
        nn.LogSoftmax()(Tensor(np.zeros(3)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="CrossEntropyLoss: label_smoothing must be between"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of"):
        nn.MSELoss(reduction="avg")


# ---------------------------------------------------------------------------------------------------------
# LayerNorm
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,normalized", [((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((5,), (5,)), ((0, 4), (4,))])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch(shape, normalized, affine):
    torch = _torch()
    r = _rs(4)
    x = r.standard_normal(shape) * 3 + 1
    w, b = r.uniform(0.5, 1.5, normalized), r.standard_normal(normalized)
    if affine == "both":
        check_op(lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-3), x, w, b,
                 torch_fn=lambda x, w, b: torch.nn.functional.layer_norm(x, normalized, w, b, eps=1e-3))
    elif affine == "weight":
        check_op(lambda x, w: F.layer_norm(x, normalized, w), x, w,
                 torch_fn=lambda x, w: torch.nn.functional.layer_norm(x, normalized, w))
    else:
        check_op(lambda x: F.layer_norm(x, normalized), x,
                 torch_fn=lambda x: torch.nn.functional.layer_norm(x, normalized))


@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 0.1}])
def test_layer_norm_module_matches_torch(kw):
    torch = _torch()
    ours, theirs = nn.LayerNorm((2, 3), dtype=np.float64, **kw), torch.nn.LayerNorm((2, 3), **kw).double()
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x_np = _rs(5).standard_normal((4, 2, 3))
    x, tx = Tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = _rs(6).standard_normal(out.shape)
    (out * Tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=RTOL, atol=ATOL)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


def test_layer_norm_gradcheck_and_by_hand():
    r = _rs(7)
    x, w, b = (Tensor(a, requires_grad=True) for a in (r.standard_normal((3, 4)), r.uniform(0.5, 2, 4),
                                                         r.standard_normal(4)))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b), [x, w, b])
    y = F.layer_norm(Tensor(np.array([1.0, 2.0, 3.0])), 3, eps=0.0).data
    np.testing.assert_allclose(y, np.array([-1.0, 0.0, 1.0]) * np.sqrt(1.5), rtol=1e-14)


def test_layer_norm_float32_stays_float32():
    assert nn.LayerNorm(3)(Tensor(np.ones((2, 3), dtype=np.float32))).dtype == np.float32


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \[3\] must be the trailing axes of the "
                                         r"input, got input of shape \(2, 4\)"):
        F.layer_norm(Tensor(np.zeros((2, 4))), 3)
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape normalized_shape=\(4,\), got \(3,\)"):
        F.layer_norm(Tensor(np.zeros((2, 4))), 4, np.ones(3))
    with pytest.raises(ValueError, match="layer_norm: normalized_shape"):
        F.layer_norm(Tensor(np.zeros(4)), (2, 4))


# ---------------------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------------------


def _class_data(seed: int):
    r = _rs(seed)
    target = r.integers(0, 4, 6)
    target[2] = 1  # ignore_index below: one row is ignored
    return r.standard_normal((6, 4)), target, r.uniform(0.5, 2, 4)


LOSSES = {  # name -> (constructor kwargs, inputs maker, which inputs require grad)
    "MSELoss": ({}, lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 4)))),
    "L1Loss": ({}, lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 4)))),
    "BCELoss": ({}, lambda r: (r.uniform(0.05, 0.95, (3, 4)), r.uniform(0, 1, (3, 4)))),
    "BCELoss_w": ({"weight": "w4"}, lambda r: (r.uniform(0.05, 0.95, (3, 4)), r.uniform(0, 1, (3, 4)))),
    "BCEWithLogitsLoss": ({"weight": "w4", "pos_weight": "w4"},
                          lambda r: (r.standard_normal((3, 4)) * 3, r.uniform(0, 1, (3, 4)))),
    "CrossEntropyLoss": ({}, lambda r: _class_data(8)[:2]),
    "CrossEntropyLoss_all": ({"weight": "w4", "ignore_index": 1, "label_smoothing": 0.2},
                             lambda r: _class_data(8)[:2]),
    "NLLLoss": ({"weight": "w4", "ignore_index": 1}, lambda r: _class_data(9)[:2]),
    "CrossEntropyLoss_probs": ({"weight": "w4", "label_smoothing": 0.1},
                               lambda r: (r.standard_normal((3, 4)), r.dirichlet(np.ones(4), 3))),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_module_matches_torch(name, reduction):
    torch = _torch()
    cls = name.split("_")[0]
    kw, make = LOSSES[name]
    w4 = _rs(10).uniform(0.5, 2, 4)
    ours_kw = {k: (w4 if v == "w4" else v) for k, v in kw.items()}
    theirs_kw = {k: (torch.tensor(w4) if v == "w4" else v) for k, v in kw.items()}
    ours = getattr(nn, cls)(reduction=reduction, **ours_kw)
    theirs = getattr(torch.nn, cls)(reduction=reduction, **theirs_kw)
    x, y = make(_rs(11))
    if cls == "NLLLoss":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    # the target is a constant (index targets cannot require grad; torch's BCE targets may, ours too)
    check_op(lambda x: ours(x, y if y.dtype.kind != "f" else Tensor(y)), x,
             torch_fn=lambda t: theirs(t, torch.tensor(y)), rtol=RTOL, atol=ATOL)
    assert repr(ours) == repr(theirs) == f"{cls}()"


@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (True, True), (False, True)])
def test_deprecated_reduction_arguments_map_as_torch(size_average, reduce):
    torch = _torch()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that they are deprecated
        theirs = torch.nn.MSELoss(size_average, reduce, reduction="sum")
    ours = nn.MSELoss(size_average, reduce, reduction="sum")
    assert ours.reduction == theirs.reduction


def test_loss_module_by_hand():
    x = Tensor(np.array([[2.0, 0.0], [0.0, 1.0]]))
    loss = nn.CrossEntropyLoss(reduction="sum")(x, np.array([0, 1]))
    expected = np.log(1 + np.exp(-2.0)) + np.log(1 + np.exp(-1.0))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-14)
    np.testing.assert_allclose(nn.L1Loss()(Tensor(np.array([1.0, -1.0])), np.array([0.0, 1.0])).item(), 1.5)


# ---------------------------------------------------------------------------------------------------------
# the package's attributes
# ---------------------------------------------------------------------------------------------------------


def test_subpackages_are_attributes_after_import():
    code = ("import tinygrad_lstm as t\n"
            "print(t.optim.Adam.__name__, t.nn.LSTM.__name__, t.nn.utils.clip_grad_norm_.__name__,\n"
            "      t.nn.utils.rnn.pack_padded_sequence.__name__, t.utils.data.DataLoader.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["Adam", "LSTM", "clip_grad_norm_", "pack_padded_sequence", "DataLoader"]
