"""Ranks R_G/R_E, errors (R_E - R_G)^2 and the top-K pairs against scipy on small examples (SNCSE Eq. 10-11)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

from sncse.analyze.ranks import analyze_pairs, rank_errors, ranks, spearman_from_errors, top_k
from sncse.data.senteval import load_sts


def test_ranks_average_ties_like_spearman():
    gold = [0.5, 3.0, 3.0, 1.0, 5.0, 3.0]
    assert ranks(gold).tolist() == [1.0, 4.0, 4.0, 2.0, 6.0, 4.0]
    np.testing.assert_array_equal(ranks(gold), rankdata(gold))


def test_errors_by_hand():
    gold = [1.0, 2.0, 3.0, 4.0]
    pred = [0.1, 0.4, 0.3, 0.2]  # ranks 1, 4, 3, 2
    r_g, r_e, err = rank_errors(gold, pred)
    assert r_g.tolist() == [1, 2, 3, 4] and r_e.tolist() == [1, 4, 3, 2]
    assert err.tolist() == [0, 4, 0, 4]


def test_eq11_equals_scipy_spearman_without_ties():
    rng = np.random.default_rng(0)
    gold, pred = rng.normal(size=50), rng.normal(size=50)
    _, _, err = rank_errors(gold, pred)
    assert spearman_from_errors(err) == pytest.approx(spearmanr(pred, gold)[0], abs=1e-12)


def test_ties_keep_scipy_ranks_and_scipy_spearman():
    gold = np.array([0.0, 1.0, 1.0, 2.0, 4.0, 4.0, 4.0, 5.0])
    pred = np.array([0.3, 0.1, 0.1, 0.7, 0.5, 0.9, 0.2, 0.9])
    res = analyze_pairs("t", "test", list("abcdefgh"), list("ABCDEFGH"), gold, pred, k=3, tag=False)
    np.testing.assert_array_equal([p.rank_gold for p in res.pairs], rankdata(gold))
    np.testing.assert_array_equal([p.rank_est for p in res.pairs], rankdata(pred))
    np.testing.assert_allclose([p.error for p in res.pairs], (rankdata(pred) - rankdata(gold)) ** 2)
    assert res.ties and res.spearman == pytest.approx(100 * spearmanr(pred, gold)[0])


def test_top_k_largest_first_and_direction():
    gold = [1.0, 2.0, 3.0, 4.0, 5.0]
    pred = [0.9, 0.2, 0.3, 0.4, 0.1]  # pair 0 over-estimated (rank 5 vs 1), pair 4 under (1 vs 5)
    res = analyze_pairs("t", "test", ["a"] * 5, ["b"] * 5, gold, pred, k=2, tag=False)
    assert [p.index for p in res.top] == [0, 4]  # equal errors 16: ties broken by index
    assert res.top[0].direction == "over" and res.top[1].direction == "under"
    assert res.top[0].error == 16.0
    d = res.to_dict()
    assert d["k"] == 2 and d["pairs"][0]["rank_gold"] == 1.0 and d["pairs"][0]["rank_est"] == 5.0
    assert set(d["pairs"][0]) >= {"sentence1", "sentence2", "gold", "cosine", "rank_gold", "rank_est", "error", "tags"}


def test_top_k_bounds():
    err = np.array([1.0, 5.0, 3.0])
    assert top_k(err, 10).tolist() == [1, 2, 0]
    assert top_k(err, 0).tolist() == []
    with pytest.raises(ValueError):
        rank_errors([1.0, 2.0], [1.0])


def test_analyze_task_agrees_with_sts_evaluation(tiny_model_dir, data_root):
    import sncse
    from sncse.analyze.ranks import analyze_task
    from sncse.eval.sts import evaluate_sts

    model = sncse.load(str(tiny_model_dir), device="cpu")
    res = analyze_task(model, "sts16", k=5, show_progress=False)
    assert len(res.pairs) == load_sts("sts16").pairs and len(res.top) == 5  # 1,186 pairs in the full data
    assert res.spearman == pytest.approx(evaluate_sts(model, ["sts16"], show_progress=False)["tasks"]["sts16"]["spearman"])
    errors = np.array([p.error for p in res.pairs])
    assert res.top[0].error == errors.max()
    assert [p.error for p in res.top] == sorted([p.error for p in res.top], reverse=True)
