"""Fixtures for the evaluation tests: a tiny random encoder and a deterministic fake embedder."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest


@pytest.fixture()
def tiny_encoder(tiny_backbone):
    """A SentenceEncoder around the 2-layer random BERT (CLS before pooler, no head), on CPU."""
    from sncse.encoders import SentenceEncoder

    backbone, tokenizer = tiny_backbone
    return SentenceEncoder(backbone, tokenizer, pooler="cls_before_pooler", mlp="none").eval()


def _bow(sentence: str, dim: int = 64) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    for w in sentence.lower().split():
        v[int(hashlib.md5(w.encode()).hexdigest(), 16) % dim] += 1.0
    return v


@pytest.fixture()
def bow_embedder():
    """Hashed bag of words: deterministic, and lexical overlap correlates with STS gold."""
    calls: list[int] = []

    def embed(sentences: list[str]) -> np.ndarray:
        calls.append(len(sentences))
        return np.stack([_bow(s) for s in sentences]) if sentences else np.zeros((0, 64), np.float32)

    embed.calls = calls  # type: ignore[attr-defined]
    return embed
