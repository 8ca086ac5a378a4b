"""Per-pair scores (`sncse eval --pair-scores`) and the paired bootstrap (`sncse.eval.compare`,
`sncse analyze --compare`), on real evaluations of the tiny random BERT under three poolers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from sncse.errors import SncseError
from sncse.eval.compare import compare_runs, compare_systems, draw_pairs, paired_bootstrap, rank_spearman
from sncse.eval.pair_scores import PairScores, TaskPairs, find_pair_scores, read_pair_scores
from sncse.rundir.files import pair_scores_path

LIMIT = 30
TASKS = "sts12,sts15,stsb,sickr"
POOLERS = ("cls_before_pooler", "mean", "avg_first_last")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, data_root, tiny_backbone) -> dict[str, tuple[dict, Path]]:
    """pooler -> (result of run_eval, its per-pair scores file), one tiny encoder per pooler."""
    from sncse.encoders import SentenceEncoder
    from sncse.eval.runner import run_eval

    backbone, tokenizer = tiny_backbone
    out = tmp_path_factory.mktemp("pairs")
    done = {}
    for pooler in POOLERS:
        enc = SentenceEncoder(backbone, tokenizer, pooler=pooler, mlp="none").eval()
        path = out / f"{pooler}.pair_scores.json.gz"
        result = run_eval(enc, tasks=TASKS, limit=LIMIT, pair_scores=path, show_progress=False, model_name=pooler)
        done[pooler] = (result, path)
    return done


def test_pair_scores_give_back_the_reported_scores(evaluated):
    result, path = evaluated["mean"]
    assert result["meta"]["pair_scores"] == str(path)
    assert all("pair_scores" not in t for t in result["tasks"].values())  # the result JSON stays as it was
    scores = read_pair_scores(path)
    assert scores.model == "mean" and scores.pooler == "mean" and scores.limit == LIMIT
    assert list(scores.tasks) == ["sts12", "sts15", "stsb", "sickr"]
    for task, tp in scores.tasks.items():
        reported = result["tasks"][task]
        assert tp.pairs == reported["pairs"]
        assert tp.subsets == {name: s["pairs"] for name, s in reported["subsets"].items()}
        assert 100 * spearmanr(tp.cosine, tp.gold)[0] == pytest.approx(reported["spearman"], abs=1e-9)
        for (name, sub), sl in zip(reported["subsets"].items(), tp.subset_slices(), strict=True):
            assert 100 * spearmanr(tp.cosine[sl], tp.gold[sl])[0] == pytest.approx(sub["spearman"], abs=1e-9), name
    assert scores.tasks["sts12"].subsets == {k: LIMIT for k in scores.tasks["sts12"].subsets}
    # what is on disk is plain gzip JSON
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    assert raw["kind"] == "sncse-pair-scores" and len(raw["tasks"]["stsb"]["cosine"]) == LIMIT


def test_rank_spearman_equals_scipy_with_ties_and_repeats():
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 6, size=200).astype(float)  # many ties, as STS gold scores have
    cos = np.round(rng.normal(size=200), 2)
    idx = rng.integers(0, 200, size=(5, 200))  # resampled rows repeat pairs
    got = rank_spearman(gold[idx], cos[idx])
    want = [100 * spearmanr(cos[i], gold[i])[0] for i in idx]
    assert got == pytest.approx(want, abs=1e-9)


def test_point_estimate_is_the_difference_of_the_reported_averages(evaluated):
    (ra, pa), (rc, pc), (rb, pb) = (evaluated[p] for p in POOLERS)
    cmp = compare_runs([pa, pc], [pb], resamples=200, seed=3)
    reported = (ra["avg"] + rc["avg"]) / 2 - rb["avg"]  # mean over A's two runs minus B's average
    assert cmp.avg.estimate == pytest.approx(reported, abs=1e-9)
    assert cmp.scores["a"]["avg"] == pytest.approx((ra["avg"] + rc["avg"]) / 2, abs=1e-9)
    for task in cmp.tasks:
        want = (ra["tasks"][task]["spearman"] + rc["tasks"][task]["spearman"]) / 2 - rb["tasks"][task]["spearman"]
        assert cmp.diff[task].estimate == pytest.approx(want, abs=1e-9)
    assert cmp.avg.low <= cmp.avg.estimate <= cmp.avg.high or not cmp.avg.established
    assert cmp.pairs == {"sts12": 5 * LIMIT, "sts15": 5 * LIMIT, "stsb": LIMIT, "sickr": LIMIT}
    again = compare_runs([pa, pc], [pb], resamples=200, seed=3)
    assert again.to_dict() == cmp.to_dict()  # the draws depend on the seed only
    other = compare_runs([pa, pc], [pb], resamples=200, seed=4)
    assert other.avg.estimate == cmp.avg.estimate and other.avg.low != cmp.avg.low


def _synthetic(noise: float, seed: int, subsets: dict[str, int]) -> PairScores:
    rng = np.random.default_rng(seed)
    n = sum(subsets.values())
    gold = np.random.default_rng(0).uniform(0, 5, size=n).round(1)
    tasks = {t: TaskPairs(t, gold, gold + rng.normal(scale=noise, size=n), subsets) for t in ("stsb", "sickr")}
    return PairScores(tasks, model=f"noise {noise}")


def test_a_clear_difference_is_established_and_none_is_not():
    subsets = {"a": 150, "b": 250}
    good, bad = _synthetic(0.5, 1, subsets), _synthetic(3.0, 2, subsets)
    cmp = paired_bootstrap([good], [bad], names=("good", "bad"), resamples=300)
    assert cmp.avg.established and cmp.avg.low > 0 and cmp.p_value < 0.01
    assert "good is better than bad (established)" in cmp.verdict()
    flipped = paired_bootstrap([bad], [good], names=("bad", "good"), resamples=300)
    assert flipped.avg.high < 0 and "good is better than bad" in flipped.verdict()
    same = paired_bootstrap([good], [good], resamples=50)  # identical systems: every resample differs by 0
    assert same.avg.estimate == 0 and same.avg.low == 0 == same.avg.high and not same.avg.established
    assert "not established" in same.verdict() and same.p_value == 1.0


def test_several_comparisons_at_once_equal_each_alone():
    sub = {"a": 120, "b": 80}
    systems = {"x": [_synthetic(0.5, 1, sub), _synthetic(0.6, 2, sub)], "y": [_synthetic(1.0, 3, sub)],
               "z": [_synthetic(2.0, 4, sub)]}
    together = compare_systems(systems, [("x", "y"), ("y", "z"), ("x", "z")], resamples=120, seed=5)
    for cmp in together:
        a, b = cmp.names
        alone = paired_bootstrap(systems[a], systems[b], names=(a, b), resamples=120, seed=5)
        assert cmp.to_dict() == alone.to_dict()
    with pytest.raises(SncseError, match="no runs for system 'w'"):
        compare_systems(systems, [("x", "w")])


def test_draws_stay_inside_each_subset():
    tp = TaskPairs("sts12", np.arange(100.0), np.arange(100.0), {"x": 40, "empty": 0, "y": 60})
    idx = draw_pairs(np.random.default_rng(0), tp.subset_slices(), rows=50)
    assert idx.shape == (50, 100)
    assert ((idx[:, :40] >= 0) & (idx[:, :40] < 40)).all() and ((idx[:, 40:] >= 40) & (idx[:, 40:] < 100)).all()
    assert len(np.unique(idx[:, :40])) == 40  # over 50 draws every pair of the subset comes up


def test_unpaired_or_incomplete_runs_are_refused(tmp_path):
    a = _synthetic(0.5, 1, {"a": 100})
    b = _synthetic(0.5, 2, {"a": 90})
    with pytest.raises(SncseError, match="same test pairs"):
        paired_bootstrap([a], [b])
    with pytest.raises(SncseError, match="no per-pair scores for task sts12"):
        paired_bootstrap([a], [_synthetic(0.5, 3, {"a": 100})], tasks=["sts12"])
    with pytest.raises(SncseError, match="at least one run"):
        paired_bootstrap([], [a])
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(SncseError, match="eval_test.pair_scores.json.gz"):
        find_pair_scores(run)
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(SncseError, match="bad.json.gz"):
        read_pair_scores(tmp_path / "bad.json.gz")
    assert find_pair_scores(tmp_path / "bad.json.gz") == tmp_path / "bad.json.gz"
    assert pair_scores_path(run, "dev") == run / "eval_dev.pair_scores.json.gz"


def test_eval_and_analyze_compare_cli(runner, cli_app, data_root, tmp_path, evaluated):
    """sncse eval --pair-scores writes the file; sncse analyze --compare reads run folders and files."""
    run = tmp_path / "runs" / "zs-mean-s1"
    res = runner.invoke(cli_app, ["-q", "eval", "tiny-bert", "--pooler", "mean", "--tasks", TASKS, "--limit",
                                  str(LIMIT), "--pair-scores", str(pair_scores_path(run)), "--json",
                                  str(run / "eval_test.json")])
    assert res.exit_code == 0, res.output
    _, cls_file = evaluated["cls_before_pooler"]
    res = runner.invoke(cli_app, ["-q", "analyze", "--compare", str(cls_file), "--against", str(run),
                                  "--resamples", "100", "--json", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    reported = json.loads((run / "eval_test.json").read_text())["avg"]
    assert data["b"]["scores"]["avg"] == pytest.approx(reported, abs=1e-9)
    assert data["b"]["name"] == "zs-mean-s1" and data["resamples"] == 100
    assert data["diff"]["avg"]["estimate"] == pytest.approx(evaluated["cls_before_pooler"][0]["avg"] - reported,
                                                            abs=1e-9)
    table = runner.invoke(cli_app, ["-q", "analyze", "--compare", f"{tmp_path}/runs/zs-*", "--against",
                                    str(cls_file), "--resamples", "50"])  # a quoted glob pattern
    assert table.exit_code == 0, table.output
    assert "Avg." in table.output and "95% interval" in table.output
    missing = runner.invoke(cli_app, ["analyze", "--compare", str(tmp_path), "--against", str(run)])
    assert missing.exit_code == 2 and "--pair-scores" in missing.output
    stray = runner.invoke(cli_app, ["analyze", "--compare", str(run), "--against", str(run), str(cls_file)])
    assert stray.exit_code == 2 and "comma" in stray.output
