"""Benchmark: ``sncse encode`` end to end on the 26,083 distinct sentences of the 7 STS test sets.

    SNCSE_DATA=../shared/data .venv/bin/python bench/encode_throughput.py --model minilm --threads 2

Runs the real command (``sncse encode MODEL sentences.txt -o OUT.npy --json ...``) in a child process
with ``OMP_NUM_THREADS=--threads`` and reports: sentences/s of the encoding loop (the summary's
``encode_seconds``: chunks embedded and saved), sentences/s end to end (process start, imports, model
load, input scan and hash, encoding, the final concatenation), the child's peak resident memory
(``getrusage(RUSAGE_CHILDREN).ru_maxrss``) and the 1-minute load average before and after.
Writes ``bench/results/encode_throughput_cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from record import environment as record_env
from record import write as write_record

REPO = Path(__file__).resolve().parents[1]


def sts_sentences() -> list[str]:
    """The distinct sentences of the 7 STS test sets, first-seen order (what `sncse eval` embeds)."""
    from sncse.data.tasks import STS_TASKS
    from sncse.eval.sts import load_tasks

    return list(dict.fromkeys(s for t in load_tasks(STS_TASKS) for s in t.sentences()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS of the encoding process")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--limit", type=int, default=None, help="first N sentences only (the CI test)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "encode_throughput_cpu.json")
    args = ap.parse_args()

    sentences = sts_sentences()[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sts_sentences.txt"
        src.write_text("".join(s + "\n" for s in sentences), encoding="utf-8")
        summary_path = Path(tmp) / "summary.json"
        cmd = [str(Path(sys.executable).parent / "sncse"), "-q", "encode", args.model, str(src),
               "-o", str(Path(tmp) / "sts.npy"), "--batch-size", str(args.batch_size), "--dtype", args.dtype,
               "--device", "cpu", "--json", str(summary_path)]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        wall = time.perf_counter() - t0
        load_after = os.getloadavg()
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = json.loads(summary_path.read_text())
    record = {
        "what": "sncse encode over the distinct sentences of the 7 STS test sets",
        "model": args.model,
        "sentences": len(sentences),
        "rows": summary["count"],
        "dim": summary["dim"],
        "dtype": summary["dtype"],
        "batch_size": args.batch_size,
        "chunk_size": summary["chunk_size"],
        "threads": args.threads,
        "encode_seconds": summary["encode_seconds"],
        "sentences_per_second": round(len(sentences) / summary["encode_seconds"], 1),
        "end_to_end_seconds": round(wall, 2),
        "end_to_end_sentences_per_second": round(len(sentences) / wall, 1),
        "child_cpu_seconds": round(child.ru_utime + child.ru_stime, 1),
        # CPU time does not wait for a core, so it moves much less with other jobs' load than wall time
        "sentences_per_cpu_second": round(len(sentences) / (child.ru_utime + child.ru_stime), 1),
        "peak_rss_gb": round(child.ru_maxrss / 1024**2, 3),  # ru_maxrss is in KiB on Linux
        "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        **record_env(),
        "command": " ".join(["bench/encode_throughput.py", *sys.argv[1:]]),
        "encode_command": " ".join(["sncse", *cmd[1:]]).replace(tmp, "$TMP"),
    }
    return write_record(args.out, record)


if __name__ == "__main__":
    sys.exit(main())
