"""Fixtures for the sentence-transformers tests: the tiny random BERT in both trainers, sample sentences."""

from __future__ import annotations

import pytest
import torch

from sncse.data.root import sample_root


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread (two spin against each other on a shared 2-core runner); restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    """The first sentences of the embedded Wikipedia sample (present without a data root)."""
    lines = (sample_root() / "corpus" / "wiki1m_head.txt").read_text(encoding="utf-8").splitlines()
    return [x for x in lines[:200] if x.strip()][:64]


def no_dropout(module: torch.nn.Module) -> torch.nn.Module:
    for m in module.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    return module
