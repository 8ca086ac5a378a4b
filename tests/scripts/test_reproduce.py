"""scripts/reproduce.sh end to end at tiny sizes: the GPU grid's command line run on the CPU with the tiny
random BERT, as the GPU machine would run it (every stage, the export), then again to see that
finished runs are skipped and that a time budget defers the rest. What the page and the summary
hold is read back from the files the script's commands wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "reproduce.sh"
TINY = ["--grid", "gpu", "--device", "cpu", "--encoder", "tiny-bert", "--corpus-lines", "40", "--train-limit", "40",
        "--steps", "2", "--batch", "8", "--eval-steps", "1", "--dev-limit", "20", "--test-limit", "3",
        "--analysis-n", "12", "--methods", "zeroshot,infonce,bml,bml_improved", "--poolers", "mean",
        "--sweep-weights", "1e-3,1e-2", "--sweep-margins", "0.1:0.3", "--jobs", "2", "--threads", "1"]

pytestmark = pytest.mark.slow


def _run(out: Path, docs: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCS": str(docs), "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(SCRIPT), *TINY, "--out", str(out), *extra], env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return proc


@pytest.fixture(scope="module")
def grid(tmp_path_factory, data_root) -> tuple[Path, Path, Path, subprocess.CompletedProcess]:
    base = tmp_path_factory.mktemp("grid")
    out, docs, export = base / "repro-gpu", base / "docs", base / "export"
    proc = _run(out, docs, "--seeds", "42,43", "--export", str(export))
    return out, docs, export, proc


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_stage_writes_what_the_page_reads(grid):
    out, docs, export, _ = grid
    s = _json(docs / "results_gpu.json")
    assert s["missing"] == [] and sorted(r["name"] for r in s["runs"]) == sorted(
        f"{row}-mean-s{seed}" for row in ("infonce", "bml", "bml_improved") for seed in (42, 43))
    assert {r["row"]: r["loss"] for r in s["runs"]} == {"infonce": "infonce", "bml": "bml", "bml_improved": "bml"}
    for r in s["runs"]:  # the run's own eval file, with the per-pair scores beside it
        ev = _json(out / "runs" / r["name"] / "eval_test.json")
        assert r["avg"] == ev["avg"] and ev["meta"]["limit"] == 3
        assert (out / "runs" / r["name"] / "eval_test.pair_scores.json.gz").is_file()
        assert not (out / "runs" / r["name"] / "last").exists()  # dropped once evaluated
    # improved and faithful negations were both prepared, and the improved row trained on the improved ones
    cfg = (out / "runs" / "bml_improved-mean-s42" / "config.yaml").read_text(encoding="utf-8")
    assert "corpus.improved.negations.jsonl.gz" in cfg
    assert s["corpus"]["training_pairs_faithful"]["pairs"] > 0 and s["corpus"]["training_pairs_improved"]["pairs"] > 0
    # the paired tests: SNCSE vs InfoNCE, improved vs faithful, every row vs zero-shot
    cmps = {(c["a"]["name"], c["b"]["name"]): c for c in s["comparisons"]["mean"]}
    assert {("bml", "infonce"), ("bml_improved", "bml"), ("bml", "zeroshot")} <= set(cmps)
    agg = s["aggregate"]
    c = cmps[("bml", "infonce")]
    assert c["diff"]["avg"]["estimate"] == pytest.approx(agg["bml"]["mean"]["avg"]["mean"]
                                                         - agg["infonce"]["mean"]["avg"]["mean"], abs=1e-9)
    assert c["a"]["runs"] == ["bml-mean-s42", "bml-mean-s43"] and c["resamples"] == 1000
    # Figure 4 over the zero-shot encoder and the first seed of every row
    a = s["analysis"]["mean"]
    assert [m["model"] for m in a["models"]] == ["tiny-bert", "SimCSE-infonce", "SNCSE-bml", "SNCSE-bml-improved"]
    assert a["png"] == "results_gpu_negation_mean.png" and (docs / a["png"]).is_file()
    # the sweep: the configuration's own values reuse the grid's bml run
    sweep = s["sweep"]
    assert [r["lambda"] for r in sweep["runs"]] == [1e-3, 1e-2] and sweep["png"] == "results_gpu_sweep.png"
    assert (out / "sweep" / "bml-mean-s42-w1e-3-a0.1-b0.3").resolve() == (out / "runs" / "bml-mean-s42").resolve()
    # the suppression stage: negation triplets (with per-row scores) and word-overlap bins for the zero-shot
    # encoder and every run, without retraining; the page's paired tests over the triplet rows and the bins
    for d in [out / "zeroshot" / "mean", *(out / "runs" / r["name"] for r in s["runs"])]:
        for name in ("eval_triplets.json", "eval_triplets.pair_scores.json.gz", "eval_test.overlap.json"):
            assert (d / name).is_file(), d / name
    ev = _json(out / "runs" / "bml-mean-s42" / "eval_triplets.json")["triplets"]["tasks"]["negation"]
    run = next(r for r in s["runs"] if r["name"] == "bml-mean-s42")
    assert run["negation"]["accuracy"] == ev["accuracy"] and run["negation"]["rows"] == 3  # --test-limit 3
    assert len(run["overlap"]) == 7 and list(run["overlap"]["sickr"]) == ["<0.3", "0.3-0.5", "0.5-0.7", ">=0.7"]
    sup = s["suppression_comparisons"]["mean"]
    trip = {(c["a"]["name"], c["b"]["name"]): c for c in sup["triplets"]}
    assert {("bml", "infonce"), ("bml_improved", "bml"), ("bml", "zeroshot")} <= set(trip)
    assert trip[("bml", "infonce")]["diff"]["accuracy"]["estimate"] == pytest.approx(
        agg["bml"]["mean"]["negation"]["accuracy"]["mean"] - agg["infonce"]["mean"]["negation"]["accuracy"]["mean"])
    assert {(c["a"]["name"], c["b"]["name"]) for c in sup["overlap"]} == {("bml", "infonce"), ("bml_improved", "bml")}
    page = (docs / "results.md").read_text(encoding="utf-8")
    assert "### Feature suppression on human-labelled data" in page and "| SNCSE - InfoNCE |" in page
    assert "## GPU grid" in page and "### Which differences are established" in page
    assert "<!-- source: docs/results_gpu.json -->" in page and "## CPU grid" not in page
    grid_json = _json(out / "grid.json")
    assert grid_json["calls"] == 1 and set(grid_json["stages"]) >= {"prepare", "zeroshot", "train", "analysis", "sweep",
                                                                    "suppression"}
    # the export: small files only, the page beside them
    with tarfile.open(export / "results-gpu.tar.gz") as tar:
        names = tar.getnames()
    assert f"{out.name}/runs/bml-mean-s42/eval_test.json" in names and "docs/results.md" in names
    assert not [n for n in names if "/best" in n or "/prepared" in n or n.endswith(".partial")]


def test_a_second_call_skips_what_is_finished_and_the_budget_defers_new_runs(grid):
    out, docs, _, _ = grid
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/results.json")}
    # a deadline already past: no new run may start, however fast the finished ones are skipped
    proc = _run(out, docs, "--seeds", "42,43,44", "--stop-at", "1", "--stages", "zeroshot,train,results")
    assert "deferred (time budget)" in proc.stderr
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/results.json")} == before  # nothing retrained
    s = _json(docs / "results_gpu.json")
    assert sorted(s["missing"]) == ["bml-mean-s44", "bml_improved-mean-s44", "infonce-mean-s44"]
    assert "**Missing runs** (3 of 9)" in (docs / "results.md").read_text(encoding="utf-8")
    assert _json(out / "grid.json")["calls"] == 2
