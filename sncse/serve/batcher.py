"""An asyncio micro-batcher: the texts of concurrent requests go through the model in one call.

Each request ``await``s :meth:`MicroBatcher.submit` with its texts. One worker task takes the waiting
requests in arrival order, as many as fit in ``max_batch`` texts (always at least one, however many
texts it has), runs ``fn`` on all their texts in one background thread, and hands each request its
slice of the results. While the model works, new requests queue up and form the next batch, so a lone
request is never delayed and a busy server batches by itself; ``max_wait_ms`` > 0 also waits that long
after the first request for more to arrive.

The model runs in a single thread, one batch at a time (a model and its tokenizer are not shared
between threads). A request whose client went away before its batch started is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Job:
    texts: list[str]
    future: asyncio.Future


@dataclass
class BatchStats:
    """What the batcher has done: batches run, requests and texts in them."""

    batches: int = 0
    requests: int = 0
    texts: int = 0
    largest: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"batches": self.batches, "requests": self.requests, "texts": self.texts,
                "largest_batch": self.largest,
                "mean_texts_per_batch": round(self.texts / self.batches, 2) if self.batches else None}


class MicroBatcher(Generic[T]):
    """Runs ``fn(texts) -> one result per text`` on the texts of concurrent requests together."""

    def __init__(self, fn: Callable[[list[str]], Sequence[T]], max_batch: int = 64, max_wait_ms: float = 0.0):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.stats = BatchStats()
        self._pending: deque[_Job] = deque()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Start the worker task (in the running event loop)."""
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sncse-model")
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the worker; requests still waiting fail with ``RuntimeError``."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        while self._pending:
            job = self._pending.popleft()
            if not job.future.done():
                job.future.set_exception(RuntimeError("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def submit(self, texts: Sequence[str]) -> list[T]:
        """The results of ``fn`` for ``texts``, computed together with other waiting requests' texts."""
        if self._worker is None or self._wake is None:
            raise RuntimeError("the batcher is not started")
        job = _Job(list(texts), asyncio.get_running_loop().create_future())
        self._pending.append(job)
        self._wake.set()
        return await job.future

    def _take(self) -> list[_Job]:
        """The waiting jobs that fit in one batch, in arrival order (at least the first)."""
        jobs = [self._pending.popleft()]
        size = len(jobs[0].texts)
        while self._pending and size + len(self._pending[0].texts) <= self.max_batch:
            size += len(self._pending[0].texts)
            jobs.append(self._pending.popleft())
        return [job for job in jobs if not job.future.done()]  # cancelled: the client went away

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            if self.max_wait and sum(len(j.texts) for j in self._pending) < self.max_batch:
                await asyncio.sleep(self.max_wait)
            jobs = self._take()
            if not jobs:
                continue
            texts = [t for job in jobs for t in job.texts]
            try:
                results = await loop.run_in_executor(self._executor, self.fn, texts)
            except Exception as exc:  # every request of the batch gets the error
                log.exception("a batch of %d texts failed", len(texts))
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            self.stats.batches += 1
            self.stats.requests += len(jobs)
            self.stats.texts += len(texts)
            self.stats.largest = max(self.stats.largest, len(texts))
            start = 0
            for job in jobs:
                end = start + len(job.texts)
                if not job.future.done():
                    job.future.set_result(list(results[start:end]))
                start = end
