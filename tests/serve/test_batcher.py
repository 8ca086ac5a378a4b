"""The micro-batcher: requests that wait while the model works are embedded together, each gets its rows."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

import sncse
from sncse.serve import MicroBatcher


@pytest.fixture(scope="module")
def model(tiny_models):
    return sncse.load(str(tiny_models["tiny-a"]), device="cpu")


async def _wait_until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_waiting_requests_share_one_model_call(model):
    """While the first batch runs, five requests arrive: the next call takes as many as fit (4 texts),
    then the rest; every request gets exactly the rows of its own texts."""
    gate, calls = threading.Event(), []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        assert gate.wait(10)
        return model.encode(texts, normalize=True, show_progress=False)

    async def scenario() -> list[list[np.ndarray]]:
        batcher = MicroBatcher(encode, max_batch=4)
        await batcher.start()
        try:
            first = asyncio.create_task(batcher.submit(["A man plays a guitar."]))
            await _wait_until(lambda: len(calls) == 1)  # the model is busy with the first request
            rest = [asyncio.create_task(batcher.submit(texts)) for texts in
                    (["A dog runs.", "A cat sleeps."], ["It rains."], ["The sun is out."], ["Kids play."])]
            await asyncio.sleep(0.05)
            gate.set()
            return await asyncio.gather(first, *rest)
        finally:
            await batcher.stop()

    results = asyncio.run(scenario())
    assert calls == [["A man plays a guitar."], ["A dog runs.", "A cat sleeps.", "It rains.", "The sun is out."],
                     ["Kids play."]]
    asked = [["A man plays a guitar."], ["A dog runs.", "A cat sleeps."], ["It rains."], ["The sun is out."],
             ["Kids play."]]
    for texts, got in zip(asked, results, strict=True):
        alone = model.encode(texts, normalize=True, show_progress=False)
        np.testing.assert_allclose(np.stack(got), alone, atol=1e-5)


def test_a_failed_batch_fails_each_of_its_requests_and_the_batcher_goes_on():
    def encode(texts: list[str]) -> list[int]:
        if "boom" in texts:
            raise ValueError("model failed")
        return [len(t) for t in texts]

    async def scenario():
        batcher = MicroBatcher(encode, max_batch=8)
        await batcher.start()
        try:
            with pytest.raises(ValueError, match="model failed"):
                await batcher.submit(["boom"])
            return await batcher.submit(["abc", "de"]), batcher.stats.to_dict()
        finally:
            await batcher.stop()

    result, stats = asyncio.run(scenario())
    assert result == [3, 2]
    assert stats["batches"] == 1 and stats["texts"] == 2  # the failed batch is not counted
