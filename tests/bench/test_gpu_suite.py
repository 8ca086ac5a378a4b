"""The GPU suite (bench/gpu_suite.sh) end to end in its CPU dry run, and its target report.

The dry run is the GPU command with tiny sizes: every part runs (the CUDA tests, which skip on the CPU,
training throughput against sentence-transformers, STS evaluation speed, the export check, a short
SNCSE run through the CLI, the profile; the memory part has its own test), and the files it leaves
under OUT are what the device tool would bring back. One run serves every test here; the tests read
its files. No time is asserted; that the part limits fit the budget is checked by the script itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
PARTS_RUN = ("g", "a", "b", "d", "c", "f")


@pytest.fixture(scope="module")
def dry_run(data_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gpu_suite_out")
    # a CPU shared with other jobs: no part may be cut off. Part e (bench/memory.py, one subprocess per
    # row) is left to tests/bench/test_memory.py: here it would double this test's time.
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "SNCSE_DATA": str(data_root),
           "BUDGET_S": "1200", "LIMIT_SCALE": "3", "PARTS": "gabdcf"}
    proc = subprocess.run(["bash", str(BENCH / "gpu_suite.sh"), "--dry-run"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def test_every_part_ran_and_the_log_came_back(dry_run):
    log = (dry_run / "suite.log").read_text(encoding="utf-8")
    for part in PARTS_RUN:
        assert re.search(rf"^== part {part}: ok after \d+s$", log, re.M), f"part {part}:\n{log[-3000:]}"
    expected_e = "not selected" if (BENCH / "memory.py").exists() else "skipped, bench/memory.py does not exist"
    assert re.search(rf"^== part e: {expected_e}", log, re.M)
    assert "sentence-transformers" in log and "device: cpu" in log
    assert "== targets" in log and "not measured" in log  # CPU values never count as a target met
    assert log.index("== part g") < log.index("== part a") < log.index("== part e") < log.index("== part b")


def test_the_gpu_run_fits_its_budget_and_the_versions_are_recorded(dry_run):
    log = (dry_run / "suite.log").read_text(encoding="utf-8")
    limits = re.search(r"^== part limits, GPU run: (.*) = (\d+)s, \+ (\d+)s set-up \+ (\d+)s report = (\d+)s of (\d+)s$",
                       log, re.M)
    assert limits, log[:3000]
    parts = dict(kv.split("=") for kv in limits[1].split())
    assert list(parts) == list("gaebdcf") and sum(map(int, parts.values())) == int(limits[2])
    assert int(limits[5]) <= int(limits[6]) == 450
    versions = json.loads(re.search(r"^== versions (\{.*\})$", log, re.M)[1])
    assert {"torch", "transformers", "sentence-transformers", "cuda", "driver", "gpu"} <= set(versions)
    assert versions["lock_differs"] == {}  # the dry run runs on the locked versions
    skipped = re.search(r"^(\d+) skipped, \d+ deselected in ", log, re.M)  # part g on a CPU: every CUDA test
    assert skipped and int(skipped[1]) >= 5 and "needs CUDA" in log, log[:5000]


def test_limits_over_the_budget_are_refused_before_anything_runs(tmp_path):
    """--dry-run refuses part limits that do not fit the GPU run's budget (or its own), in a second."""
    env = {**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable, "GPU_BUDGET_S": "400"}
    proc = subprocess.run(["bash", str(BENCH / "gpu_suite.sh"), "--dry-run"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "error: the GPU run part limits exceed its budget by 50s" in proc.stdout + proc.stderr
    assert "== part" not in (tmp_path / "suite.log").read_text(encoding="utf-8").replace("== part limits", "")


def test_output_fits_what_the_device_tool_returns(dry_run):
    files = [p for p in dry_run.rglob("*") if p.is_file()]
    assert len(files) <= 8, files
    for p in files:
        rel = p.relative_to(dry_run)
        assert len(rel.parts) <= 3, rel  # $OUT/a/b/file at most
        assert all(re.fullmatch(r"[A-Za-z0-9._-]+", part) for part in rel.parts), rel
    names = {str(p.relative_to(dry_run)) for p in files}
    assert {"suite.log", "train_throughput_cpu-dry.json", "eval_speed_cpu-dry.json", "export_check_cpu-dry.json",
            "train_sncse_minilm/metrics.jsonl", "train_sncse_minilm/results.json",
            "profile_cpu-dry.txt"} <= names


def test_training_rows_carry_the_fields_the_tables_read(dry_run, bench_module):
    bench = bench_module("train_throughput")
    doc = json.loads((dry_run / "train_throughput_cpu-dry.json").read_text(encoding="utf-8"))
    assert doc["complete"] is True and doc["matmul_peak"]["tflops"] > 0
    assert {(r["model"], r["method"]) for r in doc["rows"]} == {("tiny-bert", "sncse"), ("tiny-bert", "simcse")}
    for r in doc["rows"]:
        for key in bench.REQUIRED_FIELDS:
            assert key in r, key
        assert r["device"].startswith("cpu") and r["peak_mem_gb"] is None  # GPU memory only
        assert r["sent_per_s"] > 0 and r["st_sent_per_s"] == doc["baselines"][r["model"]]["sent_per_s"]
        assert 0 < r["mfu"] < 3 and r["projected_1m_epoch_s"] > r["projected_1m_train_only_s"] > 0
    assert doc["targets"]["at_target_settings"] is False  # a CPU run at batch 8


def test_eval_speed_has_a_record_per_model(dry_run):
    doc = json.loads((dry_run / "eval_speed_cpu-dry.json").read_text(encoding="utf-8"))
    runs = {r["model"]: r for r in doc["runs"]}
    assert set(runs) == {"tiny-bert", "minilm"}
    for r in runs.values():
        assert set(r["scores"]) == {"sts12", "sts13", "sts14", "sts15", "sts16", "stsb", "sickr"}
        assert r["eval_seconds"] > 0 and len(r["warm_eval_seconds_all"]) == 1 and r["limit"] == 5
    assert runs["minilm"]["avg"] > 50  # a sentence-tuned model, mean-pooled: far above a random one


def test_export_check_reproduces_the_scores(dry_run):
    doc = json.loads((dry_run / "export_check_cpu-dry.json").read_text(encoding="utf-8"))
    (result,) = doc["results"]
    assert result["pooler"] == "prompt" and result["max_task_diff"] < 0.01
    assert result["max_abs_embedding_diff"] < 1e-4


def test_training_run_logged_losses_and_dev_scores(dry_run):
    from sncse.rundir.reader import read_metrics

    records = read_metrics(dry_run / "train_sncse_minilm" / "metrics.jsonl")
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in records if "dev_stsb" in r] == [3, 6]
    results = json.loads((dry_run / "train_sncse_minilm" / "results.json").read_text(encoding="utf-8"))
    assert results["steps"] == 6 and results["loss"] == "bml" and results["pooler"] == "prompt"
    assert results["views"] == ["anchor", "positive", "negation"]


def test_profile_summary_is_a_compact_table(dry_run):
    text = (dry_run / "profile_cpu-dry.txt").read_text(encoding="utf-8")
    assert text.startswith("== tiny-bert sncse, batch 8, on cpu: 3 profiled steps")
    assert "aten::mm" in text and "Self CPU" in text
    assert len(text) < 50_000


# ------------------------------------------------------------------------------------------ the report
def _write(path: Path, doc) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) + "\n" if not isinstance(doc, str) else doc, encoding="utf-8")


def test_report_reads_targets_met_and_missed_at_the_target_settings(tmp_path, capsys, bench_module):
    report = bench_module("suite_report")
    _write(tmp_path / "train_throughput_h200.json", {
        "complete": True, "device": {"device": "cuda"}, "settings": {"batch_size": 256},
        "targets": {"at_target_settings": True,
                    "minilm_simcse_vs_st": {"value": 3.4, "target": ">= 3", "met": True},
                    "minilm_sncse_vs_st_simcse": {"value": 0.8, "target": "> 1", "met": False},
                    "bert_base_sncse_1m_epoch_s": {"value": 410.0, "target": "< 600", "met": True}}})
    _write(tmp_path / "eval_speed_h200.json", {"runs": [
        {"model": "minilm", "device": "cuda", "limit": None, "eval_seconds": 3.1},
        {"model": "bert-base", "device": "cuda", "limit": None, "eval_seconds": 12.5, "warm_eval_seconds": 9.0}]})
    lines = [{"step": s, "loss": 1.0 - 0.1 * s} for s in range(1, 7)] + [{"step": 6, "dev_stsb": 81.0}]
    _write(tmp_path / "train_sncse_minilm" / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in lines))
    _write(tmp_path / "train_sncse_minilm" / "results.json", {"device": "cuda"})

    rows = report.report(tmp_path)
    assert [r["status"] for r in rows] == ["met", "missed", "met", "missed", "met"]
    assert rows[3]["value"] == 12.5  # the first (cold) evaluation is the one that counts
    assert report.main([str(tmp_path), "--exit-code"]) == 3
    assert "missed" in capsys.readouterr().out


def test_report_without_files_says_not_measured(tmp_path, bench_module):
    report = bench_module("suite_report")
    rows = report.report(tmp_path)
    assert len(rows) == 5 and {r["status"] for r in rows} == {"not measured"}
    assert report.main([str(tmp_path), "--exit-code", "--json", str(tmp_path / "t.json")]) == 0
    assert json.loads((tmp_path / "t.json").read_text(encoding="utf-8")) == rows


def test_report_does_not_count_a_cut_down_evaluation(tmp_path, bench_module):
    report = bench_module("suite_report")
    _write(tmp_path / "eval_speed_h200.json", {"model": "bert-base", "device": "cuda", "limit": 5, "eval_seconds": 0.4})
    row = report.eval_target(tmp_path)
    assert row["status"] == "not measured" and "limit 5" in row["note"]
