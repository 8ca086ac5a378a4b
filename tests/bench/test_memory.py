"""The memory benchmark (bench/memory.py) on its CPU path with tiny sizes: every row runs in its own
process, is appended to the JSON as it finishes, and reports the chunk count the gradient cache ran.
No number is asserted beyond being present and sane (speed and memory belong in docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _bench(*args: str, env: dict) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(REPO / "bench" / "memory.py"), "--device", "cpu", "--models", "tiny-bert",
           "--threads", "1", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_rows_in_fresh_processes_appended_as_they_finish(tmp_path: Path, data_root: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", SNCSE_DATA=str(data_root), PYTHONWARNINGS="ignore")
    out = tmp_path / "memory.json"
    res = _bench("--batch-sizes", "8", "--mini-batch-size", "4", "--out", str(out), env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    res = _bench("--batch-sizes", "16", "--modes", "cached", "--mini-batch-size", "4", "--steps", "2",
                 "--out", str(out), "--append", env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert len(doc["commands"]) == 2 and doc["settings"]["max_length"] == 32
    rows = {(r["mode"], r["batch_size"]): r for r in doc["rows"]}
    assert set(rows) == {("plain", 8), ("cached", 8), ("cached", 16)}
    assert all("error" not in r for r in rows.values())
    # infonce: 2 views; the cached step runs rows / mini_batch_size forward passes, the plain one 1
    assert [(r["rows"], r["chunks"]) for r in rows.values()] == [(16, 1), (16, 4), (32, 8)]
    assert rows[("cached", 8)]["mini_batch_size"] == 4 and rows[("plain", 8)]["mini_batch_size"] is None
    for r in rows.values():
        assert 0 < r["setup_rss_gb"] <= r["peak_mem_gb"] < 64 and r["step_s"] > 0 and r["sent_per_s"] > 0
    assert len(rows[("cached", 16)]["step_s_all"]) == 2
    (overhead,) = doc["targets"]["tiny-bert"]["overhead"]
    assert overhead["batch_size"] == 8 and overhead["mini_batch_size"] == 4 and overhead["ratio"] > 0
