"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, unpack_sequence) and
PackedSequence input to nn.LSTM/GRU/RNN: against torch.nn.utils.rnn and torch's layers with copied weights
(float64), values and every gradient, unsorted batches included; plus errors and a torch-free order check."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_op

from tinygrad_lstm import Tensor, manual_seed, nn
from tinygrad_lstm.nn.utils import rnn

RTOL, ATOL = 1e-9, 1e-12


def _torch():
    return pytest.importorskip("torch")


def _rs(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _close(ours, theirs, what: str) -> None:
    a = ours.data if isinstance(ours, Tensor) else np.asarray(ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape}, torch {b.shape}"
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


def _same_packing(p, tp) -> None:
    np.testing.assert_array_equal(p.batch_sizes.data, tp.batch_sizes.numpy())
    for name in ("sorted_indices", "unsorted_indices"):
        ours, theirs = getattr(p, name), getattr(tp, name)
        assert (ours is None) == (theirs is None), name
        if ours is not None:
            np.testing.assert_array_equal(ours.data, theirs.numpy(), err_msg=name)


# ---------------------------------------------------------------------------------------------------------
# the functions
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 3, 1], True), ([3, 5, 1, 5], False),
                                                    ([2, 2, 2, 2], False), ([4], True)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_match_torch(lengths, enforce_sorted, batch_first):
    torch = _torch()
    tu = torch.nn.utils.rnn
    T, B = max(lengths) + 1, len(lengths)  # one step of padding past the longest
    x = _rs(1).standard_normal((B, T, 2) if batch_first else (T, B, 2))
    p = rnn.pack_padded_sequence(Tensor(x), lengths, batch_first, enforce_sorted)
    tp = tu.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), batch_first, enforce_sorted)
    _close(p.data, tp.data, "packed data")
    _same_packing(p, tp)
    for total in (None, T + 2):
        padded, lens = rnn.pad_packed_sequence(p, batch_first, padding_value=-1.5, total_length=total)
        tpadded, tlens = tu.pad_packed_sequence(tp, batch_first, padding_value=-1.5, total_length=total)
        _close(padded, tpadded, "padded")
        np.testing.assert_array_equal(lens.data, tlens.numpy())
        assert lens.dtype == np.int64

    # gradients through both directions
    def roundtrip(tu_or_rnn, tensor_of):
        def f(x):
            packed = tu_or_rnn.pack_padded_sequence(x, tensor_of(lengths), batch_first, enforce_sorted)
            return packed.data * 2.0, tu_or_rnn.pad_packed_sequence(packed, batch_first, total_length=T)[0]
        return f

    check_op(roundtrip(rnn, list), x, torch_fn=roundtrip(tu, torch.tensor), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    torch = _torch()
    r = _rs(2)
    arrays = [r.standard_normal((n, 3)) for n in (2, 4, 1)]

    def ours(*xs):
        return rnn.pad_sequence(list(xs), batch_first, 0.5, padding_side)

    def theirs(*xs):
        return torch.nn.utils.rnn.pad_sequence(list(xs), batch_first, 0.5, padding_side)

    check_op(ours, *arrays, torch_fn=theirs, rtol=RTOL, atol=ATOL)


def test_pack_sequence_and_unpack_match_torch():
    torch = _torch()
    tu = torch.nn.utils.rnn
    arrays = [_rs(3).standard_normal((n, 2)) for n in (2, 4, 3)]
    p = rnn.pack_sequence([Tensor(a) for a in arrays], enforce_sorted=False)
    tp = tu.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    _close(p.data, tp.data, "packed data")
    _same_packing(p, tp)
    for ours, a in zip(rnn.unpack_sequence(p), arrays):
        _close(ours, a, "unpacked sequence")
    padded = rnn.pad_sequence([Tensor(a) for a in arrays], batch_first=True)
    for ours, a in zip(rnn.unpad_sequence(padded, [2, 4, 3], batch_first=True), arrays):
        _close(ours, a, "unpadded sequence")


def test_packed_sequence_conversions_keep_the_packing():
    p = rnn.pack_padded_sequence(Tensor(np.ones((3, 2, 1), dtype=np.float32)), [2, 3], enforce_sorted=False)
    for q, dtype in [(p.double(), np.float64), (p.float(), np.float32), (p.to("cpu"), np.float32),
                     (p.to(np.float64), np.float64), (p.cpu(), np.float32)]:
        assert isinstance(q, rnn.PackedSequence) and q.data.dtype == dtype
        assert q.batch_sizes is p.batch_sizes and q.sorted_indices is p.sorted_indices
    out, _ = nn.GRU(1, 2, dtype=np.float64)(p.double())
    assert out.data.dtype == np.float64


def test_packing_errors():
    x = Tensor(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match=r"lengths \[1, 4, 2\] must be sorted in decreasing order when "
                                         "enforce_sorted=True; pass enforce_sorted=False"):
        rnn.pack_padded_sequence(x, [1, 4, 2])
    with pytest.raises(ValueError, match=r"every length must be at least 1, got \[3, 0, 2\]"):
        rnn.pack_padded_sequence(x, [3, 0, 2], enforce_sorted=False)
    with pytest.raises(ValueError, match="a length of 5 exceeds the 4 time steps of the input"):
        rnn.pack_padded_sequence(x, [5, 1, 1])
    with pytest.raises(ValueError, match=r"lengths must be 3 integers .* got float64 array of shape \(3,\)"):
        rnn.pack_padded_sequence(x, [3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match=r"lengths must be 3 integers .* shape \(2,\)"):
        rnn.pack_padded_sequence(x, [3, 2])
    p = rnn.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match=r"total_length=3 is shorter than the longest sequence \(4 steps\)"):
        rnn.pad_packed_sequence(p, total_length=3)
    with pytest.raises(TypeError, match="expected a PackedSequence, got Tensor"):
        rnn.pad_packed_sequence(x)
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(2, 3\)"):
        rnn.pad_sequence([Tensor(np.zeros((2, 2))), Tensor(np.zeros((2, 3)))])
    with pytest.raises(TypeError, match="LSTM: a PackedSequence carries its own lengths"):
        nn.LSTM(2, 3)(p, lengths=[4, 2, 1])


# ---------------------------------------------------------------------------------------------------------
# recurrent layers on packed input
# ---------------------------------------------------------------------------------------------------------

LAYERS = {"LSTM": {}, "GRU": {}, "RNN": {"nonlinearity": "tanh"}}
CONFIGS = [{}, {"bidirectional": True}, {"num_layers": 2, "bidirectional": True, "batch_first": True},
           {"num_layers": 2}]


def _layer_pair(kind: str, **cfg):
    torch = _torch()
    theirs = getattr(torch.nn, kind)(3, 4, **LAYERS[kind], **cfg).double()
    ours = getattr(nn, kind)(3, 4, dtype=np.float64, **LAYERS[kind], **cfg)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _weighted(outs, seed: int, tensor):
    r = _rs(seed)
    return sum((o * tensor(r.standard_normal(tuple(o.shape)))).sum() for o in outs)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("with_state", [True, False], ids=["h0", "no-h0"])
def test_layer_on_packed_input_matches_torch(kind, cfg, with_state):
    torch = _torch()
    tu = torch.nn.utils.rnn
    ours, theirs = _layer_pair(kind, **cfg)
    lengths, T = [3, 5, 1, 4], 5  # unsorted, with the batch's longest sequence not first
    bf = cfg.get("batch_first", False)
    x_np = _rs(4).standard_normal((4, T, 3) if bf else (T, 4, 3))
    n = ours.num_layers * ours.num_directions
    s_np = [_rs(5 + k).standard_normal((n, 4, 4)) for k in range(2 if kind == "LSTM" else 1)] if with_state else []

    x, tx = Tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    s, ts = [Tensor(a, requires_grad=True) for a in s_np], [torch.tensor(a, requires_grad=True) for a in s_np]
    hx = (tuple(s) if kind == "LSTM" else s[0]) if s else None
    thx = (tuple(ts) if kind == "LSTM" else ts[0]) if ts else None

    out, state = ours(rnn.pack_padded_sequence(x, lengths, bf, enforce_sorted=False), hx)
    tout, tstate = theirs(tu.pack_padded_sequence(tx, torch.tensor(lengths), bf, enforce_sorted=False), thx)
    assert isinstance(out, rnn.PackedSequence)
    _same_packing(out, tout)
    states, tstates = (list(state), list(tstate)) if kind == "LSTM" else ([state], [tstate])
    for what, a, b in zip(["output", "h_n", "c_n"], [out.data, *states], [tout.data, *tstates]):
        _close(a, b, what)
    # the padded output too, through pad_packed_sequence on both sides
    _close(rnn.pad_packed_sequence(out, bf)[0], tu.pad_packed_sequence(tout, bf)[0], "padded output")

    _weighted([out.data, *states], 6, Tensor).backward()
    _weighted([tout.data, *tstates], 6, torch.tensor).backward()
    _close(x.grad, tx.grad, "input gradient")
    for k, (a, b) in enumerate(zip(s, ts)):
        _close(a.grad, b.grad, ["h_0", "c_0"][k] + " gradient")
    for name, tp in theirs.named_parameters():
        _close(dict(ours.named_parameters())[name].grad, tp.grad, f"gradient of {name}")


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_sorted_packed_batch_matches_torch(kind):
    torch = _torch()
    tu = torch.nn.utils.rnn
    ours, theirs = _layer_pair(kind, bidirectional=True)
    arrays = [_rs(7 + k).standard_normal((n, 3)) for k, n in enumerate((4, 4, 2))]
    out, state = ours(rnn.pack_sequence([Tensor(a) for a in arrays]))
    tout, tstate = theirs(tu.pack_sequence([torch.tensor(a) for a in arrays]))
    assert out.sorted_indices is None and tout.sorted_indices is None
    _close(out.data, tout.data, "output")
    for a, b in zip(state if kind == "LSTM" else [state], tstate if kind == "LSTM" else [tstate]):
        _close(a, b, "final state")


def test_final_state_is_in_the_original_batch_order():
    """Without torch: h_n[:, b] and c_n[:, b] are those of sequence b run alone, whatever the sorting."""
    manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    arrays = [_rs(9 + k).standard_normal((n, 3)) for k, n in enumerate((2, 5, 3))]
    packed = rnn.pack_sequence([Tensor(a) for a in arrays], enforce_sorted=False)
    out, (h, c) = lstm(packed)
    outs = rnn.unpack_sequence(out)
    for b, a in enumerate(arrays):
        alone, (h1, c1) = lstm(Tensor(a[None]))
        np.testing.assert_allclose(outs[b].data, alone.data[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(h.data[:, b], h1.data[:, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(c.data[:, b], c1.data[:, 0], rtol=1e-12, atol=1e-14)
