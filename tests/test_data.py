"""tinygrad_lstm.data: offline loaders (shapes, dtypes, determinism), the adding problem's baseline, batching,
and the error a missing optional dependency gives."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tinygrad_lstm import manual_seed
from tinygrad_lstm.data import (
    BASELINE_MSE,
    CharVocab,
    adding_problem,
    batches,
    load_digits_sequences,
    load_sunspots,
    load_text,
    pad_to_lengths,
)

# ----- batching -------------------------------------------------------------------------------------------------


def test_batches_cover_every_row_once_aligned():
    x = np.arange(10)
    y = x * 10
    got = list(batches(x, y, batch_size=4, seed=0))
    assert [len(b[0]) for b in got] == [4, 4, 2]
    xs = np.concatenate([b[0] for b in got])
    assert sorted(xs.tolist()) == list(range(10)) and xs.tolist() != list(range(10))  # shuffled, complete
    for xb, yb in got:
        np.testing.assert_array_equal(yb, xb * 10)


def test_batches_seed_and_global_generator_are_deterministic():
    x = np.arange(50)
    first = [b[0].tolist() for b in batches(x, batch_size=8, seed=3)]
    assert first == [b[0].tolist() for b in batches(x, batch_size=8, seed=3)]
    assert first != [b[0].tolist() for b in batches(x, batch_size=8, seed=4)]
    manual_seed(7)
    a = [b[0].tolist() for b in batches(x, batch_size=8)]
    manual_seed(7)
    assert a == [b[0].tolist() for b in batches(x, batch_size=8)]


def test_batches_no_shuffle_drop_last_and_errors():
    x = np.arange(10).reshape(10, 1)
    got = list(batches(x, batch_size=4, shuffle=False, drop_last=True))
    assert [b[0][:, 0].tolist() for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="differ in length"):
        next(batches(np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(np.zeros(3), batch_size=0))


def test_pad_to_lengths_post_pads():
    seqs = [np.ones((3, 2)), np.full((1, 2), 2.0), np.full((2, 2), 3.0)]
    padded, lengths = pad_to_lengths(seqs, value=-1, dtype=np.float32)
    assert padded.shape == (3, 3, 2) and padded.dtype == np.float32
    assert lengths.tolist() == [3, 1, 2] and lengths.dtype == np.int64
    assert (padded[1, 1:] == -1).all() and (padded[1, 0] == 2).all() and (padded[2, 2] == -1).all()
    ids, lens = pad_to_lengths([[1, 2, 3], [4]])
    assert ids.tolist() == [[1, 2, 3], [4, 0, 0]] and ids.dtype.kind == "i" and lens.tolist() == [3, 1]
    with pytest.raises(ValueError, match="trailing shapes"):
        pad_to_lengths([np.zeros((2, 3)), np.zeros((2, 4))])


def test_pad_to_lengths_feeds_lstm_lengths():
    from tinygrad_lstm import nn

    padded, lengths = pad_to_lengths([np.ones((4, 3)), np.ones((2, 3))], dtype=np.float32)
    out, _ = nn.LSTM(3, 5, batch_first=True)(padded, lengths=lengths)
    assert out.shape == (2, 4, 5) and (out.numpy()[1, 2:] == 0).all()


# ----- text -----------------------------------------------------------------------------------------------------


def test_load_text_default_corpus_is_deterministic_prose():
    text = load_text()
    assert len(text) > 100_000 and text == load_text()
    assert "statement" in text


def test_load_text_from_file(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("héllo wörld\n", encoding="utf-8")
    assert load_text(p) == "héllo wörld\n"


def test_char_vocab_round_trip():
    v = CharVocab("hello world")
    assert len(v) == len(set("hello world")) and v.chars == sorted(set("hello world"))
    ids = v.encode("low")
    assert ids.dtype == np.int64 and v.decode(ids) == "low" and v.decode(ids.tolist()) == "low"
    with pytest.raises(KeyError, match="'z'"):
        v.encode("z")


# ----- digits ---------------------------------------------------------------------------------------------------


def test_digits_sequences_shapes_dtypes_split():
    x_tr, y_tr, x_te, y_te = load_digits_sequences()
    assert x_tr.shape == (1347, 8, 8) and x_te.shape == (450, 8, 8)
    assert x_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert 0.0 <= x_tr.min() and x_tr.max() == 1.0
    counts = np.bincount(y_te, minlength=10)
    assert counts.min() >= 40 and counts.max() <= 50  # stratified: ~45 of each class
    again = load_digits_sequences()
    assert all(np.array_equal(a, b) for a, b in zip(again, (x_tr, y_tr, x_te, y_te)))
    other = load_digits_sequences(seed=1)
    assert not np.array_equal(other[1], y_tr)
    # train and test are disjoint: no test image appears in train
    tr = {a.tobytes() for a in x_tr}
    assert sum(a.tobytes() in tr for a in x_te) <= 5  # the data set itself has a few duplicate images


def test_digits_raw_file_reads_as_scikit_learn_ships_it():
    from tinygrad_lstm.data.digits import _raw_digits

    images, labels = _raw_digits()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,) and images.max() == 16
    assert images[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0] and labels[0] == 0  # the data set's first digit
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


# ----- adding problem -------------------------------------------------------------------------------------------


def test_adding_problem_shapes_markers_targets():
    x, y = adding_problem(500, 30, seed=0)
    assert x.shape == (500, 30, 2) and x.dtype == np.float32 and y.shape == (500,) and y.dtype == np.float32
    markers = x[:, :, 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :15].sum(axis=1) == 1).all() and (markers[:, 15:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y, (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert 0 <= x[:, :, 0].min() and x[:, :, 0].max() < 1


def test_adding_problem_determinism():
    a, b = adding_problem(20, 10, seed=5), adding_problem(20, 10, seed=5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], adding_problem(20, 10, seed=6)[0])
    manual_seed(1)
    c = adding_problem(20, 10)
    manual_seed(1)
    assert np.array_equal(c[0], adding_problem(20, 10)[0])
    with pytest.raises(ValueError):
        adding_problem(5, 1)


def test_adding_problem_baseline_is_one_sixth():
    _, y = adding_problem(200_000, 4, seed=0)
    mse = float(((y - 1.0) ** 2).mean())
    assert abs(mse - 1 / 6) < 0.003 and abs(BASELINE_MSE - 1 / 6) < 1e-12
    assert mse < float(((y - 0.8) ** 2).mean())  # 1.0, the mean, is the best constant answer


# ----- sunspots -------------------------------------------------------------------------------------------------


def test_sunspots():
    years, values = load_sunspots()
    assert years.dtype == np.int64 and values.dtype == np.float32
    assert len(years) == len(values) == 309 and years[0] == 1700 and years[-1] == 2008
    assert (np.diff(years) == 1).all() and values.min() >= 0 and 100 < values.max() < 250
    assert values[:3].tolist() == [5.0, 11.0, 16.0]


# ----- missing optional dependencies ----------------------------------------------------------------------------


@pytest.mark.parametrize(("package", "loader"), [("sklearn", load_digits_sequences), ("statsmodels", load_sunspots)])
def test_missing_optional_dependency_names_the_extra(monkeypatch, package, loader):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` and find_spec fail, as if absent
    with pytest.raises(ImportError, match=r"examples.*pip install -e \"\.\[examples\]\""):
        loader()


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path):
    from tinygrad_lstm import plots

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"matplotlib.*examples"):
        plots.plot_history({"loss": [1.0, 0.5]}, tmp_path / "h.png")
