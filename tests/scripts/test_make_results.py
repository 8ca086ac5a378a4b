"""scripts/make_results.py: aggregation of fabricated reproduce.sh output folders into docs/results.md."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

TASKS = ("sts12", "sts13", "sts14", "sts15", "sts16", "stsb", "sickr")
# a 1x1 PNG (the page only copies it)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def _write(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")


def _eval(base: float, limit=None) -> dict:
    """An eval JSON as `sncse eval --json` writes it: task i scores base + i, so avg = base + 3."""
    tasks = {t: {"spearman": base + i, "pairs": 100} for i, t in enumerate(TASKS)}
    return {"schema": 1, "tasks": tasks, "avg": sum(v["spearman"] for v in tasks.values()) / 7,
            "meta": {"limit": limit}}


def fabricate(root: Path, grid: str = "cpu", avgs: dict | None = None, skip: tuple[str, ...] = ()) -> Path:
    """A reproduce.sh output folder: zero-shot, runs of 4 methods x 2 seeds (minus ``skip``), an analysis."""
    avgs = avgs or {"bml": (70.0, 72.0), "infonce": (69.0, 69.5), "pl": (66.0, 67.0), "nl": (60.0, 61.0)}
    out = root / f"repro-{grid}"
    _write(out / "grid.json", {
        "grid": grid, "commands": [f"scripts/reproduce.sh --grid {grid}"], "started": "2026-11-22T18:00:00",
        "machine": "2 CPU cores", "device": "cpu", "threads": 2, "jobs": 1, "load_at_start": "1.0 1.0 1.0",
        "wall_seconds": 100, "stages": {"train": {"seconds": 80}},
        "settings": {"methods": "zeroshot,infonce,pl,nl,bml", "poolers": "prompt", "seeds": "1,2", "steps": 12,
                     "batch": 16, "lr": 5e-5, "eval_steps": 4, "dev_limit": "250", "test_limit": "100",
                     "analysis_n": 600, "analysis_seed": 0}})
    _write(out / "zeroshot" / "prompt" / "eval_sts.json", _eval(50.0, limit=100))
    _write(out / "zeroshot" / "prompt" / "eval_dev.json", {"tasks": {"stsb": {"spearman": 55.5, "pairs": 250}}})
    for method, per_seed in avgs.items():
        for seed, base in zip((1, 2), per_seed, strict=True):
            name = f"{method}-prompt-s{seed}"
            if name in skip:
                continue
            run = out / "runs" / name
            _write(run / "results.json", {"loss": method, "pooler": "prompt", "best_step": 4 * seed,
                                          "best_dev_stsb": base + 10, "steps": 12, "train_seconds": 9.5})
            _write(run / "eval_sts.json", _eval(base - 3, limit=100))  # avg == base
    _write(out / "prepared" / "corpus.stats.json",
           {"lines": 46283, "wiki_lines": 11914, "sets": {"mr": {"kept": 10662}, "trec": {"kept": 5870}},
            "training_pairs": {"pairs": 46282, "dropped_empty": 1}})
    a = out / "analysis" / "prompt"
    model = {"soft_negative": {"mean": 0.9, "peak": 0.912, "std": 0.05, "n": 5},
             "negative": {"mean": 0.1, "peak": 0.123, "std": 0.1, "n": 5}}
    _write(a / "negation.json", {"negator": "spacy (faithful)", "requested": 600, "pairs": 590,
                                 "models": [{"model": "zero-shot", **model}, {"model": "SNCSE-bml", **model},
                                            {"model": "SimCSE-infonce", **model,
                                             "soft_negative": {"mean": 0.95, "peak": 0.96, "std": 0.01, "n": 5}}],
                                 "examples": []})
    (a / "negation_similarity.png").write_bytes(PNG)
    return out


def test_mean_std(make_results):
    s = make_results.mean_std([1.0, 2.0, 3.0])
    assert s["mean"] == pytest.approx(2.0) and s["std"] == pytest.approx(1.0) and s["n"] == 3
    one = make_results.mean_std([4.0])
    assert one == {"mean": 4.0, "std": None, "n": 1}
    assert make_results.mean_std([])["mean"] is None
    assert make_results.fmt({"mean": 1.234, "std": 0.5}) == "1.23 ± 0.50"
    assert make_results.fmt({"mean": 1.234, "std": None}) == "1.23"
    assert make_results.fmt(None) == "-"


def test_collect_aggregates_over_seeds(tmp_path, make_results):
    out = fabricate(tmp_path, skip=("nl-prompt-s2",))
    s = make_results.collect(out)
    bml = s["aggregate"]["bml"]["prompt"]
    assert bml["n"] == 2 and bml["seeds"] == [1, 2]
    assert bml["avg"]["mean"] == pytest.approx(71.0)
    assert bml["avg"]["std"] == pytest.approx(math.sqrt(2.0))  # (70, 72): sample std
    assert bml["tasks"]["sts12"]["mean"] == pytest.approx(68.0)  # base - 3 + 0
    assert bml["tasks"]["sickr"]["mean"] == pytest.approx(74.0)  # base - 3 + 6
    assert bml["dev"]["mean"] == pytest.approx(81.0)
    assert bml["best_steps"] == [4, 8]
    nl = s["aggregate"]["nl"]["prompt"]
    assert nl["n"] == 1 and nl["avg"]["std"] is None
    assert s["missing"] == ["nl-prompt-s2"]
    assert len(s["expected"]) == 8
    assert s["zeroshot"]["prompt"]["avg"] == pytest.approx(53.0)
    assert s["zeroshot"]["prompt"]["dev_stsb"] == 55.5


def test_page_written_with_published_and_ours(tmp_path, make_results):
    out = fabricate(tmp_path)
    docs = tmp_path / "docs"
    assert make_results.main([str(out), "--docs", str(docs)]) == 0
    assert sorted(p.name for p in docs.iterdir()) == ["results.md", "results_cpu.json",
                                                      "results_cpu_negation_prompt.png"]  # no temp files left
    assert (docs / "results_cpu_negation_prompt.png").read_bytes() == PNG
    page = (docs / "results.md").read_text(encoding="utf-8")
    assert "already sentence-tuned with supervision" in page
    assert "not run yet — blocked on a session with a GPU" in page
    assert "## CPU grid (reduced)" in page and "## GPU grid" not in page
    assert "`scripts/reproduce.sh --grid cpu`" in page
    # STS table: the bml row, mean ± std over the two seeds, per task and average
    bml_row = next(line for line in page.splitlines() if line.startswith("| SNCSE (`bml`)"))
    assert "68.00 ± 1.41" in bml_row and "**71.00 ± 1.41**" in bml_row and "2 (1, 2)" in bml_row
    zs_row = next(line for line in page.splitlines() if line.startswith("| zero-shot"))
    assert "**53.00**" in zs_row and "55.50" in zs_row
    # Table 3: published and ours side by side, labelled, and the ordering verdict
    assert "published: BERT-base, SNCSE Table 3" in page and "78.97 |" in page
    assert "78.21 (as quoted in issue 9; not verified)" in page
    assert "Our order (pooler `prompt`, mean over seeds): SNCSE > InfoNCE > PL > NL" in page
    assert "The ordering **matches** the paper's." in page
    # analysis peaks and figure
    assert "| zero-shot | 0.912 | 0.900 | 0.123 | 0.100 | +0.800 |" in page
    assert "](results_cpu_negation_prompt.png)" in page
    assert ("Mean similarity of a sentence and its negation: zero-shot 0.900, SNCSE-bml 0.900, SimCSE-infonce "
            "0.950. SNCSE's is lower than SimCSE's by 0.050") in page
    # recipes: verified published numbers only
    assert "| `configs/sncse-bert-base.yaml` | bert-base-uncased | **78.97** |" in page
    assert "| `configs/sncse-roberta-base.yaml` | roberta-base | **79.23** |" in page
    assert "| `configs/sncse-bert-large.yaml` | bert-large-uncased | not quoted |" in page
    assert "first 100 pairs of every subset" in page
    assert "46,283 lines: the wiki1m prefix (11,914)" in page and "46,282 training pairs after dropping 1" in page


def test_ordering_that_differs_and_overlapping_seeds(tmp_path, make_results):
    out = fabricate(tmp_path, avgs={"bml": (60.0, 70.0), "infonce": (66.0, 66.0), "pl": (67.0, 67.0),
                                    "nl": (50.0, 50.0)})
    s = make_results.collect(out)
    text = "\n".join(make_results.table3(s, "prompt"))
    assert "Our order (pooler `prompt`, mean over seeds): PL > InfoNCE > SNCSE > NL" in text
    assert "**differs**" in text and "smaller than the seed standard deviation" in text


def test_gpu_and_cpu_sections_and_render_only(tmp_path, make_results):
    docs = tmp_path / "docs"
    make_results.main([str(fabricate(tmp_path / "c", "cpu")), str(fabricate(tmp_path / "g", "gpu")),
                       "--docs", str(docs)])
    page = (docs / "results.md").read_text(encoding="utf-8")
    assert page.index("## GPU grid") < page.index("## CPU grid")
    assert "blocked on a session with a GPU" not in page
    (docs / "results.md").unlink()
    assert make_results.main(["--render-only", "--docs", str(docs)]) == 0
    assert (docs / "results.md").read_text(encoding="utf-8") == page


def test_missing_runs_listed_and_bad_folder(tmp_path, make_results):
    out = fabricate(tmp_path, skip=("pl-prompt-s1", "pl-prompt-s2"))
    docs = tmp_path / "docs"
    make_results.main([str(out), "--docs", str(docs)])
    page = (docs / "results.md").read_text(encoding="utf-8")
    assert "**Missing runs** (2 of 8): `pl-prompt-s1`, `pl-prompt-s2`." in page
    assert "| PL | 77.11 (as quoted in issue 9; not verified) | not run | - |" in page
    with pytest.raises(SystemExit, match="grid.json"):
        make_results.collect(tmp_path / "nothing")
    with pytest.raises(SystemExit, match="no .*results_"):
        make_results.render_docs(tmp_path / "empty-docs")
