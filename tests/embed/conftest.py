"""One torch thread in these tests: on a CPU shared with other jobs, two OpenMP threads competing for
two cores run small forwards many times slower than one, and bit-for-bit comparisons between runs
(resume, shards) need every run on the same thread count."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # and in the subprocesses the tests start
    yield
    torch.set_num_threads(before)
