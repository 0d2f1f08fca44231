"""DataLoader, as torch.utils.data.DataLoader with num_workers=0: batches of a dataset's samples, in order or
shuffled, joined by a collate function."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


class DataLoader:
    """Iterate over `dataset` in batches:

        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, drop_last=False): ...

    - batch_size: samples per batch; None yields the samples one by one, converted by `default_convert`.
    - shuffle: a new order each epoch (each `iter()`), drawn from `generator` (a numpy Generator) or from the
      library's generator, so `manual_seed(s)` before building the loop makes the epochs reproducible.
    - sampler / batch_sampler: the order of indices (or of lists of indices) instead of shuffle/batch_size.
    - drop_last: skip a final batch smaller than batch_size.
    - collate_fn: joins a list of samples into a batch (default: `default_collate`).

    Loading runs in this process: `num_workers`, `pin_memory`, `timeout`, `worker_init_fn`,
    `persistent_workers` and `prefetch_factor` are accepted for torch code and change nothing, as in torch with
    num_workers=0 (where worker_init_fn is not called either).
    """

    def __init__(self, dataset: Dataset | Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Iterable[Any] | None = None, batch_sampler: Iterable[list[Any]] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None, generator: np.random.Generator | None = None,
                 *, prefetch_factor: int | None = None, persistent_workers: bool = False) -> None:
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be non-negative, got {num_workers}")
        self.dataset, self.num_workers, self.pin_memory, self.timeout = dataset, num_workers, pin_memory, timeout
        self.worker_init_fn, self.generator = worker_init_fn, generator
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        _check_options(self._iterable, batch_size, shuffle, sampler, batch_sampler, drop_last)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        if not self._iterable and sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # type: ignore[arg-type]
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        auto = batch_size is not None or batch_sampler is not None
        self.collate_fn = collate_fn or (default_collate if auto else default_convert)

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is not None:
            return (self.collate_fn([self.dataset[i] for i in idx]) for idx in self.batch_sampler)
        return (self.collate_fn(self.dataset[i]) for i in self.sampler)  # type: ignore[union-attr]

    def _iter_stream(self) -> Iterator[Any]:
        if self.batch_size is None:
            yield from (self.collate_fn(s) for s in self.dataset)
            return
        batch: list[Any] = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # a TypeError if the stream has no length, as in torch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)  # type: ignore[arg-type]


def _check_options(iterable: bool, batch_size: Any, shuffle: bool | None, sampler: Any, batch_sampler: Any,
                   drop_last: bool) -> None:
    """torch's rules for options that contradict each other, with torch's messages."""
    if iterable:
        if shuffle:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                             f"shuffle={shuffle}")
        if sampler is not None or batch_sampler is not None:
            raise ValueError("DataLoader with IterableDataset: expected unspecified sampler and batch_sampler")
    if sampler is not None and shuffle:
        raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                             "sampler, and drop_last")
        return
    if batch_size is None:
        if drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
    elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")


__all__ = ["DataLoader"]
