"""bench/encode_throughput.py and bench/search_latency.py on tiny sizes: they run the real paths and
write every field docs/benchmarks.md quotes. No speed is asserted (that belongs in the docs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, data_root: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", SNCSE_DATA=str(data_root), PYTHONWARNINGS="ignore")
    res = subprocess.run([sys.executable, str(REPO / "bench" / script), *args], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]


def test_encode_benchmark_runs_sncse_encode(tmp_path: Path, data_root: Path) -> None:
    out = tmp_path / "encode.json"
    _run("encode_throughput.py", "--model", "tiny-bert", "--threads", "1", "--limit", "60", "--out", str(out),
         data_root=data_root)
    rec = json.loads(out.read_text())
    assert rec["sentences"] == rec["rows"] == 60 and rec["dim"] == 64 and rec["threads"] == 1
    assert rec["sentences_per_second"] > 0 and rec["peak_rss_gb"] > 0 and rec["child_cpu_seconds"] > 0
    assert rec["encode_command"].startswith("sncse -q encode tiny-bert $TMP/")


def test_search_benchmark_compares_every_backend_to_exact(tmp_path: Path, data_root: Path) -> None:
    out = tmp_path / "search.json"
    _run("search_latency.py", "--model", "tiny-bert", "--threads", "1", "--corpus-size", "300", "--queries", "20",
         "--repeat", "1", "--single", "2", "--cache", str(tmp_path / "cache"), "--out", str(out), data_root=data_root)
    rec = json.loads(out.read_text())
    assert rec["corpus_rows"] == 300 and rec["queries"] == 20 and rec["k"] == 10
    rows = {r["backend"]: r for r in rec["rows"]}
    assert len(rows) == 5
    assert rows["exact (torch, chunked)"]["recall_at_10"] == rows["exact, memory-mapped .npy"]["recall_at_10"] == 1.0
    assert all(0 < r["recall_at_10"] <= 1 and r["single_query_ms_median"] > 0 for r in rows.values())
    assert rows["faiss HNSW32, efSearch 64"]["ef_search"] == 64
