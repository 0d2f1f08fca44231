"""Keras programs written as a Keras user writes them (only the import line differs): a seq2seq model with
RepeatVector and TimeDistributed(Dense) that learns to reverse sequences, and functional models with two inputs
or two outputs, trained through the same fit/evaluate/predict as Sequential."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lstm import keras  # a Keras user writes: import keras
from tinygrad_lstm.keras import layers  # from keras import layers


@pytest.fixture(autouse=True)
def _fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)


def reversal_data(n, rng, steps=4, vocab=5):
    ids = rng.integers(0, vocab, (n, steps))
    return keras.utils.to_categorical(ids, vocab), keras.utils.to_categorical(ids[:, ::-1], vocab)


def test_seq2seq_with_repeat_vector_learns_to_reverse_sequences():
    rng = np.random.default_rng(0)
    x, y = reversal_data(1000, rng)
    x_test, y_test = reversal_data(200, rng)
    model = keras.Sequential([
        keras.Input(shape=(4, 5)),
        layers.LSTM(32),                       # encoder: the whole sequence into one vector
        layers.RepeatVector(4),                # that vector at each output step
        layers.LSTM(32, return_sequences=True),
        layers.TimeDistributed(layers.Dense(5, activation="softmax")),
    ])
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predicted = model.predict(x_test, verbose=0).argmax(-1)
    assert predicted.shape == (200, 4)
    assert np.isclose(accuracy, (predicted == y_test.argmax(-1)).mean())  # per-step accuracy, as Keras
    assert accuracy > 0.9, accuracy  # chance is 0.2


def two_input_data(n, rng):
    series = rng.standard_normal((n, 6, 2)).astype("float32")
    meta = rng.standard_normal((n, 3)).astype("float32")
    label = (series[:, :, 0].sum(1) + 2 * meta[:, 0] > 0).astype("float32")
    return series, meta, label


def two_input_model():
    series = keras.Input(shape=(6, 2), name="series")
    meta = keras.Input(shape=(3,), name="meta")
    h = layers.LSTM(8)(series)
    m = layers.Dense(4, activation="relu")(meta)
    joined = layers.Concatenate()([h, m])
    output = layers.Dense(1, activation="sigmoid")(joined)
    return keras.Model(inputs=[series, meta], outputs=output)


def test_functional_model_with_two_inputs_fit_evaluate_predict_summary(capsys):
    rng = np.random.default_rng(0)
    xs, xm, y = two_input_data(512, rng)
    ts, tm, ty = two_input_data(128, rng)
    model = two_input_model()
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "functional"' in text and "Connected to" in text
    assert "│ concatenate (Concatenate)       │ (None, 12)" in text and "lstm[0][0], dense[0][0]" in text
    assert "Total params: 381" in text  # LSTM 4·8·(2+8+1) = 352, Dense 4·(3+1) = 16, Dense 12 + 1 = 13
    assert [lay.name for lay in model.layers] == ["series", "meta", "lstm", "dense", "concatenate", "dense_1"]

    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit([xs, xm], y, epochs=6, batch_size=32, validation_split=0.2, verbose=0)
    assert set(history.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    loss, accuracy = model.evaluate([ts, tm], ty, verbose=0)
    p = model.predict([ts, tm], verbose=0)
    assert p.shape == (128, 1)
    np.testing.assert_array_equal(p, model.predict({"series": ts, "meta": tm}, verbose=0))  # by input name
    q = np.clip(p[:, 0], 1e-7, 1 - 1e-7)
    assert np.isclose(loss, -np.mean(ty * np.log(q) + (1 - ty) * np.log(1 - q)), atol=1e-5)
    assert np.isclose(accuracy, np.mean((p[:, 0] > 0.5) == ty))
    assert accuracy > 0.85, accuracy


def test_functional_chain_trains_exactly_like_sequential():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5, 2)).astype("float32")
    y = rng.standard_normal((64, 1)).astype("float32")
    inputs = keras.Input(shape=(5, 2))
    outputs = layers.Dense(1)(layers.GRU(4)(inputs))
    functional = keras.Model(inputs, outputs)
    sequential = keras.Sequential([keras.Input(shape=(5, 2)), layers.GRU(4), layers.Dense(1)])
    sequential.set_weights(functional.get_weights())
    for m in (functional, sequential):
        m.compile(optimizer="adam", loss="mse")
        m.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(functional.get_weights(), sequential.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(functional.predict(x, verbose=0), sequential.predict(x, verbose=0))
    np.testing.assert_array_equal(functional(x).data, sequential(x).data)  # calling the model on data


def test_two_outputs_losses_add_up_and_encoder_states_feed_a_decoder():
    rng = np.random.default_rng(0)
    enc_in, dec_in = keras.Input(shape=(5, 3)), keras.Input(shape=(4, 2))
    _, h, c = layers.LSTM(6, return_state=True)(enc_in)
    decoded = layers.LSTM(6, return_sequences=True)(dec_in, initial_state=[h, c])  # keras-io's seq2seq shape
    steps = layers.TimeDistributed(layers.Dense(2), name="steps")(decoded)
    total = layers.Dense(1, name="total")(layers.GlobalAveragePooling1D()(decoded))
    model = keras.Model([enc_in, dec_in], [steps, total])
    xe, xd = rng.standard_normal((16, 5, 3)), rng.standard_normal((16, 4, 2))
    ys, yt = rng.standard_normal((16, 4, 2)), rng.standard_normal((16, 1))
    model.compile(optimizer="sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    ps, pt = model.predict([xe, xd], verbose=0)
    assert ps.shape == (16, 4, 2) and pt.shape == (16, 1)
    expected = np.mean((ps - ys) ** 2) + 0.5 * np.mean(np.abs(pt - yt))
    assert np.isclose(model.evaluate([xe, xd], [ys, yt], batch_size=16, verbose=0), expected, rtol=1e-5)
    # the encoder is trained through the states it hands the decoder
    before = model.get_layer("lstm").get_weights()[0].copy()
    model.fit([xe, xd], {"steps": ys, "total": yt}, epochs=1, verbose=0)
    assert not np.array_equal(before, model.get_layer("lstm").get_weights()[0])


def test_functional_errors_say_what_is_wrong():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)
    model = keras.Model([a, b], out)
    with pytest.raises(ValueError, match=r"expects 2 input\(s\), but it received 1"):
        model(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\), found shape=\(2, 4\)"):
        model.predict([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(TypeError, match="has no value"):
        bool(a)
    with pytest.raises(TypeError, match="not a keras.Input"):
        keras.Sequential([out, layers.Dense(1)])
    with pytest.raises(ValueError, match="used 2 times"):
        x = keras.Input(shape=(2,))
        keras.Model(x, layers.Dense(1, name="d")(layers.Dense(2, name="d")(x)))


def test_a_model_inside_a_model_follows_training_and_freezing():
    inner = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(4), layers.BatchNormalization()])
    x = keras.Input(shape=(4,))
    model = keras.Model(x, layers.Dense(1)(inner(x)))
    bn = inner.layers[1]
    model.trainable = False
    model.trainable = True
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2  # moving stats stay fixed
    data = np.random.default_rng(0).standard_normal((8, 4)).astype("float32") + 3
    model.predict(data, verbose=0)
    assert np.array_equal(bn.get_weights()[2], np.zeros(4))  # inference: the moving mean is only read
    model.compile(optimizer="sgd", loss="mse")
    model.fit(data, np.zeros((8, 1)), batch_size=8, verbose=0)  # training reaches the inner model's layers
    assert not np.array_equal(bn.get_weights()[2], np.zeros(4))
    inner.trainable = False  # freezing the inner model freezes its layers: BatchNormalization in inference mode
    before = bn.get_weights()[2].copy()
    model.fit(data, np.zeros((8, 1)), batch_size=8, verbose=0)
    assert np.array_equal(bn.get_weights()[2], before) and len(model.trainable_weights) == 2
