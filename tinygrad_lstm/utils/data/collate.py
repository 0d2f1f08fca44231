"""How a DataLoader joins samples into a batch, as torch's default_collate: recursively, by the type of the
first sample."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...tensor import Tensor, stack


def default_collate(batch: Sequence[Any]) -> Any:
    """Join a list of samples into a batch, as torch.utils.data.default_collate:

    - Tensors are stacked on a new first axis (gradients flow back to each sample); numpy arrays and numpy
      scalars become one Tensor of their dtype;
    - Python floats become a float64 Tensor, ints an int64 one, bools a bool one;
    - strings and bytes stay a list;
    - a dict (any Mapping) gives a dict of collated values, key by key; a namedtuple the same namedtuple of
      collated fields; a tuple or list gives a list with one collated entry per position (all samples must
      have the same length).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(f"default_collate: numpy arrays of dtype {elem.dtype} cannot become tensors")
        return _stack([Tensor(np.asarray(a)) for a in batch])
    if isinstance(elem, np.generic):
        return Tensor(np.array(batch))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=bool))
    if isinstance(elem, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:  # a Mapping type that cannot be built from a dict
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError(f"default_collate: each element in list of batch should be of equal size, got "
                               f"lengths {[len(s) for s in batch]}")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    f"{type(elem)}")


def default_convert(data: Any) -> Any:
    """What a DataLoader with batch_size=None does to each sample: numpy arrays (of numbers) become Tensors,
    inside dicts, namedtuples, tuples and lists too; everything else is left as it is."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return Tensor(data)
    if isinstance(data, Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})  # type: ignore[call-arg]
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data


def _stack(tensors: Sequence[Tensor]) -> Tensor:
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: cannot stack samples of different shapes {sorted(shapes)}; pass a "
                           "collate_fn that pads them (e.g. with nn.utils.rnn.pad_sequence)")
    return stack(list(tensors), axis=0)


__all__ = ["default_collate", "default_convert"]
