"""Benchmark: the full 7-task STS evaluation (SimCSE protocol) of a model, end to end.

    SNCSE_DATA=../shared/data .venv/bin/python bench/eval_speed.py --model minilm --threads 2
    SNCSE_DATA=../shared/data .venv/bin/python bench/eval_speed.py --model minilm --device cuda

What is timed: loading the 7 test sets, embedding every distinct sentence once (length-sorted batches,
bf16 autocast on CUDA), cosine + Spearman for all tasks. ``--baseline N`` also times SentEval's way on
the first N pairs of every subset (each pair's two sentences encoded per batch, duplicates re-encoded)
for a like-for-like sentences/s comparison. Writes ``bench/results/eval_speed_<device>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def senteval_style(model, tasks, batch_size: int) -> tuple[int, float, float]:
    """SentEval's STSEval.run: per subset, batches of pairs; both sides encoded, no deduplication."""
    import torch

    n, start, cpu = 0, time.perf_counter(), time.process_time()
    with torch.no_grad():
        for task in tasks:
            for sub in task.subsets:
                # SentEval sorts each subset by (words in s1, words in s2, gold) to reduce padding
                order = sorted(range(len(sub.gold)), key=lambda k, s=sub: (len(s.sent1[k].split()),
                                                                         len(s.sent2[k].split()), s.gold[k]))
                s1, s2 = [sub.sent1[k] for k in order], [sub.sent2[k] for k in order]
                for i in range(0, len(order), batch_size):
                    for side in (s1[i : i + batch_size], s2[i : i + batch_size]):
                        ids = model.tokenize(side, max_length=model.inference_max_length)
                        model(**model.collate(ids, device=model.device))
                        n += len(side)
    return n, time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (2 = the CI machine)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--baseline", type=int, default=0, help="also time SentEval-style encoding on N pairs/subset")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    import sncse
    from sncse.data.tasks import sts_tasks
    from sncse.eval.sts import evaluate_sts, load_tasks

    t0 = time.perf_counter()
    model = sncse.load(args.model, device=args.device)
    load_s = time.perf_counter() - t0
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    t0, c0 = time.perf_counter(), time.process_time()
    result = evaluate_sts(model, "sts", batch_size=args.batch_size, show_progress=False)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    record = {
        "model": args.model,
        "device": str(model.device),
        "cuda_name": torch.cuda.get_device_name(0) if model.device.type == "cuda" else None,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_before_after": [load_before, os.getloadavg() if hasattr(os, "getloadavg") else None],
        "batch_size": args.batch_size,
        "model_load_seconds": round(load_s, 2),
        "eval_seconds": round(total, 2),
        "encode_seconds": round(result["encode_seconds"], 2),
        "distinct_sentences": result["sentences"],
        "pair_sentences": sum(2 * r["pairs"] for r in result["tasks"].values()),
        "sentences_per_second": round(result["sentences"] / result["encode_seconds"], 1),
        "process_cpu_seconds": round(cpu, 1),
        "sentences_per_cpu_second": round(result["sentences"] / cpu, 1),
        "scores": {t: round(r["spearman"], 2) for t, r in result["tasks"].items()},
        "avg": round(result["avg"], 2),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    if args.baseline:
        tasks = load_tasks(sts_tasks("sts"), limit=args.baseline)
        model.eval()
        n, secs, cpu_base = senteval_style(model, tasks, 64)
        c0 = time.process_time()
        fast = evaluate_sts(model, "sts", batch_size=args.batch_size, limit=args.baseline, show_progress=False)
        cpu_fast = time.process_time() - c0
        record["baseline"] = {
            "pairs_per_subset": args.baseline,
            "senteval_style": {"sentences_encoded": n, "seconds": round(secs, 2), "cpu_seconds": round(cpu_base, 2)},
            "sncse": {"sentences_encoded": fast["sentences"], "seconds": round(fast["encode_seconds"], 2),
                      "cpu_seconds": round(cpu_fast, 2)},
            "speedup_wall": round(secs / fast["encode_seconds"], 2),
            "speedup_cpu": round(cpu_base / cpu_fast, 2),
        }
    out = args.out or REPO / "bench" / "results" / f"eval_speed_{model.device.type}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
