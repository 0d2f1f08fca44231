"""Packed sequences, as torch.nn.utils.rnn: a batch of variable-length sequences stored without padding.

    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, (h_n, c_n) = lstm(packed)                 # nn.LSTM/GRU/RNN accept a PackedSequence
    y, lengths = pad_packed_sequence(out, batch_first=True)

`PackedSequence.data` holds the sequences' steps time-major, longest sequences first: the batch_sizes[0]
sequences' first steps, then the batch_sizes[1] still running at step 1, and so on. With `enforce_sorted=False`
the batch may be in any order: `sorted_indices` lists it longest first (ties in batch order) and
`unsorted_indices` maps back. Every function here only moves elements, by one gather (a getitem whose
derivative scatters the gradient back), so gradients flow through packing and unpacking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ...tensor import Tensor, concat


class PackedSequence(NamedTuple):
    """data (total steps, *features); batch_sizes (int64, one per time step); sorted_indices and
    unsorted_indices (int64 permutations, or None when the batch was given sorted)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same packing with `data.to(...)` (a dtype; the only device is the CPU); the indices are kept."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        return self

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _int_array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def _lengths(lengths: Any, batch: int, steps: int) -> np.ndarray:
    lens = _int_array(lengths)
    if lens.ndim != 1 or lens.shape[0] != batch or (lens.size and lens.dtype.kind not in "iu"):
        raise ValueError(f"pack_padded_sequence: lengths must be {batch} integers (one per sequence of the batch), "
                         f"got {lens.dtype} array of shape {lens.shape}")
    if lens.size and lens.min() <= 0:
        raise ValueError(f"pack_padded_sequence: every length must be at least 1, got {lens.tolist()}")
    if lens.size and lens.max() > steps:
        raise ValueError(f"pack_padded_sequence: a length of {int(lens.max())} exceeds the {steps} time steps of "
                         "the input (is batch_first set right?)")
    return lens.astype(np.int64)


def _positions(batch_sizes: np.ndarray, sorted_indices: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """For each row of `data`, its time step and its index in the (unsorted) batch: (t, b) pairs."""
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    # slot j of the sorted batch runs while j < batch_sizes[t]; np.nonzero walks the mask time-major
    t, j = np.nonzero(np.arange(batch)[None, :] < batch_sizes[:, None])
    return t, (sorted_indices[j] if sorted_indices is not None else j)


def pack_padded_sequence(input: Any, lengths: Any, batch_first: bool = False,  # noqa: A002 - torch's name
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch, (T, B, *) or (B, T, *) with batch_first, whose sequence b has lengths[b] steps.

    With enforce_sorted=True the lengths must be non-increasing; set it False to pack a batch in any order.
    """
    x = _as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected a padded batch of shape (T, B, *) or (B, T, *), got "
                         f"shape {x.shape}")
    if batch_first:
        x = x.transpose(0, 1)
    lens = _lengths(lengths, x.shape[1], x.shape[0])
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise ValueError(f"pack_padded_sequence: lengths {lens.tolist()} must be sorted in decreasing order "
                             "when enforce_sorted=True; pass enforce_sorted=False to pack an unsorted batch")
        sorted_idx = unsorted_idx = None
    else:
        sorted_idx = np.argsort(-lens, kind="stable")
        unsorted_idx = np.argsort(sorted_idx)
    batch_sizes = (lens[None, :] > np.arange(int(lens.max(initial=0)))[:, None]).sum(axis=1).astype(np.int64)
    t, b = _positions(batch_sizes, sorted_idx)
    return PackedSequence(x[t, b], Tensor(batch_sizes),
                          None if sorted_idx is None else Tensor(sorted_idx),
                          None if unsorted_idx is None else Tensor(unsorted_idx))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of `pack_padded_sequence`: (padded of shape (T, B, *) or (B, T, *), lengths as int64), in the
    batch's original order. T is the longest length, or `total_length` if given (at least that long)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    batch_sizes = _int_array(sequence.batch_sizes)
    sorted_idx = None if sequence.sorted_indices is None else _int_array(sequence.sorted_indices)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter than the longest "
                             f"sequence ({steps} steps)")
        steps = total_length
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    t, b = _positions(batch_sizes, sorted_idx)
    rows = np.full((steps, batch), data.shape[0], dtype=np.int64)  # the extra row past the data is the padding
    rows[t, b] = np.arange(data.shape[0])
    pad = Tensor(np.full((1, *data.shape[1:]), padding_value, dtype=data.dtype))
    padded = concat([data, pad], axis=0)[rows.T if batch_first else rows]
    lengths = np.zeros(batch, dtype=np.int64)
    np.add.at(lengths, b, 1)
    return padded, Tensor(lengths)


def pad_sequence(sequences: Sequence[Any], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (Lᵢ, *) into (max L, B, *) (or (B, max L, *)), filling with padding_value
    after each sequence ("right") or before it ("left")."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    seqs = [_as_tensor(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: got no sequences")
    trailing = seqs[0].shape[1:]
    for k, s in enumerate(seqs):
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise ValueError(f"pad_sequence: every sequence must have shape (L, *{trailing}); sequence {k} has "
                             f"shape {s.shape}")
    lens = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    steps, total = int(lens.max()), int(lens.sum())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    rows = np.full((steps, len(seqs)), total, dtype=np.int64)
    for k, (start, n) in enumerate(zip(starts, lens)):
        at = slice(steps - n, steps) if padding_side == "left" else slice(0, n)
        rows[at, k] = np.arange(start, start + n)
    pad = Tensor(np.full((1, *trailing), padding_value, dtype=seqs[0].dtype))
    return concat([*seqs, pad], axis=0)[rows.T if batch_first else rows]


def pack_sequence(sequences: Sequence[Any], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shapes (Lᵢ, *): pad_sequence, then pack_padded_sequence."""
    lengths = [_as_tensor(s).shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Any, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """The list of sequences, each cut to its length, from a padded batch."""
    x = _as_tensor(padded_sequences)
    if not batch_first:
        x = x.transpose(0, 1)
    return [x[k, :int(n)] for k, n in enumerate(_int_array(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences (in the batch's original order) in a PackedSequence."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def run_packed(layer: Any, packed: PackedSequence, hx: Any, lengths: Any = None) -> tuple[PackedSequence, Any]:
    """A recurrent layer on a PackedSequence, as torch: unpack to a padded batch in the original order, run
    the layer's `lengths` path (past its length a sequence keeps its state), pack the output the same way.

    The initial state is in the batch's original order and so is the final one, as torch returns it.
    """
    if lengths is not None:
        raise TypeError(f"{type(layer).__name__}: a PackedSequence carries its own lengths; do not pass lengths=")
    padded, lengths = pad_packed_sequence(packed, batch_first=layer.batch_first)
    out, state = layer.forward(padded, hx, lengths=lengths)
    if layer.batch_first:
        out = out.transpose(0, 1)
    t, b = _positions(_int_array(packed.batch_sizes),
                      None if packed.sorted_indices is None else _int_array(packed.sorted_indices))
    return PackedSequence(out[t, b], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), state


__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence",
           "unpack_sequence", "unpad_sequence"]
