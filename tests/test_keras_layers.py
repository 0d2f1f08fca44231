"""The Keras layers beyond the recurrent ones: Conv1D, poolings, normalizations, merges, reshapes, Masking.
Each forward against torch or numpy (Keras's formulas written out), and the gradients of inputs and weights
against torch's autograd."""

from __future__ import annotations

import numpy as np
import pytest
from keras_support import _fresh, rand  # noqa: F401 - _fresh: autouse fixture

from tinygrad_lstm import Tensor
from tinygrad_lstm.keras import layers


def _torch():
    return pytest.importorskip("torch")


def run(layer, *xs, training=False, seed=9):
    """Our layer's output and the gradients of Σ w·out (fixed random w) for the inputs and the weights."""
    ts = [Tensor(x, requires_grad=True) for x in xs]
    for p in layer.weights:
        p.grad = None
    out = layer(ts if len(ts) > 1 else ts[0], training=training)
    w = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    (out * Tensor(w)).sum().backward()
    return out.data, [t.grad for t in ts], {p.name.split(".")[-1]: p.grad for p in layer.weights}, w


def torch_grads(fn, w, *arrays):
    torch = _torch()
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    (out * torch.tensor(w)).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def keras_same_padding(L, K, s, d):
    """TensorFlow's 'same': out = ceil(L / s), pad_total = max((out - 1)·s + d·(K - 1) + 1 - L, 0), left half."""
    out = -(-L // s)
    total = max((out - 1) * s + d * (K - 1) + 1 - L, 0)
    return total // 2, total - total // 2


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("padding, strides, dilation", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2),
                                                        ("causal", 1, 2), ("valid", 3, 1)])
def test_conv1d_layer_matches_torch(padding, strides, dilation):
    torch = _torch()
    B, L, C, O, K = 2, 9, 3, 4, 3
    layer = layers.Conv1D(O, K, strides=strides, padding=padding, dilation_rate=dilation, activation="tanh")
    x = rand(B, L, C)
    out, (gx,), gw, w = run(layer, x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (K, C, O) and bias.shape == (O,)  # Keras's layout
    pad = {"valid": (0, 0), "same": keras_same_padding(L, K, strides, dilation),
           "causal": (dilation * (K - 1), 0)}[padding]

    def ref(x, k, b):
        xp = torch.nn.functional.pad(x.permute(0, 2, 1), pad)
        y = torch.nn.functional.conv1d(xp, k.permute(2, 1, 0), b, stride=strides, dilation=dilation)
        return torch.tanh(y.permute(0, 2, 1))

    expect, (tx, tk, tb) = torch_grads(ref, w, x, kernel, bias)
    assert out.shape == expect.shape and layer.compute_output_shape((None, L, C)) == (None,) + expect.shape[1:]
    close(out, expect)
    close(gx, tx)
    close(gw["kernel"], tk)
    close(gw["bias"], tb)


@pytest.mark.parametrize("pool, strides, padding", [(2, None, "valid"), (3, 2, "valid"), (3, 2, "same"),
                                                    (2, 1, "same")])
def test_max_pooling1d_matches_torch(pool, strides, padding):
    torch = _torch()
    x = rand(2, 7, 3)
    layer = layers.MaxPooling1D(pool, strides=strides, padding=padding)
    out, (gx,), _, w = run(layer, x)
    s = strides or pool
    pad = keras_same_padding(7, pool, s, 1) if padding == "same" else (0, 0)

    def ref(x):
        xp = torch.nn.functional.pad(x.permute(0, 2, 1), pad, value=-float("inf"))
        return torch.nn.functional.max_pool1d(xp, pool, stride=s).permute(0, 2, 1)

    expect, (tx,) = torch_grads(ref, w, x)
    assert out.shape == expect.shape and layer.compute_output_shape((None, 7, 3)) == (None,) + expect.shape[1:]
    close(out, expect)
    close(gx, tx)


def test_global_poolings_with_and_without_mask():
    _torch()
    x = rand(3, 5, 4)
    out, (gx,), _, w = run(layers.GlobalAveragePooling1D(), x)
    expect, (tx,) = torch_grads(lambda x: x.mean(1), w, x)
    close(out, expect)
    close(gx, tx)
    out, (gx,), _, w = run(layers.GlobalMaxPooling1D(), x)
    expect, (tx,) = torch_grads(lambda x: x.amax(1), w, x)
    close(out, expect)
    close(gx, tx)
    assert layers.GlobalMaxPooling1D(keepdims=True)(x).shape == (3, 1, 4)
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 1, 1]], bool)  # masked mean: valid steps only
    masked = layers.GlobalAveragePooling1D()(x, mask=mask).data
    close(masked, np.stack([x[i][mask[i]].mean(0) for i in range(3)]))


def test_batch_normalization_training_inference_and_moving_statistics():
    torch = _torch()
    x = rand(6, 4, 3) * 2 + 1
    layer = layers.BatchNormalization(momentum=0.9)
    out, (gx,), gw, w = run(layer, x, training=True)
    assert [p.name.split(".")[-1] for p in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    gamma, beta = rand(3, seed=1), rand(3, seed=2)
    layer.set_weights([gamma, beta, np.zeros(3), np.ones(3)])
    out, (gx,), gw, w = run(layer, x, training=True)
    expect, (tx, tg, tb) = torch_grads(
        lambda x, g, b: torch.nn.functional.batch_norm(x.reshape(-1, 3), None, None, g, b, training=True,
                                                       eps=1e-3).reshape(x.shape), w, x, gamma, beta)
    close(out, expect, 1e-4)
    close(gx, tx, 1e-4)
    close(gw["gamma"], tg, 1e-4)
    close(gw["beta"], tb, 1e-4)
    assert gw["moving_mean"] is None  # never trained
    flat = x.reshape(-1, 3)
    mm, mv = layer.get_weights()[2:]
    close(mm, 0.1 * flat.mean(0))  # momentum 0.9: 0.9·0 + 0.1·μ_B
    close(mv, 0.9 + 0.1 * flat.var(0))  # the biased variance, as Keras
    inference = layer(x).data  # training=False: the moving statistics
    close(inference, (x - mm) / np.sqrt(mv + 1e-3) * gamma + beta)
    layer.trainable = False  # a frozen BatchNormalization runs in inference mode, even in training
    close(layer(x, training=True).data, inference)
    assert layer.get_weights()[2] is not None and np.array_equal(layer.get_weights()[2], mm)


def test_layer_normalization_matches_torch():
    torch = _torch()
    x = rand(2, 5, 6)
    layer = layers.LayerNormalization()
    layer.build_from_shape((None, 5, 6))
    gamma, beta = rand(6, seed=1), rand(6, seed=2)
    layer.set_weights([gamma, beta])
    out, (gx,), gw, w = run(layer, x)
    expect, (tx, tg, tb) = torch_grads(lambda x, g, b: torch.nn.functional.layer_norm(x, (6,), g, b, eps=1e-3),
                                       w, x, gamma, beta)
    close(out, expect, 1e-4)
    close(gx, tx, 1e-4)
    close(gw["gamma"], tg, 1e-4)
    close(gw["beta"], tb, 1e-4)


def test_merges_reshapes_and_repeat_vector_match_torch():
    torch = _torch()
    a, b = rand(2, 3, seed=1), rand(2, 5, seed=2)
    out, (ga, gb), _, w = run(layers.Concatenate(), a, b)
    expect, (ta, tb) = torch_grads(lambda a, b: torch.cat([a, b], -1), w, a, b)
    close(out, expect)
    close(ga, ta)
    close(gb, tb)
    c = rand(2, 3, seed=3)
    out, grads, _, w = run(layers.Add(), a, c, a * 2)
    close(out, 3 * a + c)
    close(grads[0], w)
    x = rand(2, 4, 6)
    for layer, fn in [(layers.Reshape((3, -1)), lambda x: x.reshape(2, 3, 8)),
                      (layers.Permute((2, 1)), lambda x: x.permute(0, 2, 1)),
                      (layers.RepeatVector(3), None)]:
        inp = x if fn is not None else a
        out, (g,), _, w = run(layer, inp)
        ref = fn or (lambda v: v[:, None, :].expand(2, 3, 3))
        expect, (t,) = torch_grads(ref, w, inp)
        close(out, expect)
        close(g, t)
        assert layer.compute_output_shape((None,) + inp.shape[1:]) == (None,) + expect.shape[1:]


def test_masking_layer_hides_padded_steps_from_an_lstm():
    x = rand(2, 6, 3)
    x[0, :2] = 0.0  # sample 0: two padding steps in front
    model_layers = [layers.Masking(0.0), layers.LSTM(4)]
    masking, lstm = model_layers
    assert np.array_equal(masking.compute_mask(x, None), [[0, 0, 1, 1, 1, 1], [1] * 6])
    h = lstm(masking(x), mask=masking.compute_mask(x, None)).data
    alone = lstm(x[:1, 2:]).data
    close(h[0], alone[0], 1e-6)
    out, (g,), _, w = run(layers.Masking(0.0), x)  # masked steps are zeros, and pass no gradient back
    keep = np.any(x != 0, axis=-1, keepdims=True)
    close(out, x * keep)
    close(g, w * keep)


def test_layer_errors_name_what_they_got():
    with pytest.raises(ValueError, match=r"expected ndim=3.*\(None, 5\)"):
        layers.Conv1D(2, 3).build_from_shape((None, 5))
    with pytest.raises(ValueError, match="strides > 1"):
        layers.Conv1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="at least 2"):
        layers.Concatenate()([Tensor(rand(2, 3))])
    with pytest.raises(ValueError, match="matching shapes"):
        layers.Concatenate()([Tensor(rand(2, 3)), Tensor(rand(3, 2, 2))])
    with pytest.raises(ValueError, match=r"cannot reshape.*24"):
        layers.Reshape((5, -1))(rand(2, 4, 6))
    with pytest.raises(ValueError, match="start from 1"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="fewer than pool_size"):
        layers.MaxPooling1D(4)(rand(1, 3, 2))
