"""The Conv1d op (ops/conv.py) and nn.functional.conv1d: forward and both gradients against torch's conv1d in
float64, finite differences, strides/padding/dilation, empty batches, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_grad, check_op, rand

from tinygrad_lstm import Tensor
from tinygrad_lstm.nn import functional as F

CASES = [  # N, C_in, L, C_out, K, stride, padding, dilation
    (2, 3, 10, 4, 3, 1, 0, 1),
    (2, 3, 10, 4, 3, 2, 1, 1),
    (1, 2, 9, 3, 2, 1, "same", 2),
    (2, 2, 8, 3, 4, 1, "same", 1),  # even kernel: the extra zero goes at the end
    (2, 3, 11, 2, 4, 3, 2, 2),
    (1, 1, 5, 1, 5, 1, "valid", 1),  # the kernel covers the whole input: one output
    (3, 1, 7, 2, 1, 2, 0, 1),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")
@pytest.mark.parametrize("case", CASES)
def test_conv1d_matches_torch_forward_and_gradients(case):
    torch = pytest.importorskip("torch")
    N, C, L, O, K, s, p, d = case
    x, w, b = rand((N, C, L), 1), rand((O, C, K), 2), rand((O,), 3)
    check_op(lambda x, w, b: F.conv1d(x, w, b, stride=s, padding=p, dilation=d), x, w, b,
             torch_fn=lambda x, w, b: torch.nn.functional.conv1d(x, w, b, stride=s, padding=p, dilation=d))


@pytest.mark.parametrize("case", CASES[:3])
def test_conv1d_gradients_match_finite_differences(case):
    N, C, L, O, K, s, p, d = case
    check_grad(lambda x, w: F.conv1d(x, w, stride=s, padding=p, dilation=d), rand((N, C, L), 4), rand((O, C, K), 5))


def test_conv1d_by_hand_and_unbatched():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])  # one channel, four steps
    w = np.array([[[1.0, -1.0]]])  # y[l] = x[l] - x[l + 1]
    assert np.array_equal(F.conv1d(Tensor(x), Tensor(w)).data, [[-1.0, -1.0, -1.0]])
    assert np.array_equal(F.conv1d(Tensor(x), Tensor(w), padding=1).data, [[-1.0, -1.0, -1.0, -1.0, 4.0]])


def test_conv1d_empty_batch_and_frozen_inputs():
    torch = pytest.importorskip("torch")
    x, w = Tensor(np.zeros((0, 2, 6)), requires_grad=True), Tensor(rand((3, 2, 2), 1), requires_grad=True)
    y = F.conv1d(x, w)
    assert y.shape == (0, 3, 5)
    y.sum().backward()
    assert x.grad.shape == (0, 2, 6) and np.array_equal(w.grad, np.zeros((3, 2, 2)))
    # only the weight needs a gradient: the input's is not computed
    xt = rand((2, 2, 6), 2)
    w2 = Tensor(rand((3, 2, 2), 1), requires_grad=True)
    F.conv1d(Tensor(xt), w2).sum().backward()
    W = torch.tensor(rand((3, 2, 2), 1), requires_grad=True)
    torch.nn.functional.conv1d(torch.tensor(xt), W).sum().backward()
    np.testing.assert_allclose(w2.grad, W.grad.numpy(), rtol=1e-12)


def test_conv1d_errors_name_the_shapes():
    x = Tensor(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"input has 3 channels.*expects 4"):
        F.conv1d(x, Tensor(np.zeros((2, 4, 3))))
    with pytest.raises(ValueError, match=r"length 5.*reach"):
        F.conv1d(x, Tensor(np.zeros((2, 3, 7))))
    with pytest.raises(ValueError, match="strided"):
        F.conv1d(x, Tensor(np.zeros((2, 3, 2))), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"expected input \(N, C_in, L\)"):
        F.conv1d(Tensor(np.zeros(5)), Tensor(np.zeros((2, 3, 2))))
