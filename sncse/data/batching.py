"""Batches for training: a seeded, resumable sampler, a vectorised collator, a background prefetcher.

- :class:`BatchSampler` draws, for every epoch, a permutation from ``numpy.random.default_rng((seed,
  epoch))``, so a position (epoch, batch index) is all a checkpoint needs to continue exactly where a
  run stopped. ``mode="bucket"`` sorts windows of ``bucket_batches`` batches by length before cutting
  them (less padding), then shuffles the batch order. Incomplete last batches are dropped.
  With several processes every rank draws the same global batches and takes its slice.
- :class:`Collator` cuts a batch out of :class:`~sncse.data.tokenized.TokenizedData` and stacks its
  views into one ``(V * B, L)`` tensor: anchors, then positives, then negations / hard negatives, so
  that the encoder runs ONE forward pass per step (as SimCSE's ``cl_forward`` does).
- :class:`Prefetcher` runs the collation in a background thread, ``depth`` batches ahead.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .tokenized import TokenizedData


@dataclass(frozen=True)
class Position:
    """Where the sampler stands: the next batch to draw is batch ``index`` of ``epoch``."""

    epoch: int = 0
    index: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "index": self.index}

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> Position:
        return cls(int(d["epoch"]), int(d["index"]))


@dataclass
class TrainBatch:
    """One step's input: the views of ``size`` examples stacked along the batch axis.

    ``input_ids``/``attention_mask`` are ``(len(views) * size, L)``; rows ``[k*size:(k+1)*size]`` hold
    view ``views[k]``. ``position`` is the sampler position *after* this batch (what a checkpoint saves).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    views: tuple[str, ...]
    size: int
    position: Position | None = None
    meta: dict = field(default_factory=dict)

    def to(self, device: torch.device | str, non_blocking: bool = True) -> TrainBatch:
        return replace(self, input_ids=self.input_ids.to(device, non_blocking=non_blocking),
                       attention_mask=self.attention_mask.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> TrainBatch:
        return replace(self, input_ids=self.input_ids.pin_memory(), attention_mask=self.attention_mask.pin_memory())

    @property
    def tokens(self) -> int:
        return int(self.input_ids.numel())


class BatchSampler:
    """Seeded epoch-wise batches of example indices with a resumable :class:`Position`."""

    def __init__(self, n: int, batch_size: int, seed: int = 42, mode: str = "shuffle",
                 lengths: np.ndarray | None = None, bucket_batches: int = 64, rank: int = 0, world_size: int = 1):
        if mode not in ("shuffle", "bucket", "sequential"):
            raise ValueError(f"batching mode must be shuffle, bucket or sequential, got {mode!r}")
        if batch_size % world_size:
            raise ValueError(f"batch size {batch_size} is not divisible by the {world_size} processes")
        if mode == "bucket" and lengths is None:
            raise ValueError("bucket batching needs the example lengths")
        self.n, self.batch_size, self.seed, self.mode = n, batch_size, seed, mode
        self.lengths = lengths
        self.bucket_batches = bucket_batches
        self.rank, self.world_size = rank, world_size
        self.local_batch_size = batch_size // world_size

    @property
    def steps_per_epoch(self) -> int:
        return self.n // self.batch_size

    def epoch_batches(self, epoch: int) -> np.ndarray:
        """(steps_per_epoch, batch_size) global example indices of ``epoch``."""
        steps = self.steps_per_epoch
        if self.mode == "sequential":
            return np.arange(steps * self.batch_size).reshape(steps, self.batch_size)
        rng = np.random.default_rng((self.seed, epoch))
        perm = rng.permutation(self.n)
        if self.mode == "shuffle":
            return perm[: steps * self.batch_size].reshape(steps, self.batch_size)
        window = self.batch_size * self.bucket_batches
        chunks = []
        for start in range(0, self.n, window):
            part = perm[start : start + window]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            chunks.append(part)
        ordered = np.concatenate(chunks)
        # drop the remainder from a random place so that no example is always left out
        extra = self.n - steps * self.batch_size
        cut = int(rng.integers(0, extra + 1)) if extra else 0
        batches = ordered[cut : cut + steps * self.batch_size].reshape(steps, self.batch_size)
        return batches[rng.permutation(steps)]

    def iterate(self, start: Position = Position()) -> Iterator[tuple[Position, np.ndarray]]:
        """Endless ``(position after, local indices)`` from ``start`` on, epoch after epoch."""
        if self.steps_per_epoch == 0:
            raise ValueError(f"{self.n} examples are fewer than one batch of {self.batch_size}")
        epoch, index = start.epoch, start.index
        lo, hi = self.rank * self.local_batch_size, (self.rank + 1) * self.local_batch_size
        while True:
            batches = self.epoch_batches(epoch)
            for i in range(index, len(batches)):
                nxt = Position(epoch, i + 1) if i + 1 < len(batches) else Position(epoch + 1, 0)
                yield nxt, batches[i, lo:hi]
            epoch, index = epoch + 1, 0


class Collator:
    """Pads the views of a set of examples into one ``(V * B, L)`` batch, vectorised over tokens."""

    def __init__(self, data: TokenizedData, pad_to_multiple_of: int | None = None, fixed_length: int | None = None):
        self.data = data
        self.pad_to_multiple_of = pad_to_multiple_of
        self.fixed_length = fixed_length

    def __call__(self, indices: np.ndarray, position: Position | None = None) -> TrainBatch:
        indices = np.asarray(indices, dtype=np.int64)
        cols = [self.data.columns[v] for v in self.data.views]
        starts = [c.offsets[indices] for c in cols]
        lens = [c.offsets[indices + 1] - s for c, s in zip(cols, starts, strict=True)]
        longest = int(max(int(x.max()) for x in lens)) if len(indices) else 1
        if self.fixed_length:
            longest = max(longest, self.fixed_length)
        if self.pad_to_multiple_of:
            longest = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
        pos = np.arange(longest, dtype=np.int64)[None, :]
        ids_parts, mask_parts = [], []
        for col, s, n in zip(cols, starts, lens, strict=True):
            mask = pos < n[:, None]
            gather = np.minimum(s[:, None] + pos, max(len(col.flat) - 1, 0))
            ids_parts.append(np.where(mask, col.flat[gather], self.data.pad_id))
            mask_parts.append(mask)
        input_ids = torch.from_numpy(np.concatenate(ids_parts).astype(np.int64))
        attention_mask = torch.from_numpy(np.concatenate(mask_parts).astype(np.int64))
        return TrainBatch(input_ids, attention_mask, self.data.views, len(indices), position)


class Prefetcher:
    """Iterate ``(position, indices)`` -> collated :class:`TrainBatch` in a background thread."""

    _DONE = object()

    def __init__(self, source: Iterator[tuple[Position, np.ndarray]], collate: Collator, depth: int = 2,
                 pin_memory: bool = False):
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._source, self._collate, self._pin = source, collate, pin_memory
        self._thread = threading.Thread(target=self._run, name="sncse-collate", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for position, indices in self._source:
                batch = self._collate(indices, position)
                if self._pin:
                    batch = batch.pin_memory()
                while not self._stop.is_set():
                    try:
                        self._queue.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer
            self._queue.put(exc)
        else:
            self._queue.put(self._DONE)

    def __iter__(self) -> Prefetcher:
        return self

    def __next__(self) -> TrainBatch:
        item = self._queue.get()
        if item is self._DONE:
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._thread.join(timeout=5)


def batches(sampler: BatchSampler, collate: Collator, start: Position = Position(), workers: int = 0,
            pin_memory: bool = False) -> Iterator[TrainBatch]:
    """Collated batches from ``start`` on; ``workers > 0`` collates in a background thread."""
    source = sampler.iterate(start)
    if workers > 0:
        return Prefetcher(source, collate, depth=workers + 1, pin_memory=pin_memory)
    return (collate(indices, position) for position, indices in source)
