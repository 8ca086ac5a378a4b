"""Soft-negative similarity (SNCSE Figure 4): pairs, statistics, the PNG."""

from __future__ import annotations

import numpy as np
import pytest

from sncse.analyze.negation_sim import (
    NegationSimilarity,
    build_pairs,
    derangement,
    model_similarities,
    peak,
    plot_negation_similarity,
    sample_sentences,
)
from sncse.errors import SncseError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def toy_negate(sentences):
    """Stand-in negator: '' (skipped) for one sentence, unchanged for another, else 'not' inserted."""
    out = []
    for s in sentences:
        if s.startswith("skip"):
            out.append("")
        elif s.startswith("same"):
            out.append(s)
        else:
            first, _, rest = s.partition(" ")
            out.append(f"{first} not {rest}")
    return out


def test_peak_is_the_mode():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0.3, 0.05, 4000), rng.normal(0.8, 0.05, 1000)])
    assert peak(values) == pytest.approx(0.3, abs=0.02)
    assert values.mean() == pytest.approx(0.4, abs=0.01)  # the mean is not the peak
    assert peak(np.full(10, 0.5)) == 0.5


def test_derangement_has_no_fixed_point():
    for n in (2, 3, 10, 101):
        perm = derangement(n, seed=n)
        assert sorted(perm) == list(range(n)) and all(perm[i] != i for i in range(n))
    with pytest.raises(SncseError):
        derangement(1)


def test_build_pairs_drops_skipped_and_unchanged():
    sentences = ["a dog barks", "skip me", "same here", "the cat sleeps", "birds fly south"]
    pairs = build_pairs(sentences, toy_negate, seed=1)
    assert pairs.sentences == ["a dog barks", "the cat sleeps", "birds fly south"]
    assert pairs.negations == ["a not dog barks", "the not cat sleeps", "birds not fly south"]
    assert pairs.dropped_skipped == 1 and pairs.dropped_unchanged == 1 and pairs.requested == 5
    assert all(o != i for i, o in enumerate(pairs.others))


def test_sample_sentences_is_seeded(data_root):
    a = sample_sentences(50, seed=3)
    assert len(a) == len(set(a)) == 50
    assert a == sample_sentences(50, seed=3) and a != sample_sentences(50, seed=4)


def test_similarities_and_png(tiny_model_dir, data_root, tmp_path):
    import sncse

    pairs = build_pairs(sample_sentences(120, seed=0), toy_negate, seed=0)
    model = sncse.load(str(tiny_model_dir), device="cpu")
    sims = model_similarities("tiny", model, pairs, show_progress=False)
    emb = model.encode(pairs.sentences[:1] + pairs.negations[:1], normalize=True, show_progress=False)
    assert sims.soft_negative[0] == pytest.approx(float(emb[0] @ emb[1]), abs=1e-5)
    assert sims.soft_negative.shape == sims.negative.shape == (len(pairs.sentences),)
    stats = sims.soft_negative_stats
    assert stats.n == len(pairs.sentences) and -1 <= stats.mean <= 1 and -1 <= stats.peak <= 1
    result = NegationSimilarity(pairs, [sims, model_similarities("tiny again", model, pairs, show_progress=False)],
                                negator="toy")
    png = plot_negation_similarity(result, tmp_path / "neg.png")
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    d = result.to_dict()
    assert d["pairs"] == len(pairs.sentences) and len(d["models"]) == 2
    assert set(d["models"][0]["soft_negative"]) == {"mean", "peak", "std", "n"}
