"""model.save("m.keras") / keras.models.load_model / keras.saving.load_model: identical predictions, the optimizer
state restored (training continues exactly as it would have), atomic writes, no pickle; and plot_model."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

from tinygrad_lstm import keras
from tinygrad_lstm.keras import layers


@pytest.fixture(autouse=True)
def _fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)


def functional_model():
    series, meta = keras.Input(shape=(6, 2), name="series"), keras.Input(shape=(3,), name="meta")
    h = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(series)
    h = layers.Conv1D(3, 2, padding="causal", activation="relu")(h)
    h = layers.BatchNormalization()(h)
    h = layers.GlobalMaxPooling1D()(h)
    m = layers.LayerNormalization()(layers.Dense(4, activation="tanh")(meta))
    out = layers.Dense(1, activation="sigmoid")(layers.Concatenate()([h, m]))
    return keras.Model([series, meta], out)


def data(n=48, seed=0):
    r = np.random.default_rng(seed)
    xs, xm = r.standard_normal((n, 6, 2)).astype("float32"), r.standard_normal((n, 3)).astype("float32")
    return [xs, xm], (xs[:, :, 0].sum(1) + xm[:, 0] > 0).astype("float32")


def continue_training(model, x, y):
    keras.utils.set_random_seed(5)  # the same shuffles for both copies
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    return model.get_weights()


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_functional_model_round_trip_predicts_and_trains_identically(tmp_path):
    x, y = data()
    model = functional_model()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:  # one file: JSON structure + .npy arrays, nothing pickled
        assert all(n.endswith(".npy") for n in z.namelist())
    loaded = keras.saving.load_model(path)
    assert type(loaded).__name__ == "Functional" and [lay.name for lay in loaded.layers] == \
        [lay.name for lay in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    assert loaded.metrics_names == ["loss", "accuracy"] and loaded.loss.name == "binary_crossentropy"
    # the restored Adam moments make the next epoch identical; a fresh optimizer would not
    fresh = keras.models.load_model(path, compile=False)
    fresh.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    assert_same_weights(continue_training(loaded, x, y), continue_training(model, x, y))
    assert not np.array_equal(continue_training(fresh, x, y)[0], model.get_weights()[0])


def test_sequential_round_trip_with_sgd_momentum_masking_and_wrappers(tmp_path):
    r = np.random.default_rng(1)
    ids, target = r.integers(0, 10, (32, 5)), r.standard_normal((32, 2)).astype("float32")
    ids[:, :2] = 0  # padding, masked by the Embedding
    model = keras.Sequential([layers.Embedding(10, 4, mask_zero=True), layers.TimeDistributed(layers.Dense(3)),
                              layers.GRU(3, return_sequences=True), layers.Permute((2, 1)),
                              layers.Reshape((-1,)), layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="mse")
    model.fit(ids, target, epochs=2, batch_size=8, verbose=0)  # built from the data, no declared input shape
    path = os.path.join(tmp_path, "seq.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0))
    assert_same_weights(continue_training(loaded, ids, target), continue_training(model, ids, target))


def test_save_is_atomic_and_checks_its_input(tmp_path, monkeypatch):
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2, activation=lambda t: t * 2)])
    path = tmp_path / "m.keras"
    path.write_bytes(b"the previous file")
    with pytest.raises(TypeError, match="without pickle"):
        model.save(path)  # a lambda activation can't be saved by name
    assert path.read_bytes() == b"the previous file" and os.listdir(tmp_path) == ["m.keras"]  # no temp file left
    with pytest.raises(ValueError, match=r"\.keras"):
        model.save(tmp_path / "m.h5")

    def crash(f, arrays):
        f.write(b"half a zip")
        raise OSError("disk full")

    from tinygrad_lstm import serialization

    with monkeypatch.context() as m:
        m.setattr(serialization, "_write_npz", crash)
        with pytest.raises(OSError, match="disk full"):
            keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)]).save(path)
    assert path.read_bytes() == b"the previous file" and os.listdir(tmp_path) == ["m.keras"]
    good = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    good.save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match="not a model written by model.save"):
        keras.models.load_model(tmp_path / "w.npz")
    with pytest.raises(FileExistsError):
        good.save(path, overwrite=False)


def test_plot_model_draws_the_layer_graph(tmp_path):
    model = functional_model()
    dot = keras.utils.model_to_dot(model, show_shapes=True)
    assert dot.count("->") == 9  # the data-flow arrows, one per layer input
    assert "Input shape: (None, 3), (None, 4)" in dot and "Output shape: (None, 7)" in dot
    from tinygrad_lstm.viz import find_renderer

    if find_renderer() is None:
        pytest.skip("no Graphviz renderer")
    path = tmp_path / "m.png"
    keras.utils.plot_model(model, str(path), show_shapes=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_checkpoint_saves_the_whole_model_to_a_keras_path(tmp_path):
    x, y = data(32)
    model = functional_model()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    path = str(tmp_path / "best.keras")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(path, monitor="loss")])
    np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))
