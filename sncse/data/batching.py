"""Batches for training: a seeded, resumable sampler, a vectorised collator, a background prefetcher.

- :class:`BatchSampler` draws, for every epoch, a permutation from ``numpy.random.default_rng((seed,
  epoch))``, so a position (epoch, batch index) is all a checkpoint needs to continue exactly where a
  run stopped. ``mode="bucket"`` sorts windows of ``bucket_batches`` batches by length before cutting
  them (less padding), then shuffles the batch order. Incomplete last batches are dropped.
  With several processes every rank draws the same global batches and takes its slice.
  ``groups`` (:func:`duplicate_groups`, ``data.dedup_batches``) moves duplicates apart: no two
  examples with the same anchor token ids share a batch (a duplicate is a false negative), by a
  deterministic swap after the draw, so a position still identifies a batch.
- :class:`Collator` cuts a batch out of :class:`~sncse.data.tokenized.TokenizedData` and stacks its
  views into one ``(V * B, L)`` tensor: anchors, then positives, then negations / hard negatives, so
  that the encoder runs ONE forward pass per step (as SimCSE's ``cl_forward`` does).
- :class:`Prefetcher` runs the collation in a background thread, ``depth`` batches ahead.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .tokenized import TokenizedData

log = logging.getLogger(__name__)


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
                 lengths: np.ndarray | None = None, bucket_batches: int = 64, rank: int = 0, world_size: int = 1,
                 groups: np.ndarray | None = None):
        if mode not in ("shuffle", "bucket", "sequential"):
            raise ValueError(f"batching mode must be shuffle, bucket or sequential, got {mode!r}")
        if batch_size % world_size:
            raise ValueError(f"batch size {batch_size} is not divisible by the {world_size} processes")
        if mode == "bucket" and lengths is None:
            raise ValueError("bucket batching needs the example lengths")
        if groups is not None and len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries for {n} examples")
        self.n, self.batch_size, self.seed, self.mode = n, batch_size, seed, mode
        self.lengths = lengths
        self.bucket_batches = bucket_batches
        self.rank, self.world_size = rank, world_size
        self.local_batch_size = batch_size // world_size
        self.groups = groups
        self._warned = False

    @property
    def steps_per_epoch(self) -> int:
        return self.n // self.batch_size

    def epoch_batches(self, epoch: int) -> np.ndarray:
        """(steps_per_epoch, batch_size) global example indices of ``epoch``."""
        batches, spare = self._draw(epoch)
        if self.groups is not None:
            batches, _ = separate_duplicates(batches, spare, self.groups)
        return batches

    def dedup_stats(self, epoch: int = 0) -> dict[str, int]:
        """What ``groups`` changes in ``epoch``: batches that held a duplicate, examples moved, batches
        changed (a swap with another batch changes both), duplicates left (none unless a sentence
        occurs more often than there are batches)."""
        if self.groups is None:
            raise ValueError("the sampler has no duplicate groups")
        drawn, spare = self._draw(epoch)
        batches, moved = separate_duplicates(drawn, spare, self.groups)
        return {"batches": len(drawn), "batches_with_duplicates": int(has_duplicates(drawn, self.groups).sum()),
                "moved": moved, "batches_changed": int((np.sort(batches, 1) != np.sort(drawn, 1)).any(1).sum()),
                "batches_with_duplicates_left": int(has_duplicates(batches, self.groups).sum())}

    def _draw(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's batches and the examples left out of them (the incomplete last batch)."""
        steps = self.steps_per_epoch
        used = steps * self.batch_size
        if self.mode == "sequential":
            return np.arange(used).reshape(steps, self.batch_size), np.arange(used, self.n)
        rng = np.random.default_rng((self.seed, epoch))
        perm = rng.permutation(self.n)
        if self.mode == "shuffle":
            return perm[:used].reshape(steps, self.batch_size), perm[used:]
        window = self.batch_size * self.bucket_batches
        chunks = []
        for start in range(0, self.n, window):
            part = perm[start : start + window]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            chunks.append(part)
        ordered = np.concatenate(chunks)
        # drop the remainder from a random place so that no example is always left out
        extra = self.n - used
        cut = int(rng.integers(0, extra + 1)) if extra else 0
        batches = ordered[cut : cut + used].reshape(steps, self.batch_size)
        return batches[rng.permutation(steps)], np.concatenate([ordered[:cut], ordered[cut + used :]])

    def iterate(self, start: Position = Position()) -> Iterator[tuple[Position, np.ndarray]]:
        """Endless ``(position after, local indices)`` from ``start`` on, epoch after epoch."""
        if self.steps_per_epoch == 0:
            raise ValueError(f"{self.n} examples are fewer than one batch of {self.batch_size}")
        epoch, index = start.epoch, start.index
        lo, hi = self.rank * self.local_batch_size, (self.rank + 1) * self.local_batch_size
        while True:
            batches = self.epoch_batches(epoch)
            if self.groups is not None and not self._warned:
                left = int(has_duplicates(batches, self.groups).sum())
                if left:
                    log.warning("%d batch(es) of epoch %d keep a duplicate sentence: a sentence occurs more often "
                                "than there are batches", left, epoch)
                    self._warned = True
            for i in range(index, len(batches)):
                nxt = Position(epoch, i + 1) if i + 1 < len(batches) else Position(epoch + 1, 0)
                yield nxt, batches[i, lo:hi]
            epoch, index = epoch + 1, 0


def duplicate_groups(data: TokenizedData, view: str = "anchor") -> np.ndarray:
    """(n,) for each example the index of the first example with the same token ids of ``view``, or
    -1 where they occur once. Token ids are what the model sees, so the tokenizer's normalisation
    (lower-casing, accents, truncation at ``model.max_length``) decides what counts as identical."""
    col = data.columns[view]
    first: dict[bytes, int] = {}
    flat, offsets = col.flat, col.offsets
    group = np.fromiter((first.setdefault(flat[offsets[i] : offsets[i + 1]].tobytes(), i) for i in range(len(col))),
                        dtype=np.int64, count=len(col))
    counts = np.bincount(group, minlength=len(col))
    return np.where(counts[group] > 1, group, -1)


def has_duplicates(batches: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(steps,) whether each batch (a row of example indices) holds two examples of one group."""
    g = np.sort(groups[batches], axis=1)
    return ((g[:, 1:] == g[:, :-1]) & (g[:, 1:] >= 0)).any(axis=1)


def separate_duplicates(batches: np.ndarray, spare: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, int]:
    """Swap every extra member of a group out of its batch; returns the batches and the swap count.

    Deterministic (the result depends only on the arguments). For each batch with a duplicate, in
    order, each extra member is swapped with the first candidate that repeats no group on either
    side: first the examples left out of the epoch (``spare``: only that batch changes), then the
    members of the following batches, then of the earlier ones. Batches without duplicates are
    touched only as swap partners, and stay duplicate-free.
    """
    out, spare = batches.copy(), spare.copy()
    moved = 0

    def fits(example: int, row_groups: set[int]) -> bool:
        g = int(groups[example])
        return g < 0 or g not in row_groups

    for i in np.flatnonzero(has_duplicates(out, groups)):
        seen: set[int] = set()
        for p in range(out.shape[1]):
            g = int(groups[out[i, p]])
            if g < 0 or g not in seen:
                seen.add(g)
                continue
            row_groups = set(groups[out[i]].tolist())
            for j in (None, *range(i + 1, len(out)), *range(i)):
                pool = spare if j is None else out[j]  # a view: swapping writes into ``out``
                if j is not None and not fits(out[i, p], set(groups[pool].tolist())):
                    continue  # the duplicate would meet its own group there
                q = next((q for q in range(len(pool)) if fits(pool[q], row_groups)), None)
                if q is not None:
                    out[i, p], pool[q] = pool[q], out[i, p]
                    seen.add(int(groups[out[i, p]]))
                    moved += 1
                    break
    return out, moved


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
    """Collated batches from ``start`` on; ``workers > 0`` collates in a background thread. ``pin_memory``
    (for CUDA): batches in page-locked memory, from which ``non_blocking`` copies to the device do not
    make the host wait."""
    source = sampler.iterate(start)
    if workers > 0:
        return Prefetcher(source, collate, depth=workers + 1, pin_memory=pin_memory)
    if pin_memory:
        return (collate(indices, position).pin_memory() for position, indices in source)
    return (collate(indices, position) for position, indices in source)
