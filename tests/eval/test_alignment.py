"""Alignment and uniformity against Wang & Isola's torch reference code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from sncse.eval.alignment import align_loss, evaluate_alignment, uniform_loss


def test_matches_wang_isola_reference() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    tx = torch.nn.functional.normalize(torch.tensor(x), dim=1)
    ty = torch.nn.functional.normalize(torch.tensor(y), dim=1)
    ref_align = (tx - ty).norm(p=2, dim=1).pow(2).mean().item()
    ref_unif = torch.pdist(tx, p=2).pow(2).mul(-2).exp().mean().log().item()
    assert align_loss(x, y) == pytest.approx(ref_align, rel=1e-9)
    assert uniform_loss(x, block=64) == pytest.approx(ref_unif, rel=1e-9)


def test_collapsed_embeddings_are_aligned_but_not_uniform() -> None:
    same = np.ones((50, 8))
    assert align_loss(same, same) == pytest.approx(0.0)
    assert uniform_loss(same) == pytest.approx(0.0)  # log E exp(0) = 0: the worst uniformity


def test_evaluate_alignment_on_stsb(data_root: Path, bow_embedder) -> None:
    r = evaluate_alignment(bow_embedder, limit=200)
    assert r["positive_pairs"] > 0 and r["sentences"] > 200
    assert 0 <= r["align"] <= 4 and r["uniform"] < 0
    assert r["splits"] == ["train", "dev", "test"] and r["threshold"] == 4.0
