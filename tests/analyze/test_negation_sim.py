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


def test_read_pairs_in_file_order_with_the_negator_from_the_stats(tmp_path):
    from sncse.analyze.negation_sim import read_pairs
    from sncse.io import write_json
    from sncse.negation.driver import stats_path_for
    from sncse.negation.formats import format_pair

    path = tmp_path / "s.negations.jsonl"
    path.write_text("".join([format_pair("a dog barks", "a dog does not bark"), "\n",
                             format_pair("same here", "same here"), format_pair("skip me", ""),
                             format_pair("the cat sleeps", "the cat does not sleep"),
                             format_pair("birds fly", "birds do not fly")]), encoding="utf-8")
    pairs = read_pairs(path, seed=2)
    assert pairs.sentences == ["a dog barks", "the cat sleeps", "birds fly"]
    assert pairs.negations == ["a dog does not bark", "the cat does not sleep", "birds do not fly"]
    assert (pairs.requested, pairs.dropped_unchanged, pairs.dropped_skipped) == (5, 1, 1)  # the blank line is not a pair
    assert pairs.others == build_pairs(pairs.sentences, lambda s: pairs.negations, seed=2).others
    assert pairs.negator == f"from {path.name}" and pairs.source == str(path)
    write_json(stats_path_for(path), {"backend": "spacy.v1", "mode": "improved"})
    assert read_pairs(path).negator == "spacy (improved)"
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(SncseError, match="no .sentence, negation. pairs"):
        read_pairs(tmp_path / "empty.jsonl")


def test_negation_similarity_takes_pairs_and_loaded_models(tiny_model_dir, tmp_path):
    import sncse
    from sncse.analyze import negation_similarity

    sentences = ["a dog barks", "the cat sleeps", "birds fly south", "skip me"]
    pairs = build_pairs(sentences, toy_negate, seed=0)
    model = sncse.load(str(tiny_model_dir), device="cpu")
    result = negation_similarity({"loaded": model}, pairs, show_progress=False, figure=tmp_path / "f" / "neg.png")
    by_path = negation_similarity([str(tiny_model_dir)], pairs, device="cpu", show_progress=False)
    assert result.png == tmp_path / "f" / "neg.png" and result.png.read_bytes()[:8] == PNG_MAGIC
    assert by_path.png is None and by_path.models[0].name == tiny_model_dir.name
    np.testing.assert_allclose(result.models[0].soft_negative, by_path.models[0].soft_negative, atol=1e-6)
    row = result.rows()[0]
    assert row["model"] == "loaded" and row["pairs"] == 3
    assert row["soft_negative_mean"] == pytest.approx(float(result.models[0].soft_negative.mean()))
    assert result.to_dict()["png"] == str(result.png)
    with pytest.raises(SncseError, match="at least one model"):
        negation_similarity([], pairs)
