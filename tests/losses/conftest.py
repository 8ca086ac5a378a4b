"""Fixtures for the loss tests: small random float64 batches."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

# make tests/losses/loss_reference.py importable whatever pytest's import mode
sys.path.insert(0, str(Path(__file__).parent))


def make(rows: int, dim: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, dim, generator=g, dtype=torch.float64)


@pytest.fixture
def batch() -> dict[str, torch.Tensor]:
    """B = 4 anchors; positives/hard negatives gathered from 3 'processes' (N = 12); local negations.

    Positives are anchors plus noise so that the positive pair is the most similar one, as in training.
    """
    b, world = 4, 3
    anchor = make(b, seed=1)
    positive = make(b * world, seed=2)
    positive[b : 2 * b] = anchor + 0.3 * make(b, seed=3)  # this process is rank 1: label_offset = 4
    negation = anchor + 0.5 * make(b, seed=4)
    hard_negative = make(b * world, seed=5)
    return {"anchor": anchor, "positive": positive, "negation": negation, "hard_negative": hard_negative,
            "offset": b}
