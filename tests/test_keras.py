"""tinygrad_lstm.keras: Keras-layout layers against the Keras equations and PyTorch, parameter counts, Keras's
optimizer rules, losses, training loops that learn, callbacks, preprocessing, data sets, and the errors a
tutorial reader meets."""

from __future__ import annotations

import io
import re
import sys

import numpy as np
import pytest
from keras_support import _fresh, rand  # noqa: F401 - _fresh: autouse fixture

from tinygrad_lstm import Tensor, manual_seed
from tinygrad_lstm.keras import callbacks, layers, losses, metrics, optimizers, utils
from tinygrad_lstm.keras.datasets import digits, mnist
from tinygrad_lstm.keras.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Input,
    SimpleRNN,
    TimeDistributed,
)
from tinygrad_lstm.keras.models import Sequential
from tinygrad_lstm.keras.preprocessing.sequence import pad_sequences
from tinygrad_lstm.keras.preprocessing.text import Tokenizer
from tinygrad_lstm.random import rng


def _torch():
    return pytest.importorskip("torch")


def sig(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------------------------------------------------
# layers against the Keras equations
# ------------------------------------------------------------------------------------------------------------
def keras_lstm(x, kernel, rkernel, bias, act=np.tanh, rec=sig):
    """Keras's LSTM equations, written out (reference only)."""
    B, T, _ = x.shape
    u = rkernel.shape[0]
    h, c, hs = np.zeros((B, u)), np.zeros((B, u)), []
    for t in range(T):
        z = x[:, t] @ kernel + h @ rkernel + bias
        i, f, cc, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        c = rec(f) * c + rec(i) * act(cc)
        h = rec(o) * act(c)
        hs.append(h)
    return np.stack(hs, 1), h, c


def test_lstm_weights_have_keras_layout_and_follow_keras_equations():
    layer = LSTM(5, return_sequences=True, return_state=True)
    x = rand(2, 4, 3)
    out, h, c = layer(x)
    kernel, rkernel, bias = layer.get_weights()
    assert (kernel.shape, rkernel.shape, bias.shape) == ((3, 20), (5, 20), (20,))
    np.testing.assert_array_equal(bias, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])  # unit_forget_bias
    np.testing.assert_allclose(rkernel @ rkernel.T, np.eye(5), atol=1e-5)  # orthogonal rows
    bias = rand(20, seed=1)
    layer.set_weights([kernel, rkernel, bias])
    out, h, c = layer(x)
    ref, rh, rc = keras_lstm(x.astype(np.float64), kernel, rkernel, bias)
    np.testing.assert_allclose(out.data, ref, atol=1e-5)
    np.testing.assert_allclose(h.data, rh, atol=1e-5)
    np.testing.assert_allclose(c.data, rc, atol=1e-5)


def test_lstm_any_activation():
    layer = LSTM(4, activation="relu", recurrent_activation="hard_sigmoid")
    x = rand(3, 5, 2)
    y = layer(x).data
    k, rk, b = layer.get_weights()
    ref = keras_lstm(x.astype(np.float64), k, rk, b, act=lambda z: np.maximum(z, 0),
                     rec=lambda z: np.clip(z / 6 + 0.5, 0, 1))[1]
    np.testing.assert_allclose(y, ref, atol=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_layer_weight_gradients_match_finite_differences(kind):
    """In float64, d loss / d weight from autograd against central differences, for entries of every weight
    (each GRU gate block, both bias rows)."""
    layer = {"LSTM": LSTM, "GRU": GRU}[kind](3, return_sequences=True)
    x = rand(2, 4, 2).astype(np.float64)
    layer(x)
    layer.double()
    for p in layer.weights:
        p.data[...] = rand(*p.shape, seed=p.numel()) * 0.5
    w = rand(2, 4, 3, seed=9).astype(np.float64)

    def loss():
        return float((layer(x).data * w).sum())

    for p in layer.weights:
        p.grad = None
    (layer(x) * w).sum().backward()
    for p in layer.weights:
        flat = p.data.reshape(-1)
        for i in range(0, flat.size, max(1, flat.size // 9)):
            old = flat[i]
            flat[i] = old + 1e-6
            up = loss()
            flat[i] = old - 1e-6
            down = loss()
            flat[i] = old
            assert p.grad.reshape(-1)[i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-8), (p.name, i)


def test_dropout_masks_are_drawn_once_per_call_and_shared_by_all_steps():
    layer = LSTM(3, dropout=0.5)
    x = rand(4, 6, 5)
    layer(x)
    manual_seed(11)
    dropped = layer(x, training=True).data
    manual_seed(11)
    keep = (rng().random((4, 5)) >= 0.5) / 0.5
    np.testing.assert_allclose(dropped, layer(x * keep[:, None, :]).data, atol=1e-6)
    np.testing.assert_array_equal(layer(x).data, layer(x).data)  # inference: no dropout


def _to_torch(kind, ws, u):
    """Keras-layout weights → the state_dict of torch.nn.LSTM/GRU/RNN (one layer)."""
    k, rk, b = ws
    if kind == "GRU":  # Keras z, r, h → torch r, z, n
        idx = np.r_[np.arange(u, 2 * u), np.arange(u), np.arange(2 * u, 3 * u)]
        return idx, {"weight_ih_l0": k[:, idx].T, "weight_hh_l0": rk[:, idx].T, "bias_ih_l0": b[0][idx],
                     "bias_hh_l0": b[1][idx]}
    idx = np.arange(k.shape[1])
    return idx, {"weight_ih_l0": k.T, "weight_hh_l0": rk.T, "bias_ih_l0": b, "bias_hh_l0": np.zeros_like(b)}


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_layer_outputs_and_gradients_match_torch(kind):
    torch = _torch()
    u, x = 4, rand(3, 6, 5)
    layer = {"LSTM": LSTM, "GRU": GRU, "SimpleRNN": SimpleRNN}[kind](u, return_sequences=True)
    layer(x)
    ws = layer.get_weights()
    ws[2] = rand(*ws[2].shape, seed=2)  # non-zero biases (both GRU rows)
    layer.set_weights(ws)
    idx, sd = _to_torch(kind, ws, u)
    tl = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "SimpleRNN": torch.nn.RNN}[kind](5, u, batch_first=True)
    tl.load_state_dict({k: torch.tensor(np.ascontiguousarray(v)) for k, v in sd.items()})

    xt = Tensor(x, requires_grad=True)
    out = layer(xt)
    w = rand(*out.shape, seed=3)
    (out * w).sum().backward()
    xtt = torch.tensor(x, requires_grad=True)
    ref, _ = tl(xtt)
    (ref * torch.tensor(w)).sum().backward()

    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(xt.grad, xtt.grad.numpy(), atol=1e-5)
    cell = layer.cell
    gk, grk = np.empty_like(ws[0]), np.empty_like(ws[1])
    gk[:, idx] = tl.weight_ih_l0.grad.numpy().T
    grk[:, idx] = tl.weight_hh_l0.grad.numpy().T
    np.testing.assert_allclose(cell.kernel.grad, gk, atol=1e-4)
    np.testing.assert_allclose(cell.recurrent_kernel.grad, grk, atol=1e-4)
    if kind == "GRU":
        gb = np.empty_like(ws[2])
        gb[0, idx], gb[1, idx] = tl.bias_ih_l0.grad.numpy(), tl.bias_hh_l0.grad.numpy()
    else:
        gb = tl.bias_ih_l0.grad.numpy()
    np.testing.assert_allclose(cell.bias.grad, gb, atol=1e-4)


def test_bidirectional_matches_torch_bidirectional_lstm():
    torch = _torch()
    x = rand(2, 5, 3)
    bi = Bidirectional(LSTM(4, return_sequences=True))
    out = bi(x).data
    assert out.shape == (2, 5, 8)
    assert [ly.name for ly in (bi.forward_layer, bi.backward_layer)] == ["forward_lstm", "backward_lstm"]
    tl = torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True)
    sd = {}
    for layer, suffix in ((bi.forward_layer, ""), (bi.backward_layer, "_reverse")):
        for k, v in _to_torch("LSTM", layer.get_weights(), 4)[1].items():
            sd[k + suffix] = torch.tensor(np.ascontiguousarray(v))
    tl.load_state_dict(sd)
    np.testing.assert_allclose(out, tl(torch.tensor(x))[0].detach().numpy(), atol=1e-5)
    last = Bidirectional(LSTM(4), merge_mode="sum")
    last(x)
    for a, b in zip(last.forward_layer.weights + last.backward_layer.weights, bi.weights):
        a.data[...] = b.data
    np.testing.assert_allclose(last(x).data, out[:, -1, :4] + out[:, 0, 4:], atol=1e-5)


def test_go_backwards_returns_the_reversed_sequence():
    x = rand(2, 4, 3)
    fwd, back = LSTM(3, return_sequences=True), LSTM(3, return_sequences=True, go_backwards=True)
    fwd(x), back(x)
    back.set_weights(fwd.get_weights())
    np.testing.assert_allclose(back(x).data, fwd(x[:, ::-1]).data, atol=1e-6)


def test_masked_steps_keep_the_state_as_keras():
    """Pre-padding with Embedding(mask_zero=True): the padded sequence gives the unpadded one's result; the
    outputs at padded steps repeat the carried state (zeros before the first token)."""
    seqs = [[3, 7, 2], [5, 1, 4, 6, 2]]
    x = pad_sequences(seqs)  # pre-padding, Keras's default
    emb, lstm = Embedding(10, 4, mask_zero=True), LSTM(3, return_sequences=True)
    mask = emb.compute_mask(x, None)
    out = lstm(emb(x), mask=mask).data
    np.testing.assert_array_equal(out[0, :2], 0)
    for i, s in enumerate(seqs):
        alone = lstm(emb(np.array([s]))).data[0]
        np.testing.assert_allclose(out[i, -len(s):], alone, atol=1e-6)
    post = pad_sequences(seqs, padding="post")
    out_post = lstm(emb(post), mask=emb.compute_mask(post, None)).data
    np.testing.assert_allclose(out_post[0, 3:], np.repeat(out_post[0, 2:3], 2, 0))  # carried, not zeros
    bi = Bidirectional(LSTM(2, return_sequences=True))
    np.testing.assert_array_equal(bi(emb(post), mask=emb.compute_mask(post, None)).data[0, 3:], 0)


def test_mask_flows_through_a_sequential_model_into_the_loss():
    model = Sequential([Embedding(10, 4, mask_zero=True), LSTM(3, return_sequences=True),
                        TimeDistributed(Dense(2, activation="softmax"))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.array([[0, 0, 3, 4], [1, 2, 3, 4]])
    y = np.array([[1, 1, 0, 1], [0, 1, 0, 1]])
    y_pred, mask = model._run(x, training=False)
    np.testing.assert_array_equal(mask, x != 0)
    p = y_pred.data
    nll = -np.log(np.clip(np.take_along_axis(p, y[..., None], -1)[..., 0], 1e-7, 1 - 1e-7))
    np.testing.assert_allclose(model.evaluate(x, y)[0], nll[x != 0].mean(), rtol=1e-5)


# ------------------------------------------------------------------------------------------------------------
# summary and weights
# ------------------------------------------------------------------------------------------------------------
def _summary(model):
    out = []
    model.summary(print_fn=out.append)
    return out[0]


def test_summary_parameter_counts_equal_keras():
    V, E, T, u = 1000, 32, 20, 16
    model = Sequential([
        Embedding(V, E, input_length=T),
        Bidirectional(LSTM(u, return_sequences=True)),
        LSTM(u, return_sequences=True),
        GRU(8),
        Dense(5, activation="softmax"),
    ])
    expected = [V * E, 2 * 4 * u * (E + u + 1), 4 * u * (2 * u + u + 1), 3 * 8 * (u + 8 + 2), 5 * (8 + 1)]
    assert [ly.count_params() for ly in model.layers] == expected == [32000, 6272, 3136, 624, 45]
    text = _summary(model)
    assert 'Model: "sequential"' in text
    assert re.search(r"bidirectional \(Bidirectional\)\s+│ \(None, 20, 32\)\s+│\s+6,272 │", text)
    assert re.search(r"gru \(GRU\)\s+│ \(None, 8\)\s+│\s+624 │", text)
    assert f" Total params: {sum(expected):,} (164.36 KB)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text
    model.layers[0].trainable = False
    assert " Non-trainable params: 32,000 (125.00 KB)" in _summary(model)
    simple = Sequential([Input(shape=(None, 3)), SimpleRNN(6), Dense(1)])
    assert [ly.count_params() for ly in simple.layers] == [6 * (3 + 6 + 1), 7]
    assert "(None, 6)" in _summary(simple)


def test_unbuilt_model_summary_and_lazy_build():
    model = Sequential([LSTM(4), Dense(1)])
    assert "0 (unbuilt)" in _summary(model)
    model.predict(rand(2, 5, 3))
    assert model.layers[0].count_params() == 4 * 4 * (3 + 4 + 1)
    assert model.predict(rand(2, 9, 3)).shape == (2, 1)  # built from data: any number of steps


def test_subclassed_model_and_variable_length_input():
    from tinygrad_lstm.keras import Model

    class Classifier(Model):
        def __init__(self):
            super().__init__()
            self.rnn = GRU(4)
            self.out = Dense(2, activation="softmax")

        def call(self, inputs):
            return self.out(self.rnn(inputs))

    model = Classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(rand(8, 5, 3), np.arange(8) % 2, epochs=2, verbose=0)
    assert [ly.name for ly in model.layers] == ["gru", "dense"] and len(hist.history["loss"]) == 2
    seq = Sequential([Input(shape=(None, 3)), LSTM(2)])
    assert seq.predict(rand(2, 4, 3)).shape == seq.predict(rand(2, 9, 3)).shape == (2, 2)


def test_save_and_load_weights_roundtrip(tmp_path):
    model = Sequential([LSTM(4, input_shape=(5, 3)), Dense(2)])
    x = rand(3, 5, 3)
    before = model.predict(x)
    path = tmp_path / "w.weights.h5"
    model.save_weights(str(path))
    other = Sequential([LSTM(4, input_shape=(5, 3)), Dense(2)])
    assert not np.allclose(other.predict(x), before)
    other.load_weights(str(path))
    np.testing.assert_array_equal(other.predict(x), before)
    wrong = Sequential([LSTM(5, input_shape=(5, 3)), Dense(2)])
    with pytest.raises(ValueError, match="has shape"):
        wrong.load_weights(str(path))
    (tmp_path / "junk.h5").write_bytes(b"\x89HDF\r\n")
    with pytest.raises(ValueError, match="save_weights"):
        other.load_weights(str(tmp_path / "junk.h5"))


# ------------------------------------------------------------------------------------------------------------
# optimizers against Keras's formulas, written out in float64
# ------------------------------------------------------------------------------------------------------------
GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-1.5, 0.0, 0.7])]
W0 = np.array([1.0, -2.0, 0.5])


def _run(opt, w0=W0, grads=GRADS):
    w = Tensor(w0.astype(np.float32), requires_grad=True)
    for g in grads:
        opt.apply_gradients([(g.astype(np.float32), w)])
    return w.data


def _keras_adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=0.0):
    w, m, v, vh = W0.copy(), 0 * W0, 0 * W0, 0 * W0
    for t, g in enumerate(GRADS, 1):
        w = w - w * wd * lr
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vh = np.maximum(vh, v)
        w = w - m * alpha / (np.sqrt(vh if amsgrad else v) + eps)
    return w


def _keras_rmsprop(lr=1e-3, rho=0.9, mom=0.0, eps=1e-7, centered=False):
    w, v, a, m = W0.copy(), 0 * W0, 0 * W0, 0 * W0
    for g in GRADS:
        v = rho * v + (1 - rho) * g * g
        a = rho * a + (1 - rho) * g
        inc = lr * g / np.sqrt((v - a * a if centered else v) + eps)
        m = mom * m + inc
        w = w - (m if mom > 0 else inc)
    return w


def _keras_sgd(lr=0.01, mom=0.0, nesterov=False):
    w, vel = W0.copy(), 0 * W0
    for g in GRADS:
        if mom:
            vel = mom * vel - lr * g
            w = w + (mom * vel - lr * g if nesterov else vel)
        else:
            w = w - lr * g
    return w


def _keras_adagrad(lr=1e-3, init=0.1, eps=1e-7):
    w, s = W0.copy(), 0 * W0 + init
    for g in GRADS:
        s = s + g * g
        w = w - lr * g / np.sqrt(s + eps)
    return w


@pytest.mark.parametrize("opt, ref", [
    (lambda: optimizers.Adam(), lambda: _keras_adam()),
    (lambda: optimizers.Adam(learning_rate=0.1, amsgrad=True), lambda: _keras_adam(lr=0.1, amsgrad=True)),
    (lambda: optimizers.AdamW(learning_rate=0.1), lambda: _keras_adam(lr=0.1, wd=0.004)),
    (lambda: optimizers.RMSprop(), lambda: _keras_rmsprop()),
    (lambda: optimizers.RMSprop(0.01, momentum=0.9, centered=True), lambda: _keras_rmsprop(0.01, mom=0.9,
                                                                                           centered=True)),
    (lambda: optimizers.SGD(), lambda: _keras_sgd()),
    (lambda: optimizers.SGD(0.1, momentum=0.9), lambda: _keras_sgd(0.1, 0.9)),
    (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True), lambda: _keras_sgd(0.1, 0.9, True)),
    (lambda: optimizers.Adagrad(0.1), lambda: _keras_adagrad(0.1)),
])
def test_optimizers_follow_keras_update_formulas(opt, ref):
    np.testing.assert_allclose(_run(opt()), ref(), rtol=1e-5, atol=1e-6)


def test_optimizer_defaults_by_name_and_clipping():
    assert [(type(o).__name__, o.learning_rate) for o in map(optimizers.get, ["sgd", "rmsprop", "adam", "Adam"])] \
        == [("SGD", 0.01), ("RMSprop", 0.001), ("Adam", 0.001), ("Adam", 0.001)]
    assert optimizers.get("rmsprop").epsilon == optimizers.get("adam").epsilon == 1e-7
    big = [np.array([3.0, 4.0, 0.0])]  # norm 5
    np.testing.assert_allclose(_run(optimizers.SGD(1.0, clipnorm=1.0), grads=big), W0 - [0.6, 0.8, 0], rtol=1e-6)
    np.testing.assert_allclose(_run(optimizers.SGD(1.0, clipvalue=3.5), grads=big), W0 - [3.0, 3.5, 0], rtol=1e-6)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


# ------------------------------------------------------------------------------------------------------------
# losses and metrics
# ------------------------------------------------------------------------------------------------------------
def test_losses_follow_keras_formulas():
    p = np.array([[0.9], [0.2], [1.0]], np.float32)
    y = np.array([1, 0, 1])
    eps = 1e-7
    pc = np.clip(p[:, 0], eps, 1 - eps)
    bce = -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    assert losses.get("binary_crossentropy")(y, Tensor(p)).item() == pytest.approx(bce, rel=1e-5)
    q = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], np.float32)
    ids = np.array([2, 0])
    onehot = utils.to_categorical(ids, 3)
    ref = -np.mean(np.log(q[[0, 1], ids]))
    assert losses.get("categorical_crossentropy")(onehot, Tensor(q)).item() == pytest.approx(ref, rel=1e-5)
    assert losses.get("sparse_categorical_crossentropy")(ids, Tensor(q)).item() == pytest.approx(ref, rel=1e-5)
    z = np.log(q)
    logits = losses.SparseCategoricalCrossentropy(from_logits=True)(ids, Tensor(z)).item()
    assert logits == pytest.approx(ref, rel=1e-5)
    assert losses.get("mse")(np.array([1.0, 2.0]), Tensor(np.array([[0.0], [4.0]]))).item() == pytest.approx(2.5)
    assert losses.get("mae")(np.array([1.0, 2.0]), Tensor(np.array([[0.0], [4.0]]))).item() == pytest.approx(1.5)
    m = metrics.get("accuracy")
    m.update_state(np.array([2, 1]), q)
    assert m.result() == 0.5


def test_custom_loss_function_and_metric_objects():
    def my_loss(y_true, y_pred):
        return ((y_pred - y_true.reshape(y_pred.shape)) ** 2).mean(axis=-1)

    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(optimizer=optimizers.SGD(0.1), loss=my_loss, metrics=["mae", metrics.Precision()])
    x = rand(16, 2)
    y = (x @ np.array([1.0, -1.0]) > 0).astype(np.float32)
    hist = model.fit(x, y, epochs=3, verbose=0)
    assert set(hist.history) == {"loss", "mae", "precision"}
    assert hist.history["loss"][-1] < hist.history["loss"][0]


# ------------------------------------------------------------------------------------------------------------
# training: learning tests (fixed seeds; numbers measured on this code)
# ------------------------------------------------------------------------------------------------------------
def trend_data(n, seed=0):
    """Rising (1) or falling (0) noisy series with a random offset: only the sequence tells the class."""
    r = np.random.default_rng(seed)
    y = r.integers(0, 2, n)
    t = np.linspace(0, 1, 10)
    slope = np.where(y == 1, 1.0, -1.0)[:, None] * r.uniform(0.3, 1.0, (n, 1))
    x = slope * t + r.normal(0, 0.2, (n, 10)) + r.uniform(-0.5, 0.5, (n, 1))
    return x[:, :, None].astype(np.float32), y.astype(np.float32)


def test_binary_sequence_classification_learns():
    """LSTM(50) + Dense(1, sigmoid) + rmsprop: 15 epochs of 256 series reach 0.98 validation accuracy
    (measured; asserted ≥ 0.9), from 0.5 at chance."""
    x, y = trend_data(320)
    model = Sequential([LSTM(50, input_shape=(10, 1)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x[:256], y[:256], epochs=15, batch_size=32, validation_data=(x[256:], y[256:]), verbose=0)
    assert list(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(hist.history["loss"]) == 15
    assert hist.history["val_accuracy"][-1] >= 0.9
    loss, acc = model.evaluate(x[256:], y[256:])
    assert acc == pytest.approx(hist.history["val_accuracy"][-1])
    assert loss == pytest.approx(hist.history["val_loss"][-1], rel=1e-5)
    assert model.predict(x[:5]).shape == (5, 1)


def test_digit_rows_classification_learns():
    """scikit-learn's 8x8 digits as 8 steps of 8 pixels: LSTM(32) + Dense(10, softmax) + Adam(0.01), 8 epochs:
    test accuracy 0.95 (measured; asserted ≥ 0.9)."""
    pytest.importorskip("sklearn")
    (xt, yt), (xv, yv) = digits.load_data()
    assert xt.shape == (1437, 8, 8) and xv.shape == (360, 8, 8)
    model = Sequential([LSTM(32, input_shape=(8, 8)), Dense(10, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(xt / 16.0, yt, epochs=8, batch_size=32, verbose=0)
    assert model.evaluate(xv / 16.0, yv)[1] >= 0.9


def test_training_is_reproducible_with_manual_seed():
    x, y = trend_data(64)

    def run():
        manual_seed(5)
        model = Sequential([LSTM(8, input_shape=(10, 1), dropout=0.2, recurrent_dropout=0.2), Dropout(0.3),
                            Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model.fit(x, y, epochs=2, batch_size=16, verbose=0).history["loss"]

    assert run() == run()


def test_early_stopping_restores_best_weights_and_checkpoint_saves_best(tmp_path):
    x, y = trend_data(96)
    model = Sequential([LSTM(4, input_shape=(10, 1)), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(learning_rate=5.0), loss="binary_crossentropy", metrics=["accuracy"])
    path = str(tmp_path / "best-{epoch:02d}.weights.h5")
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    ckpt = callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    hist = model.fit(x[:64], y[:64], epochs=30, validation_data=(x[64:], y[64:]), callbacks=[stop, ckpt], verbose=0)
    val = hist.history["val_loss"]
    assert len(val) < 30 and stop.stopped_epoch == len(val) - 1
    best = int(np.argmin(val))
    assert model.evaluate(x[64:], y[64:])[0] == pytest.approx(val[best], rel=1e-5)
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved[-1] == f"best-{best + 1:02d}.weights.h5"
    fresh = Sequential([LSTM(4, input_shape=(10, 1)), Dense(1, activation="sigmoid")])
    fresh.load_weights(str(tmp_path / saved[-1]))
    np.testing.assert_allclose(fresh.predict(x[64:]), model.predict(x[64:]), rtol=1e-6)


def test_progress_bar_live_on_a_terminal_or_in_a_notebook_and_a_line_per_epoch_otherwise(monkeypatch, capsys):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    class OutStream(io.StringIO):  # what a Jupyter kernel's sys.stdout looks like: isatty() False
        __module__ = "ipykernel.iostream"

    x, y = trend_data(40)
    model = Sequential([SimpleRNN(3, input_shape=(10, 1)), Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    line = (r"2/2 ━{20} \d+s \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - "
            r"val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}")
    model.fit(x, y, epochs=2, batch_size=16, verbose=1, validation_split=0.2)
    text = capsys.readouterr().out  # not a terminal: as Keras, the finished line of each epoch, no redrawing
    assert "\r" not in text and "\033" not in text
    assert len(re.findall("^" + line + "$", text, flags=re.M)) == 2 and text.count("Epoch ") == 2
    for stream, erase in ((Tty(), "\033[K"), (OutStream(), None)):
        monkeypatch.setattr("sys.stdout", stream)
        model.fit(x, y, epochs=2, batch_size=16, verbose=1, validation_split=0.2)
        text = stream.getvalue()
        assert "Epoch 1/2" in text and "Epoch 2/2" in text
        assert text.count("\r") == 6  # per epoch: redrawn after each of its 2 batches, then finished
        assert re.search(line, text)
        assert (erase in text) if erase else ("\033" not in text)  # a notebook gets no terminal escapes
    monkeypatch.setattr("sys.stdout", io.StringIO())
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert sys.stdout.getvalue() == ""


# ------------------------------------------------------------------------------------------------------------
# errors a tutorial reader hits
# ------------------------------------------------------------------------------------------------------------
def test_error_wrong_input_rank_and_shape():
    model = Sequential([LSTM(8, input_shape=(10, 1)), Dense(1)])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match=r'layer "sequential" is incompatible.*expected shape=\(None, 10, 1\), '
                                         r"found shape=\(4, 10\).*reshape"):
        model.predict(np.zeros((4, 10)))
    with pytest.raises(ValueError, match=r"found shape=\(4, 1, 10\).*x\.reshape\(\(-1, 10, 1\)\).*10 time steps"):
        model.fit(np.zeros((4, 1, 10)), np.zeros(4))
    with pytest.raises(ValueError, match=r'layer "lstm_1" is incompatible.*expected ndim=3, found ndim=2.*'
                                         r"x.reshape\(len\(x\), -1, 1\)"):
        Sequential([LSTM(8, input_shape=(10,))])
    with pytest.raises(ValueError, match=r'layer "lstm_3".*\(None, 8\).*"lstm_2".*return_sequences=True'):
        Sequential([LSTM(8, input_shape=(10, 1)), LSTM(4)])


def test_error_integer_labels_with_categorical_crossentropy():
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy.*to_categorical"):
        model.fit(rand(6, 4), np.array([0, 1, 2, 0, 1, 2]), verbose=0)
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="one-hot.*categorical_crossentropy"):
        model.fit(rand(6, 4), utils.to_categorical([0, 1, 2, 0, 1, 2]), verbose=0)
    with pytest.raises(ValueError, match=r"label value of 3 .*\[0, 3\)"):
        model.fit(rand(2, 4), np.array([0, 3]), verbose=0)


def test_error_label_count_and_fit_before_compile():
    model = Sequential([Dense(1, input_shape=(4,))])
    with pytest.raises(RuntimeError, match="You must compile your model"):
        model.fit(rand(5, 4), np.zeros(5))
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="(?s)Data cardinality is ambiguous.*'x' sizes: 5\n'y' sizes: 4"):
        model.fit(rand(5, 4), np.zeros(4))


@pytest.mark.parametrize("kind, make, known", [
    ("optimizer", lambda: Sequential([Dense(1)]).compile(optimizer="adamm", loss="mse"), "adam, adamw"),
    ("loss", lambda: Sequential([Dense(1)]).compile(loss="binary_cross_entropy"), "binary_crossentropy"),
    ("metric", lambda: Sequential([Dense(1)]).compile(loss="mse", metrics=["acuracy"]), "accuracy"),
    ("activation", lambda: LSTM(4, activation="gelu"), "relu, sigmoid, softmax, softplus, tanh"),
])
def test_error_unknown_names_list_the_known_ones(kind, make, known):
    with pytest.raises(ValueError, match=f"(?s){kind}.*Known.*{known}"):
        make()


def test_error_embedding_id_out_of_range():
    with pytest.raises(IndexError, match=r"token id 10 is not in \[0, 10\).*len\(tokenizer.word_index\) \+ 1"):
        Embedding(10, 2)(np.array([[1, 10]]))


# ------------------------------------------------------------------------------------------------------------
# preprocessing, utils, data sets
# ------------------------------------------------------------------------------------------------------------
def test_tokenizer_and_pad_sequences_as_keras():
    tok = Tokenizer(num_words=4, oov_token="<OOV>")
    tok.fit_on_texts(["The cat sat.", "The cat ran, the dog sat!"])
    assert tok.word_index == {"<OOV>": 1, "the": 2, "cat": 3, "sat": 4, "ran": 5, "dog": 6}
    assert tok.texts_to_sequences(["the dog sat on the cat"]) == [[2, 1, 1, 1, 2, 3]]
    assert Tokenizer().texts_to_sequences(["x"]) == [[]]
    seqs = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=4),
                                  [[0, 1, 2, 3], [0, 0, 4, 5], [7, 8, 9, 10]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=4, padding="post", truncating="post", value=-1),
                                  [[1, 2, 3, -1], [4, 5, -1, -1], [6, 7, 8, 9]])
    assert pad_sequences(seqs).shape == (3, 5) and pad_sequences(seqs).dtype == np.int32


def test_to_categorical():
    np.testing.assert_array_equal(utils.to_categorical([0, 2, 1]), np.eye(3)[[0, 2, 1]])
    assert utils.to_categorical(np.array([[1], [0]]), 4).shape == (2, 4)
    with pytest.raises(ValueError, match=r"class id 5 is outside \[0, 3\)"):
        utils.to_categorical([5], 3)


def test_mnist_reads_a_local_file_and_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match=r"(?s)never downloads.*home/datasets/mnist\.npz.*digits\.load_data"):
        mnist.load_data()
    f = tmp_path / "mnist.npz"
    np.savez(f, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.array([1, 2], np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.array([3], np.uint8))
    (xt, yt), (xv, yv) = mnist.load_data(str(f))
    assert xt.shape == (2, 28, 28) and yv.tolist() == [3]


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` and find_spec fail, as if absent
    with pytest.raises(ImportError, match=r'pip install -e "\.\[examples\]"'):
        digits.load_data()


def test_layers_namespace_and_names():
    assert {"LSTM", "GRU", "SimpleRNN", "Dense", "Embedding", "Dropout", "Bidirectional", "TimeDistributed",
            "Input"} <= set(layers.__all__)
    assert [SimpleRNN(2).name, TimeDistributed(Dense(1)).name, LSTM(1).name, LSTM(1).name] == \
        ["simple_rnn", "time_distributed", "lstm", "lstm_1"]
