"""scripts/demo.sh end to end at a reduced size (tiny-bert, a few steps), as `make demo` runs it.

On a fresh install: no SNCSE_DATA, no ./data, no ../shared beside the working folder, so the demo
runs on the sample embedded in the package and scores on STS-B. With SNCSE_DATA it scores on the 7 STS
tasks of the full sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMALL = {"DEMO_ENCODER": "tiny-bert", "DEMO_STEPS": "4", "DEMO_BATCH": "16", "DEMO_EVAL_STEPS": "2",
         "DEMO_NEG_N": "40", "DEMO_LINES": "120"}


def run_demo(cwd: Path, extra_env: dict[str, str]) -> tuple[subprocess.CompletedProcess, Path]:
    env = {k: v for k, v in os.environ.items() if k != "SNCSE_DATA"}
    bin_dir = str(Path(sys.executable).parent)
    env.update(SMALL, DEMO_OUT=str(cwd / "demo-out"), PYTHON=sys.executable, OMP_NUM_THREADS="1",
               PATH=bin_dir + os.pathsep + env.get("PATH", ""), **extra_env)
    proc = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, cwd / "demo-out"


def check_outputs(out: Path, tasks: list[str]) -> dict:
    start = json.loads((out / "eval_start.json").read_text(encoding="utf-8"))
    trained = json.loads((out / "eval_trained.json").read_text(encoding="utf-8"))
    assert list(start["tasks"]) == tasks and list(trained["tasks"]) == tasks
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["avg"] == {"start": start["avg"], "trained": trained["avg"]}
    assert summary["not_below_start"] == (trained["avg"] >= start["avg"])
    # the negation triplets before and after, next to the STS figure
    neg = summary["triplets"]["negation"]
    assert neg["accuracy"] == {"start": start["triplets"]["tasks"]["negation"]["accuracy"],
                               "trained": trained["triplets"]["tasks"]["negation"]["accuracy"]}
    assert neg["rows"] == start["triplets"]["tasks"]["negation"]["rows"] > 0
    negation = json.loads((out / "analysis" / "negation.json").read_text(encoding="utf-8"))
    assert [m["model"] for m in negation["models"]] == ["tiny-bert", "run"]
    assert summary["soft_negative_mean"]["trained"] == negation["models"][1]["soft_negative"]["mean"]
    assert (out / "analysis" / "negation_similarity.png").stat().st_size > 0
    assert (out / "exported" / "modules.json").is_file()
    assert (out / "run" / "best" / "sncse_model.json").is_file()
    assert json.loads((out / "run" / "best" / "sncse_model.json").read_text())["pooler"] == "mean"
    return summary


@pytest.mark.slow
def test_demo_on_the_embedded_sample(tmp_path: Path) -> None:
    work = tmp_path / "fresh"  # no ./data here, and no ../shared beside it
    work.mkdir()
    proc, out = run_demo(work, {})
    log = proc.stdout + proc.stderr
    assert "data: the sample embedded in the package" in log
    summary = check_outputs(out, ["stsb"])
    assert "stsb (Spearman x100)" in proc.stdout and "cos(sentence, negation)" in proc.stdout
    assert "negation triplets: accuracy (%)" in proc.stdout
    assert summary["triplets"]["negation"]["rows"] == 645  # the embedded sample holds every SICK triplet
    assert set(summary["tasks"]) == {"stsb"}
    assert (out / "analysis" / "top5_stsb.json").is_file()


@pytest.mark.slow
@pytest.mark.full_data("the demo's first step, `sncse data check`, which asks for the papers' pair counts")
def test_demo_on_full_data(tmp_path: Path, full_data_root: Path) -> None:
    proc, out = run_demo(tmp_path, {"SNCSE_DATA": str(full_data_root), "DEMO_EVAL_LIMIT": "4"})
    assert f"data: {full_data_root} (env)" in proc.stdout
    check_outputs(out, ["sts12", "sts13", "sts14", "sts15", "sts16", "stsb", "sickr"])
    assert (out / "analysis" / "top5_sickr.json").is_file()
