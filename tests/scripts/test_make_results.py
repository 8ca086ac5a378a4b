"""scripts/make_results.py on a folder written by the real producers, as scripts/reproduce.sh lays it out.

The fixture runs, in-process and at tiny sizes, what reproduce.sh runs: `repro_tools corpus` /
`pack-negations` / `analysis-sentences` / `meta`, `sncse negate` (spaCy), `sncse eval` of the zero-shot
encoder (test and dev), `sncse train` + `sncse eval RUN` for three runs, and `sncse analyze --negation
--pairs`. Every number the tests expect is read back from the files those commands wrote, so a change
in what a producer writes (a file name, a key) fails here instead of silently emptying the page.
"""

from __future__ import annotations

import copy
import json
import statistics
from pathlib import Path

import pytest

from sncse.data.tasks import STS_TASKS

REPO = Path(__file__).resolve().parents[2]
TINY = str(REPO / "configs" / "tiny.yaml")
POOLER = "cls"
RUNS = ("bml-cls-s1", "bml-cls-s2", "infonce-cls-s1")  # infonce-cls-s2 is left out: a missing run
LIMIT = 5  # STS test pairs per subset
FORBIDDEN = ("issue", "session", "shared/tools", "lent to", "H100")


def _invoke(runner, cli_app, *args: str) -> None:
    result = runner.invoke(cli_app, ["-q", *args])
    assert result.exit_code == 0, (args, result.output)


@pytest.fixture(scope="module")
def repro(tmp_path_factory, data_root, repro_tools, cli_app) -> Path:
    """A reproduce.sh output folder (grid cpu) made by the real commands."""
    from typer.testing import CliRunner

    from sncse.negation.driver import negate_file

    runner = CliRunner()
    out = tmp_path_factory.mktemp("repro") / "repro-cpu"
    prep, work = out / "prepared", out / "work"
    meta = out / "grid.json"
    repro_tools.merge_meta(meta, [
        'grid="cpu"', 'commands[]="scripts/reproduce.sh --grid cpu"', 'started?="2026-01-01T00:00:00+00:00"',
        'machine="2 CPU cores"', "threads=1", "jobs=1", 'device="cpu"', 'encoder="tiny-bert"',
        'settings.methods="zeroshot,infonce,bml"', f'settings.poolers="{POOLER}"', 'settings.seeds="1,2"',
        "settings.batch=16", "settings.lr=1e-4", "settings.eval_steps=2", 'settings.dev_limit="40"',
        f'settings.test_limit="{LIMIT}"', "settings.analysis_n=30", "settings.analysis_seed=0", "settings.steps=3"])
    # prepare: corpus (wiki prefix + TREC), negated and packed; the analysis sentences, negated
    wiki = work / "wiki.txt"
    work.mkdir(parents=True)
    wiki.write_text("".join(line + "\n" for line in (data_root / "corpus" / "wiki1m_head.txt")
                            .read_text(encoding="utf-8").splitlines()[:40]), encoding="utf-8")
    repro_tools.build_corpus(wiki, work / "corpus.txt", [], root=str(data_root))
    negate_file(work / "corpus.txt", work / "corpus.negations.jsonl", workers=1)
    prep.mkdir()
    packed = repro_tools.pack_negations(work / "corpus.negations.jsonl", prep / "corpus.negations.jsonl.gz")
    repro_tools.merge_meta(work / "corpus.stats.json", [f"training_pairs_faithful={json.dumps(packed)}"])
    (prep / "corpus.stats.json").write_bytes((work / "corpus.stats.json").read_bytes())
    repro_tools.write_analysis_sentences(work / "analysis.txt", 30, 0)
    pairs = prep / "analysis_n30_seed0.negations.jsonl"
    negate_file(work / "analysis.txt", pairs, workers=1)
    # zero-shot
    zs = out / "zeroshot" / POOLER
    _invoke(runner, cli_app, "eval", "tiny-bert", "--pooler", POOLER, "--device", "cpu", "--limit", str(LIMIT),
            "--pair-scores", str(zs / "eval_test.pair_scores.json.gz"), "--json", str(zs / "eval_test.json"))
    _invoke(runner, cli_app, "eval", "tiny-bert", "--pooler", POOLER, "--device", "cpu", "--mode", "dev",
            "--limit", "40", "--json", str(zs / "eval_dev.json"))
    # train + test-evaluate
    for name in RUNS:
        method, _, seed = name.split("-")
        run = out / "runs" / name
        _invoke(runner, cli_app, "train", "-c", TINY, "-o", str(run), "--loss", method, "--pooler", POOLER,
                "--data", str(prep / "corpus.negations.jsonl.gz"), "--set", f"train.seed={seed[1:]}",
                "--set", "train.max_steps=3", "--set", "train.batch_size=16", "--set", "train.eval_steps=2",
                "--set", "train.eval_limit=40", "--set", "train.log_steps=1", "--set", "train.device=cpu")
        _invoke(runner, cli_app, "eval", str(run), "--device", "cpu", "--limit", str(LIMIT),
                "--pair-scores", str(run / "eval_test.pair_scores.json.gz"), "--json", str(run / "eval_test.json"))
    # analysis: the models under readable names, negations from the prepare stage
    a = out / "analysis" / POOLER
    (a / "models").mkdir(parents=True)
    (a / "models" / "SNCSE-bml").symlink_to(out / "runs" / "bml-cls-s1")
    (a / "models" / "SimCSE-infonce").symlink_to(out / "runs" / "infonce-cls-s1")
    _invoke(runner, cli_app, "analyze", str(a / "models" / "SNCSE-bml"), str(a / "models" / "SimCSE-infonce"),
            "--negation", "--pairs", str(pairs), "--seed", "0", "--pooler", POOLER, "--device", "cpu",
            "--out", str(a), "--json", str(a / "negation.json"))
    repro_tools.merge_meta(meta, ['finished="2026-01-01T00:10:00+00:00"', "wall_seconds+=600", "calls+=1"])
    return out


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_mean_std_and_fmt(make_results):
    s = make_results.mean_std([1.0, 2.0, 3.0])
    assert s["mean"] == pytest.approx(2.0) and s["std"] == pytest.approx(1.0) and s["n"] == 3
    assert make_results.mean_std([4.0]) == {"mean": 4.0, "std": None, "n": 1}
    assert make_results.mean_std([])["mean"] is None
    assert make_results.fmt({"mean": 1.234, "std": 0.5}) == "1.23 ± 0.50"
    assert make_results.fmt({"mean": 1.234, "std": None}) == "1.23"
    assert make_results.fmt(None) == "-"


def test_collect_reads_what_the_commands_wrote(repro, make_results):
    s = make_results.collect(repro)
    evals = {name: _read(repro / "runs" / name / "eval_test.json") for name in RUNS}
    results = {name: _read(repro / "runs" / name / "results.json") for name in RUNS}
    assert [r["name"] for r in s["runs"]] == sorted(RUNS)
    assert s["missing"] == ["infonce-cls-s2"] and len(s["expected"]) == 4
    bml = s["aggregate"]["bml"][POOLER]
    avgs = [evals[n]["avg"] for n in ("bml-cls-s1", "bml-cls-s2")]
    assert bml["n"] == 2 and bml["seeds"] == [1, 2]
    assert bml["avg"]["mean"] == pytest.approx(statistics.mean(avgs))
    assert bml["avg"]["std"] == pytest.approx(statistics.stdev(avgs))  # sample standard deviation
    for task in STS_TASKS:
        per_seed = [evals[n]["tasks"][task]["spearman"] for n in ("bml-cls-s1", "bml-cls-s2")]
        assert bml["tasks"][task]["mean"] == pytest.approx(statistics.mean(per_seed))
    assert bml["dev"]["mean"] == pytest.approx(statistics.mean(
        results[n]["best_dev_stsb"] for n in ("bml-cls-s1", "bml-cls-s2")))
    assert bml["best_steps"] == [results["bml-cls-s1"]["best_step"], results["bml-cls-s2"]["best_step"]]
    run = next(r for r in s["runs"] if r["name"] == "infonce-cls-s1")
    assert run["row"] == run["loss"] == "infonce" and run["pooler"] == POOLER and run["seed"] == 1
    assert run["test_limit"] == LIMIT and run["train_seconds"] == results["infonce-cls-s1"]["train_seconds"]
    assert run["test_pairs"]["sts12"] == 5 * LIMIT  # five subsets
    zs_test, zs_dev = (_read(repro / "zeroshot" / POOLER / f"eval_{m}.json") for m in ("test", "dev"))
    zs = s["zeroshot"][POOLER]
    assert zs["avg"] == pytest.approx(zs_test["avg"]) and zs["dev_stsb"] == zs_dev["tasks"]["stsb"]["spearman"]
    assert zs["dev_pairs"] == 40
    negation = _read(repro / "analysis" / POOLER / "negation.json")
    a = s["analysis"][POOLER]
    assert a["pairs"] == negation["pairs"] and a["negator"] == "spacy (faithful)"
    assert [m["model"] for m in a["models"]] == ["SNCSE-bml", "SimCSE-infonce"]
    corpus = _read(repro / "prepared" / "corpus.stats.json")
    assert s["corpus"]["lines"] == corpus["lines"] and s["corpus"]["training_pairs_faithful"]["pairs"] > 0
    # the paired bootstrap of SNCSE against InfoNCE: its point estimate is the difference of the table's means
    (cmp,) = [c for c in s["comparisons"][POOLER] if (c["a"]["name"], c["b"]["name"]) == ("bml", "infonce")]
    assert cmp["a"]["runs"] == ["bml-cls-s1", "bml-cls-s2"] and cmp["b"]["runs"] == ["infonce-cls-s1"]
    assert cmp["diff"]["avg"]["estimate"] == pytest.approx(
        statistics.mean(avgs) - evals["infonce-cls-s1"]["avg"], abs=1e-9)
    assert cmp["diff"]["avg"]["low"] <= cmp["diff"]["avg"]["high"]
    assert {(c["a"]["name"], c["b"]["name"]) for c in s["comparisons"][POOLER]} == {
        ("bml", "infonce"), ("infonce", "zeroshot"), ("bml", "zeroshot")}
    m = a["models"][0]
    assert m["gap"] == pytest.approx(m["soft_negative"]["mean"] - m["negative"]["mean"])


def test_page_from_the_real_folder(repro, make_results, tmp_path):
    docs = tmp_path / "docs"
    assert make_results.main([str(repro), "--docs", str(docs)]) == 0
    assert sorted(p.name for p in docs.iterdir()) == ["results.md", "results_cpu.json",
                                                      "results_cpu_negation_cls.png"]  # no temp files left
    page = (docs / "results.md").read_text(encoding="utf-8")
    s = _read(docs / "results_cpu.json")
    assert "## CPU grid" in page and "## GPU grid (prepared, not run)" in page and "not run yet" in page
    bml = s["aggregate"]["bml"][POOLER]
    row = next(line for line in page.splitlines() if line.startswith("| SNCSE (`bml`, faithful"))
    assert make_results.fmt(bml["tasks"]["sts12"]) in row and f"**{make_results.fmt(bml['avg'])}**" in row
    assert "2 (1, 2)" in row
    zs_row = next(line for line in page.splitlines() if line.startswith("| zero-shot"))
    assert f"**{s['zeroshot'][POOLER]['avg']:.2f}**" in zs_row
    pairs = sum(s["zeroshot"][POOLER]["test_pairs"].values())
    assert f"first {LIMIT} pairs of every subset of every task ({pairs:,} pairs of the 18,850)" in page
    assert "STS-B dev, first 40 pairs" in page
    m = s["analysis"][POOLER]["models"][0]
    assert (f"| SNCSE-bml | {m['soft_negative']['peak']:.3f} | {m['soft_negative']['mean']:.3f} | "
            f"{m['negative']['peak']:.3f} | {m['negative']['mean']:.3f} | {m['gap']:+.3f} |") in page
    cmp_row = next(line for line in page.splitlines() if line.startswith("| SNCSE - InfoNCE |"))
    d = next(c for c in s["comparisons"][POOLER] if c["b"]["name"] == "infonce")["diff"]["avg"]
    assert f"**{d['estimate']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]**" in cmp_row and "| 2 / 1 |" in cmp_row
    assert "](results_cpu_negation_cls.png)" in page
    assert "**Missing runs** (1 of 4): `infonce-cls-s2`." in page
    # each measured table names the JSON it comes from
    lines = page.splitlines()
    marker = "<!-- source: docs/results_cpu.json -->"
    header = next(i for i, line in enumerate(lines) if line.startswith("| row | STS12 |"))
    assert lines[header - 1] == marker
    assert lines.count(marker) >= 2
    assert not [w for w in FORBIDDEN if w in page]
    # --render-only gives the same page from the summary alone
    (docs / "results.md").unlink()
    assert make_results.main(["--render-only", "--docs", str(docs)]) == 0
    assert (docs / "results.md").read_text(encoding="utf-8") == page


def test_table3_ordering(repro, make_results):
    s = copy.deepcopy(make_results.collect(repro))
    agg = s["aggregate"]
    # only the averages matter here: give each Table 3 loss a cell with a chosen mean
    for method, mean, std in (("bml", 60.0, 5.0), ("infonce", 66.0, 0.5), ("pl", 67.0, None), ("nl", 50.0, None)):
        cell = copy.deepcopy(agg["bml"][POOLER])
        cell["avg"] = {"mean": mean, "std": std, "n": 2}
        agg.setdefault(method, {})[POOLER] = cell
    text = "\n".join(make_results.table3(s, POOLER))
    assert f"Our order (pooler `{POOLER}`, mean over seeds): PL > InfoNCE > SNCSE > NL" in text
    assert "**differs**" in text and "smaller than the seed standard deviation" in text
    assert "78.97 |" in text and "not checked against its text" in text
    agg["bml"][POOLER]["avg"]["mean"] = 70.0
    agg["nl"][POOLER]["avg"]["mean"] = 40.0
    agg["pl"][POOLER]["avg"]["mean"] = 65.0
    text = "\n".join(make_results.table3(s, POOLER))
    assert "SNCSE > InfoNCE > PL > NL" in text and "**matches**" in text


def test_bad_folders(tmp_path, make_results):
    with pytest.raises(SystemExit, match="grid.json"):
        make_results.collect(tmp_path / "nothing")
    with pytest.raises(SystemExit, match="no .*results_"):
        make_results.render_docs(tmp_path / "empty-docs")
    broken = tmp_path / "broken"
    (broken / "zeroshot" / "cls").mkdir(parents=True)
    (broken / "grid.json").write_text("{}", encoding="utf-8")
    (broken / "zeroshot" / "cls" / "eval_test.json").write_text('{"tasks":\n', encoding="utf-8")
    assert make_results.main([str(broken), "--docs", str(tmp_path / "d")]) == 2  # one line naming the file


def test_suppression_reading_leaves_out_undefined_bins(make_results):
    """A word-overlap bin with too few pairs has no estimate: the reading says nothing of it."""
    s = {"grid": "cpu", "page": {"suppression": {"bins": ["<0.3", ">=0.7"]}}}
    undefined = {"estimate": None, "low": None, "high": None, "established": False}
    worse = {"estimate": -1.0, "low": -2.0, "high": -0.5, "established": True}
    ov = {"diff": {"sickr@>=0.7": undefined, "stsb@<0.3": undefined, "sickr@<0.3": worse}}
    text = " ".join(make_results.suppression_reading(s, POOLER, {}, {make_results.KEY_COMPARISONS[0]: ov}))
    assert "highest-overlap" not in text
    assert "lowest-overlap bins (SICK-R -1.00) SNCSE loses to InfoNCE beyond test-set chance in SICK-R." in text


def test_previous_summary_fills_the_stages_not_run_again(repro, make_results, tmp_path):
    """``--previous``: the same runs compare as identical, and a stage that ran only before (here a
    sweep) keeps its section on the page, which says that it was not run again."""
    first = tmp_path / "first"
    assert make_results.main([str(repro), "--docs", str(first)]) == 0
    previous = _read(first / "results_cpu.json")
    assert previous["sweep"] is None and "sweep" not in previous["run"].get("stages", {})
    previous["run"].setdefault("stages", {})["sweep"] = {"seconds": 1}
    previous["sweep"] = {"runs": [{"alpha": 0.2, "beta": 0.5, "lambda": 0.01, "dev_stsb": 80.5,
                                   "test_avg": 70.25, "run": "bml-a0.2-b0.5-w1e-2"}],
                         "chosen_on_dev": "bml-a0.2-b0.5-w1e-2"}
    old = tmp_path / "old.json"
    old.write_text(json.dumps(previous), encoding="utf-8")
    docs = tmp_path / "docs"
    assert make_results.main([str(repro), "--docs", str(docs), "--previous", str(old)]) == 0
    s = _read(docs / "results_cpu.json")
    assert s["rerun"]["identical"] and s["rerun"]["runs_compared"] == len(RUNS) + 1  # the zero-shot row too
    assert s["rerun"]["carried_over"] == ["sweep"] and s["sweep"] == previous["sweep"]
    page = (docs / "results.md").read_text(encoding="utf-8")
    assert "| 0.2 | 0.5 | 0.01 | 80.50 | 70.25 | `bml-a0.2-b0.5-w1e-2` (chosen on dev) |" in page
    assert "Not run again this time: the sweep stage; its section below is the previous run's." in page
    assert "are **identical**" in page
