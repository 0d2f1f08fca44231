"""save / load: exact round trips, atomic writes, and clear errors for files that aren't our checkpoints."""

from __future__ import annotations

import math
import os
import pickle
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lstm import Tensor, serialization
from tinygrad_lstm.optim import Adam, RMSprop
from tinygrad_lstm.serialization import CheckpointError, load, save


def assert_same(a, b, where="obj"):
    """Equal values *and* types, recursively: tuples stay tuples, float32 stays float32, 1 is not 1.0."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and (a == b or (a != a and b != b)), where
    elif isinstance(a, Tensor):
        assert (a.requires_grad, a.name) == (b.requires_grad, b.name), where
        assert_same(a.data, b.data, where + ".data")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where  # same keys, same order
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def roundtrip(obj, path):
    save(obj, path)
    out = load(path)
    assert_same(obj, out)
    return out


def test_model_state_dict(tmp_path):
    rng = np.random.default_rng(0)
    sd = {
        "lstm.weight_ih_l0": rng.standard_normal((16, 4)).astype(np.float32),
        "lstm.bias_ih_l0": rng.standard_normal(16).astype(np.float32),
        "head.weight": rng.standard_normal((2, 4)),  # float64
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "steps": np.arange(5),
        "mask": np.array([True, False]),
        "half": np.ones(3, dtype=np.float16),
        "strided": rng.standard_normal((4, 6))[::2, ::3],
        "fortran": np.asfortranarray(rng.standard_normal((3, 5))),
        "big_endian": np.arange(4, dtype=">f8"),
    }
    out = roundtrip(sd, tmp_path / "model.npz")
    assert out["lstm.weight_ih_l0"].dtype == np.float32
    out["head.weight"][0, 0] = 99.0  # loaded arrays are writable and independent
    # an ordinary .npz: numpy reads the arrays under their own names
    with np.load(tmp_path / "model.npz") as npz:
        np.testing.assert_array_equal(npz["lstm.weight_ih_l0"], sd["lstm.weight_ih_l0"])


def test_optimizer_state_dict_and_resume(tmp_path):
    params = [Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True),
              Tensor(np.ones(3, dtype=np.float32), requires_grad=True)]
    opt = Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], amsgrad=True)
    for p in params:
        p.grad = np.full(p.shape, 0.5, dtype=np.float32)
    opt.step()
    sd = opt.state_dict()
    out = roundtrip(sd, tmp_path / "optim.npz")
    assert list(out["state"]) == [0, 1]  # int keys stay ints
    assert out["param_groups"][0]["betas"] == (0.9, 0.999)  # tuples stay tuples
    assert out["state"][0]["exp_avg"].dtype == np.float32
    assert type(out["state"][0]["step"]) is int
    Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(out)


def test_nested_plain_values(tmp_path):
    obj = {
        "epoch": 7, "best": float("inf"), "worst": -math.inf, "nan": math.nan, "neg_zero": -0.0,
        "tiny": 5e-324, "third": 1 / 3, "huge": 2**80, "flag": True, "none": None, "name": "lstm/ü 🚀",
        "empty": {}, "nothing": [], "unit": (), "nested": [(1, 2.0, ("x", None)), {"a": [np.float32(1.5)]}],
        0: "int key", 1.5: "float key", None: "none key", True: "bool key", (1, "a"): "tuple key",
        "np_scalars": [np.float64(0.1), np.int64(-3), np.bool_(True), np.float32(np.nan)],
        "odd/key names": {"": np.ones(2), "a/b": np.zeros(1), "__tinygrad_lstm__": np.arange(2)},
        "same_entry": [np.ones(1), np.ones(1)], np.int32(4): "numpy key",
    }
    roundtrip(obj, tmp_path / "nested.npz")


def test_top_level_values(tmp_path):
    for i, obj in enumerate([np.arange(3.0), [1, 2], (np.ones(2),), 5, None, "s", {}]):
        roundtrip(obj, tmp_path / f"v{i}.npz")


def test_tensors_and_ordered_dicts(tmp_path):
    t = Tensor(np.ones(3, dtype=np.float32), requires_grad=True, name="w")
    t.grad = np.ones(3, dtype=np.float32)
    save({"w": t, "b": Tensor([1.0])}, tmp_path / "t.npz")
    out = load(tmp_path / "t.npz")
    assert isinstance(out["w"], Tensor) and out["w"].requires_grad and out["w"].name == "w"
    assert out["w"].grad is None and out["w"].dtype == np.float32 and out["w"].data is not t.data
    np.testing.assert_array_equal(out["w"].data, t.data)
    save(OrderedDict([("b", np.ones(1)), ("a", np.zeros(1))]), tmp_path / "od.npz")
    od = load(tmp_path / "od.npz")
    assert type(od) is dict and list(od) == ["b", "a"]  # dict subclasses come back as dicts, in order


def test_nn_module_state_dict(tmp_path):
    nn = pytest.importorskip("tinygrad_lstm.nn")
    model = nn.Linear(3, 2)
    save(model.state_dict(), tmp_path / "m.npz")
    other = nn.Linear(3, 2)
    other.load_state_dict(load(tmp_path / "m.npz"))
    for (n, p), (m, q) in zip(model.named_parameters(), other.named_parameters()):
        assert n == m
        np.testing.assert_array_equal(p.data, q.data)


def test_exact_path_and_pathlike(tmp_path):
    save({"a": np.ones(2)}, str(tmp_path / "ckpt.bin"))
    assert sorted(os.listdir(tmp_path)) == ["ckpt.bin"]
    assert_same(load(tmp_path / "ckpt.bin"), {"a": np.ones(2)})
    save({"a": np.zeros(2)}, tmp_path / "noext")
    assert sorted(os.listdir(tmp_path)) == ["ckpt.bin", "noext"]
    assert_same(load(str(tmp_path / "noext")), {"a": np.zeros(2)})


def test_overwrite(tmp_path):
    path = tmp_path / "c.npz"
    save({"v": 1}, path)
    save({"v": 2}, path)
    assert load(path) == {"v": 2}
    assert os.listdir(tmp_path) == ["c.npz"]


# ----- atomic writes ----------------------------------------------------------------------------------------
def _crash_mid_write(f, arrays):
    f.write(b"PK\x03\x04 half a zip file")
    raise OSError(28, "No space left on device")


def _interrupt_mid_write(f, arrays):
    f.write(b"PK\x03\x04 partial")
    raise KeyboardInterrupt


def _fail(*args, **kwargs):
    raise OSError(5, "Input/output error")


@pytest.mark.parametrize(("target", "replacement", "exc"), [
    ("_write_npz", _crash_mid_write, OSError),
    ("_write_npz", _interrupt_mid_write, KeyboardInterrupt),
    ("os.fsync", _fail, OSError),
    ("os.replace", _fail, OSError),
], ids=["write", "ctrl-c", "fsync", "replace"])
def test_crash_mid_save_keeps_previous_file(tmp_path, monkeypatch, target, replacement, exc):
    path = tmp_path / "ckpt.npz"
    before = {"weights": np.arange(6.0).reshape(2, 3), "epoch": 3}
    save(before, path)
    original = path.read_bytes()
    if target.startswith("os."):
        monkeypatch.setattr(serialization.os, target[3:], replacement)
    else:
        monkeypatch.setattr(serialization, target, replacement)
    with pytest.raises(exc):
        save({"weights": np.zeros((2, 3)), "epoch": 4}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind
    assert path.read_bytes() == original
    assert_same(load(path), before)


def test_crash_on_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "_write_npz", _crash_mid_write)
    with pytest.raises(OSError, match="No space left"):
        save({"a": np.ones(1)}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


def test_unsupported_values_raise_before_writing(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match=r"can't save a set at obj\['opt'\]\[1\]"):
        save({"opt": [1, {2, 3}]}, path)
    with pytest.raises(TypeError, match="dtype object"):
        save({"a": np.array([1, "x"], dtype=object)}, path)
    with pytest.raises(TypeError, match="dict key"):
        save({frozenset(): 1}, path)
    with pytest.raises(TypeError, match="can't save a builtin_function_or_method at obj\\[0\\]"):
        save([len], path)
    assert os.listdir(tmp_path) == []


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({}, tmp_path / "no" / "such" / "dir.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


# ----- files that are not (complete) checkpoints ------------------------------------------------------------
@pytest.fixture
def good_bytes(tmp_path):
    params = [Tensor(np.ones((8, 8)), requires_grad=True)]
    opt = RMSprop(params, momentum=0.9, centered=True)
    params[0].grad = np.ones((8, 8))
    opt.step()
    path = tmp_path / "good.npz"
    save({"model": {"w": np.full((8, 8), 7.25)}, "optim": opt.state_dict()}, path)
    return path.read_bytes()


def test_truncated_files(tmp_path, good_bytes):
    path = tmp_path / "cut.npz"
    for n in [0, 1, 4, 10, 100, len(good_bytes) // 2, len(good_bytes) - 22, len(good_bytes) - 1]:
        path.write_bytes(good_bytes[:n])
        with pytest.raises(CheckpointError) as info:
            load(path)
        assert str(path) in str(info.value), n
        assert ("truncated" in str(info.value)) or ("empty" in str(info.value)) or n < 4, str(info.value)


def test_corrupted_byte_is_caught_by_crc(tmp_path, good_bytes):
    data = bytearray(good_bytes)
    i = data.index(np.full((8, 8), 7.25).tobytes())  # inside the "model/w" array
    data[i + 3] ^= 0x40
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="CRC"):
        load(path)


def _foreign_files(tmp_path):
    """(name, writer) for files that load must refuse."""
    def npz(p):
        with open(p, "wb") as f:
            np.savez(f, weights=np.ones(3))

    def npy(p):
        with open(p, "wb") as f:
            np.save(f, np.ones(3))

    def zip_with_pickle(p):  # the layout of a torch.save file
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr("archive/data.pkl", pickle.dumps({"a": 1}))

    def manifest(raw):  # an .npz holding only a tinygrad_lstm manifest entry with these bytes
        def write(p):
            with open(p, "wb") as f:
                np.savez(f, __tinygrad_lstm__=np.frombuffer(raw, dtype=np.uint8))
        return write

    return [
        ("random", lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)), "not an .npz"),
        ("text", lambda p: p.write_text("hello, world\n"), "not an .npz"),
        ("pickle", lambda p: p.write_bytes(pickle.dumps({"w": np.ones(3)})), "pickle"),
        ("npz", npz, r"not written by tinygrad_lstm\.save \(entries: weights\)"),
        ("npy", npy, r"single-array \.npy"),
        ("torch-like zip", zip_with_pickle, "PyTorch"),
        ("format tag", manifest(b'{"format": "other", "root": 1}'), "wrong format tag"),
        ("version", manifest(b'{"format": "tinygrad_lstm.checkpoint", "version": 99, "root": 1}'),
         "version 99 is newer"),
        ("manifest json", manifest(b"{not json"), "unreadable manifest"),
        ("missing array",
         manifest(b'{"format": "tinygrad_lstm.checkpoint", "version": 1, "root": {"$array": "gone"}}'),
         "'gone' that is not in the file"),
    ]


@pytest.mark.parametrize("case", range(10))
def test_foreign_files(tmp_path, case):
    name, write, pattern = _foreign_files(tmp_path)[case]
    path = tmp_path / "foreign.npz"
    write(path)
    with pytest.raises(CheckpointError, match=pattern) as info:
        load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError) and info.value.path == str(path)


def test_never_unpickles(tmp_path, monkeypatch):
    """An entry holding a pickled object array (as numpy.save writes one) must be refused, not unpickled."""
    def boom(*a, **k):
        raise AssertionError("load called pickle")

    raw = b'{"format": "tinygrad_lstm.checkpoint", "version": 1, "root": {"$array": "evil"}}'
    path = tmp_path / "evil.npz"
    with open(path, "wb") as f:
        np.savez(f, __tinygrad_lstm__=np.frombuffer(raw, dtype=np.uint8),
                 evil=np.array([{"x": 1}], dtype=object))
    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    with pytest.raises(CheckpointError, match="pickle"):
        load(path)


def test_torch_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(CheckpointError, match="PyTorch"):
        load(path)


# ----- property: anything we accept comes back the same -----------------------------------------------------
_floats = st.floats(allow_nan=True, allow_infinity=True)
_keys = st.one_of(st.none(), st.booleans(), st.integers(), _floats.filter(lambda x: x == x),
                  st.text(max_size=8))
_arrays = st.builds(
    lambda shape, dtype, seed: np.random.default_rng(seed).standard_normal(shape).astype(dtype),
    st.lists(st.integers(0, 3), max_size=3).map(tuple), st.sampled_from(["f4", "f8", "i4", "u1", "?"]),
    st.integers(0, 2**32 - 1))
_leaves = st.one_of(st.none(), st.booleans(), st.integers(), _floats, st.text(max_size=8), _arrays)
_values = st.recursive(_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
    st.dictionaries(_keys, inner, max_size=4)), max_leaves=12)


@given(_values)
def test_roundtrip_property(obj):
    with tempfile.TemporaryDirectory() as d:
        roundtrip(obj, Path(d) / "p.npz")
