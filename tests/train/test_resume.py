"""A run killed mid-way (SIGKILL after step k) and resumed ends with exactly the weights of an
uninterrupted run: model, optimizer, scheduler, RNG (dropout on) and data position are restored."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[2]
KILLER = Path(__file__).resolve().parent / "kill_after_step.py"


def _train(out: Path, data: Path, *extra: str, env: dict, kill_after: int | None = None) -> subprocess.CompletedProcess:
    """A real ``sncse train`` process; ``kill_after``: SIGKILLed right after that step (a step hook)."""
    sets = ["train.batch_size=16", "train.max_steps=7", "train.eval_steps=3", "train.eval_limit=30",
            "train.log_steps=1", "data.limit=96", "train.device=cpu", "optim.lr=5e-4", "optim.warmup_steps=2",
            "loss.name=bml", "model.pooler=prompt"]
    launcher = ["-m", "sncse_cli.main"] if kill_after is None else [str(KILLER), str(kill_after)]
    cmd = [sys.executable, *launcher, "-q", "train", "-c", str(REPO / "configs" / "tiny.yaml"),
           "--data", str(data), "-o", str(out), *extra]
    for kv in sets:
        cmd += ["--set", kv]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def _weights(run: Path) -> dict[str, torch.Tensor]:
    w = load_file(str(run / "last" / "model.safetensors"))
    w.update({f"head.{k}": v for k, v in load_file(str(run / "last" / "sncse_head.safetensors")).items()})
    return w


def _metrics(run: Path) -> list[dict]:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    for r in rows:
        r.pop("sent_per_s", None)
    return rows


@pytest.mark.slow
def test_killed_run_resumes_to_identical_weights(tmp_path: Path, negations_file: Path, child_env) -> None:
    full = tmp_path / "full"
    res = _train(full, negations_file, "--set", "train.num_workers=1", env=child_env())
    assert res.returncode == 0, res.stderr

    cut = tmp_path / "cut"
    res = _train(cut, negations_file, env=child_env(), kill_after=5)
    assert res.returncode == -signal.SIGKILL, res.stderr  # killed after step 5; last checkpoint: step 3
    state = torch.load(cut / "last" / "trainer_state.pt", weights_only=True)
    assert state["step"] == 3 and not (cut / "results.json").exists()
    assert max(r["step"] for r in _metrics(cut)) == 5  # records of steps 4-5 will be replaced

    res = _train(cut, negations_file, "--resume", env=child_env())
    assert res.returncode == 0, res.stderr
    a, b = _weights(full), _weights(cut)
    assert a.keys() == b.keys() and len(a) > 30
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert _metrics(full) == _metrics(cut)
    ra, rb = (json.loads((r / "results.json").read_text()) for r in (full, cut))
    assert (ra["best_step"], ra["best_dev_stsb"], ra["steps"]) == (rb["best_step"], rb["best_dev_stsb"], rb["steps"])
    run_info = json.loads((cut / "run.json").read_text())
    assert run_info["resumed_from_step"] == 3
