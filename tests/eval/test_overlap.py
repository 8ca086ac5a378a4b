"""STS by word overlap (`sncse.eval.overlap`, `sncse analyze --overlap`) on the real STS-B and SICK-R test
files: the bins partition the pairs, each bin's Spearman is scipy's on that subset, and the paired tests
within bins (`sncse.eval.compare`)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy.stats import spearmanr

from sncse.data.senteval import load_sts
from sncse.errors import DataError
from sncse.eval.compare import compare_overlap, compare_systems, compare_triplets
from sncse.eval.overlap import bin_labels, jaccard, scores_breakdown, split_by_overlap, task_breakdown
from sncse.eval.pair_scores import PairScores, TaskPairs, TripletRows, read_pair_scores, write_pair_scores


def independent_overlap(a: str, b: str) -> float:
    """The documented definition, written again: lower-cased words, n't its own word, Jaccard of the sets."""
    def ws(s: str) -> set[str]:
        return set(re.findall(r"n't|[^\W_]+(?:'[^\W_]+)*", s.lower()))

    A, B = ws(a), ws(b)
    return len(A & B) / len(A | B) if A | B else 1.0


def fake_cosines(gold: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(gold / 5 + rng.normal(scale=0.3, size=len(gold)), 6)


@pytest.mark.parametrize("name", ["stsb", "sickr"])
def test_bins_partition_the_pairs_and_each_spearman_is_scipys(data_root, name):
    task = load_sts(name, "test")
    s1, s2, gold = task.all_pairs()
    cos = fake_cosines(gold, 0)
    got = task_breakdown(task, cos)
    ov = np.array([independent_overlap(a, b) for a, b in zip(s1, s2, strict=True)])
    edges = [0.0, 0.3, 0.5, 0.7, np.inf]
    assert [b["bin"] for b in got["bins"]] == ["<0.3", "0.3-0.5", "0.5-0.7", ">=0.7"]
    assert sum(b["pairs"] for b in got["bins"]) == len(gold) == got["pairs"]
    for b, lo, hi in zip(got["bins"], edges[:-1], edges[1:], strict=True):
        mask = (ov >= lo) & (ov < hi)
        assert b["pairs"] == mask.sum() > 50
        assert b["spearman"] == pytest.approx(100 * spearmanr(cos[mask], gold[mask])[0], abs=1e-9)
    assert got["spearman"] == pytest.approx(100 * spearmanr(cos, gold)[0], abs=1e-9)


def test_jaccard():
    assert jaccard("A man is n't here.", "a MAN isn't here") == pytest.approx(3 / 6)
    assert jaccard("", "...") == 1.0 and jaccard("a b", "c d") == 0.0


def _scores(tasks: dict[str, np.ndarray], seed: int, path=None) -> PairScores:
    out = {}
    for name, gold in tasks.items():
        out[name] = TaskPairs(name, gold, fake_cosines(gold, seed), {name: len(gold)})
    return PairScores(out, path=path)


def test_from_a_scores_file_and_split_for_the_bootstrap(data_root, tmp_path):
    golds = {t: load_sts(t, "test").all_pairs()[2] for t in ("stsb", "sickr")}
    path = write_pair_scores(tmp_path / "a.json.gz", _scores(golds, 1))
    scores = read_pair_scores(path)
    via_file = scores_breakdown(scores)
    assert via_file["stsb"] == task_breakdown(load_sts("stsb", "test"), scores.tasks["stsb"].cosine)
    split = split_by_overlap(scores, ["stsb", "sickr"])
    assert list(split.tasks) == [f"{t}@{b}" for t in ("stsb", "sickr") for b in bin_labels()]
    for t in ("stsb", "sickr"):
        assert sum(split.tasks[f"{t}@{b}"].pairs for b in bin_labels()) == scores.tasks[t].pairs
        for b, row in zip(bin_labels(), via_file[t]["bins"], strict=True):
            tp = split.tasks[f"{t}@{b}"]
            assert tp.pairs == row["pairs"]
            assert 100 * spearmanr(tp.cosine, tp.gold)[0] == pytest.approx(row["spearman"], abs=1e-9)
    other = _scores({"stsb": golds["stsb"][::-1].copy()}, 1)  # other gold order: not this data
    with pytest.raises(DataError, match="gold scores are not those"):
        scores_breakdown(other)


def test_paired_tests_within_bins_and_over_triplet_rows(data_root):
    golds = {"stsb": load_sts("stsb", "test").all_pairs()[2]}
    systems = {"a": [_scores(golds, 1), _scores(golds, 2)], "b": [_scores(golds, 3)]}
    (cmp,) = compare_overlap(systems, [("a", "b")], tasks=["stsb"], resamples=200)
    split = {k: [split_by_overlap(s, ["stsb"]) for s in v] for k, v in systems.items()}
    (same,) = compare_systems(split, [("a", "b")], tasks=cmp.tasks, resamples=200)
    assert cmp.tasks == [f"stsb@{b}" for b in bin_labels()] == same.tasks
    assert {t: d.to_dict() for t, d in cmp.diff.items()} == {t: d.to_dict() for t, d in same.diff.items()}

    rng = np.random.default_rng(0)
    pos = rng.uniform(0.5, 1.0, 300)
    neg = pos - rng.normal(0.05, 0.1, 300)
    better = PairScores({}, triplets={"negation": TripletRows("negation", pos, neg)})
    worse = PairScores({}, triplets={"negation": TripletRows("negation", pos, neg + 0.2)})
    (t,) = compare_triplets({"good": [better], "bad": [worse]}, [("good", "bad")], resamples=500)
    acc = [100 * np.mean(p > n) for p, n in ((pos, neg), (pos, neg + 0.2))]
    assert t.diff["accuracy"].estimate == pytest.approx(acc[0] - acc[1]) and t.diff["accuracy"].established
    assert t.diff["margin"].estimate == pytest.approx(0.2) and t.diff["margin"].low == pytest.approx(0.2)
    (tie,) = compare_triplets({"x": [better], "y": [better]}, [("x", "y")], resamples=100)
    assert tie.diff["accuracy"].to_dict() == {"estimate": 0.0, "low": 0.0, "high": 0.0, "established": False}
    assert json.loads(json.dumps(t.to_dict()))["rows"] == 300


def test_cli_overlap_from_scores_files_and_compare(runner, cli_app, data_root, tmp_path):
    golds = {t: load_sts(t, "test").all_pairs()[2] for t in ("stsb", "sickr")}
    a = write_pair_scores(tmp_path / "a.json.gz", _scores(golds, 1))
    b = write_pair_scores(tmp_path / "b.json.gz", _scores(golds, 2))
    res = runner.invoke(cli_app, ["analyze", str(a), str(b), "--overlap", "--json", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["bins"] == bin_labels() and [m["model"] for m in data["models"]] == [str(a), str(b)]
    assert data["models"][0]["tasks"]["sickr"] == scores_breakdown(read_pair_scores(a))["sickr"]
    res = runner.invoke(cli_app, ["analyze", "--compare", str(a), "--against", str(b), "--overlap", "--tasks", "sickr",
                                  "--resamples", "50", "--json", "-"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["tasks"] == [f"sickr@{x}" for x in bin_labels()]
