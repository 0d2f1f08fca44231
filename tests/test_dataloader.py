"""tinygrad_lstm.utils.data: default_collate against torch's on the same samples (structure, values, dtypes),
DataLoader batches, shuffling reproducible through manual_seed, drop_last, samplers, collate_fn, datasets and
random_split, and the errors torch gives for conflicting options."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from tinygrad_lstm import Tensor, manual_seed
from tinygrad_lstm.nn.utils.rnn import pad_sequence
from tinygrad_lstm.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

Point = collections.namedtuple("Point", "x label")


def _torch():
    return pytest.importorskip("torch")


def _plain(tree):
    """A collated batch as numpy arrays and Python containers, for either library."""
    if isinstance(tree, Tensor):
        return ("tensor", str(tree.dtype), tree.data.tolist())
    if hasattr(tree, "detach"):
        return ("tensor", str(tree.numpy().dtype), tree.numpy().tolist())
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return (type(tree).__name__, *[_plain(v) for v in tree])
    if isinstance(tree, list):
        return [_plain(v) for v in tree]
    return tree


def _samples(tensor):
    r = np.random.default_rng(0)
    a = r.standard_normal((3, 2))
    return {
        "tensors": [tensor(a[k]) for k in range(3)],
        "float32 arrays": [a[k].astype(np.float32) for k in range(3)],
        "ints": [3, 1, 2], "floats": [0.5, 1.0, 2.5], "bools": [True, False, True],
        "numpy scalars": [np.int32(4), np.int32(5), np.int32(6)],
        "strings": ["a", "bb", "c"],
        "tuples": [(tensor(a[k]), k) for k in range(3)],
        "lists": [[k, 0.5 * k] for k in range(3)],
        "dicts": [{"x": tensor(a[k]), "y": k, "name": str(k)} for k in range(3)],
        "namedtuples": [Point(a[k], k) for k in range(3)],
        "nested": [({"a": [k, k + 1]}, (a[k], 1.5)) for k in range(3)],
    }


@pytest.mark.parametrize("kind", list(_samples(Tensor)))
def test_default_collate_matches_torch(kind):
    torch = _torch()
    from torch.utils.data import default_collate as torch_collate

    ours = default_collate(_samples(Tensor)[kind])
    theirs = torch_collate(_samples(torch.tensor)[kind])
    assert _plain(ours) == _plain(theirs)


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match=r"cannot stack samples of different shapes \[\(2,\), \(3,\)\].*"
                                           "pad_sequence"):
        default_collate([Tensor(np.zeros(2)), Tensor(np.zeros(3))])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers, dicts or lists; found"):
        default_collate([object()])


def test_gradients_flow_through_collate():
    x = Tensor(np.arange(10.0).reshape(5, 2), requires_grad=True)
    xb, _ = next(iter(DataLoader(TensorDataset(x, np.arange(5)), batch_size=2, sampler=[4, 1])))
    (xb * Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [3, 4], [0, 0], [0, 0], [1, 2]])


def _data(n: int = 10):
    return np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n)


@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (5, True), (1, False), (20, False)])
def test_batches_in_order_match_torch(batch_size, drop_last):
    torch = _torch()
    x, y = _data()
    ours = DataLoader(TensorDataset(Tensor(x), Tensor(y)), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                         batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = [_plain(b) for b in ours], [_plain(b) for b in theirs]
    assert got == want and len(got) == len(ours)


def _epoch_labels(loader) -> list[int]:
    return [int(v) for _, yb in loader for v in yb.data]


def test_shuffle_is_a_new_permutation_each_epoch_and_reproducible():
    x, y = _data(12)
    loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True)
    manual_seed(3)
    first, second = _epoch_labels(loader), _epoch_labels(loader)
    assert sorted(first) == sorted(second) == list(range(12))  # every sample once per epoch
    assert first != second and first != list(range(12))
    manual_seed(3)
    assert _epoch_labels(loader) == first and _epoch_labels(loader) == second
    assert [len(yb) for _, yb in loader] == [5, 5, 2]
    # a numpy Generator as `generator`, as torch takes a torch.Generator
    a = _epoch_labels(DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True,
                                 generator=np.random.default_rng(7)))
    b = _epoch_labels(DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True,
                                 generator=np.random.default_rng(7)))
    assert a == b and sorted(a) == list(range(12))


def test_shuffle_with_drop_last():
    manual_seed(0)
    loader = DataLoader(TensorDataset(*_data(10)), batch_size=4, shuffle=True, drop_last=True)
    labels = _epoch_labels(loader)
    assert len(loader) == 2 and len(labels) == 8 and len(set(labels)) == 8


def test_collate_fn_pads_variable_length_sequences():
    seqs = [np.full((n, 2), n, dtype=np.float32) for n in (3, 1, 2)]

    class Seqs(Dataset):
        def __len__(self):
            return len(seqs)

        def __getitem__(self, i):
            return Tensor(seqs[i]), i

    def collate(batch):
        xs, labels = zip(*batch)
        return pad_sequence(list(xs), batch_first=True), [x.shape[0] for x in xs], list(labels)

    (padded, lengths, labels), = list(DataLoader(Seqs(), batch_size=3, collate_fn=collate))
    assert padded.shape == (3, 3, 2) and lengths == [3, 1, 2] and labels == [0, 1, 2]
    np.testing.assert_array_equal(padded.data[1], [[1, 1], [0, 0], [0, 0]])


def test_batch_size_none_and_samplers():
    torch = _torch()
    x, y = _data(5)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=None))
    assert len(ours) == 5 and ours[2][0].shape == (3,) and int(ours[2][1].item()) == 2
    got = _epoch_labels(DataLoader(TensorDataset(x, y), batch_size=2, sampler=[4, 0, 3]))
    assert got == [4, 0, 3]
    bs = BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)
    assert list(bs) == list(torch.utils.data.BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert _epoch_labels(DataLoader(TensorDataset(x, y), batch_sampler=[[1, 2], [0]])) == [1, 2, 0]
    assert len(DataLoader(TensorDataset(x, y), batch_sampler=[[1, 2], [0]])) == 2


def test_iterable_dataset_is_batched_in_order():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter([(np.float32(k), k) for k in range(7)])

    batches = list(DataLoader(Stream(), batch_size=3))
    assert [b[1].data.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b[1].data.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(), shuffle=True)


def test_conflicting_options_fail_as_in_torch():
    torch = _torch()
    x, y = _data(4)
    cases = [dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
             dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True)]
    for kw in cases:
        with pytest.raises(ValueError) as ours:
            DataLoader(TensorDataset(x, y), **kw)
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x)), **kw)
        assert str(theirs.value) in str(ours.value)
    with pytest.raises(ValueError, match="batch_size must be a positive integer or None, got 0"):
        DataLoader(TensorDataset(x, y), batch_size=0)
    with pytest.raises(ValueError, match=r"same first dimension .* got shapes \[\(4, 3\), \(3,\)\]"):
        TensorDataset(x, y[:3])


def test_datasets_and_random_split():
    torch = _torch()
    ds = TensorDataset(*_data(10))
    both = ds + Subset(ds, [9, 8])
    assert len(both) == 12 and int(both[10][1].item()) == 9 and int(both[-1][1].item()) == 8
    with pytest.raises(IndexError):
        both[12]
    manual_seed(1)
    parts = random_split(ds, [0.5, 0.3, 0.2])
    tparts = torch.utils.data.random_split(range(10), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [len(p) for p in tparts] == [5, 3, 2]
    labels = [int(p[k][1].item()) for p in parts for k in range(len(p))]
    assert sorted(labels) == list(range(10))
    assert [len(p) for p in random_split(range(7), [0.5, 0.5])] == [len(p) for p in
                                                                    torch.utils.data.random_split(range(7), [0.5, 0.5])]
    with pytest.raises(ValueError, match="must sum to the dataset's length 10"):
        random_split(ds, [3, 3])
