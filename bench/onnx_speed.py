"""Benchmark: CPU encoding speed and STS scores of torch fp32, onnxruntime fp32 and onnxruntime int8.

    SNCSE_DATA=../shared/data .venv/bin/python bench/onnx_speed.py --model minilm --threads 2

The model is exported twice with ``sncse.export.export`` (``--format onnx``, and with
``quantize="int8"``; the export's own checks run, the STS check is left to this script), then the
26,083 distinct sentences of the 7 STS test sets (deduplicated as ``sncse.eval.sts`` does) are
embedded by all three through their public ``encode`` (length-sorted batches of ``--batch-size``).

The machine is shared, so the three are timed **interleaved on the same sentences**: the sentences
are shuffled (seed 0) and cut into ``--chunks`` chunks; every chunk is encoded by each backend in
turn, the order rotating from chunk to chunk, so a change of load hits all three alike. One
untimed warm-up chunk per backend comes first. Every embedding is kept and the 7 STS tasks are
scored from them (``score_task``, the evaluation's own scoring), so each speed comes with the scores
of exactly the vectors that were timed. The 1-minute load average is recorded at every chunk.

Writes ``bench/results/onnx_cpu.json`` (``--out``): per backend sentences/s (wall), CPU seconds,
STS scores and average; speed-ups against torch; the targets (onnxruntime fp32 >= 1.5x torch with the
same average to 0.01; int8 >= 2.5x torch with the average within 0.3 of fp32), and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"onnx_fp32_speedup": 1.5, "onnx_fp32_avg_diff": 0.01, "onnx_int8_speedup": 2.5, "onnx_int8_avg_drop": 0.3}


def load1() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


LABELS = {"torch_fp32": "torch fp32 (`SentenceEncoder`)", "onnx_fp32": "onnxruntime fp32 (`OnnxEncoder`)",
          "onnx_int8": "onnxruntime int8, per-channel (`--quantize int8`)",
          "onnx_int8_per_tensor": "onnxruntime int8, one scale per matrix"}


def markdown(record: dict) -> str:
    """The docs/benchmarks.md table of a result JSON (every number as the JSON holds it)."""
    tasks = list(record["rows"]["torch_fp32"]["scores"])
    lines = ["| backend | sentences/s | x torch | CPU s | " + " | ".join(tasks) + " | avg |",
             "|---|---:|---:|---:|" + "---:|" * (len(tasks) + 1)]
    for name, row in record["rows"].items():
        lines.append(f"| {LABELS.get(name, name)} | {row['sentences_per_second']} | {row['speedup_vs_torch']} | "
                     f"{row['process_cpu_seconds']} | " + " | ".join(str(row["scores"][t]) for t in tasks)
                     + f" | {row['avg']} |")
    lines.append("")
    for name, t in record["targets"].items():
        lines.append(f"- `{name}`: {t['target']}: measured {t['measured']}, {'met' if t['met'] else 'missed'}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm", help="anything sncse.load accepts (not an ONNX folder)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads and onnxruntime intra-op threads")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--chunks", type=int, default=13, help="interleaving granularity (26,083 / 13 ~ 2,000 sentences)")
    ap.add_argument("--limit", type=int, default=None, help="smoke runs: first N pairs per STS subset")
    ap.add_argument("--work", type=Path, default=None, help="folder for the two exports (default: a temp dir)")
    ap.add_argument("--per-tensor", action="store_true", help="also time and score int8 with one scale per "
                    "weight matrix (onnx_int8_per_tensor) instead of one per output channel")
    ap.add_argument("--machine", default=None, help="machine description for the JSON")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "onnx_cpu.json")
    ap.add_argument("--render", type=Path, default=None, help="print the markdown table of a result JSON and exit")
    args = ap.parse_args(argv)
    if args.render:
        record = json.loads(args.render.read_text())
        print(markdown(record), end="")
        return record

    import numpy as np
    import onnx
    import onnxruntime
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    import sncse
    from sncse.data.tasks import sts_tasks
    from sncse.encoders import SentenceEncoder
    from sncse.encoders.onnx_runtime import OnnxEncoder
    from sncse.eval.sts import load_tasks, score_task
    from sncse.export import export
    from sncse.export.onnx import quantize_graph
    from sncse.runinfo import machine_line

    load_start = load1()
    tasks = load_tasks(sts_tasks("sts"), limit=args.limit)
    sentences = list(dict.fromkeys(s for t in tasks for s in t.sentences()))

    with tempfile.TemporaryDirectory(prefix="onnx_speed.") as tmp:
        work = args.work or Path(tmp)
        exports = {}
        for name, quantize in (("onnx_fp32", None), ("onnx_int8", "int8")):
            t0 = time.perf_counter()
            result = export(args.model, work / name, "onnx", overwrite=True, quantize=quantize, check=False,
                            show_progress=False)
            exports[name] = {"seconds": round(time.perf_counter() - t0, 1), "verification": result.verification,
                             "quantization": result.onnx.get("quantization"), "graph": result.onnx["graph"]}
        backends = {
            "torch_fp32": SentenceEncoder.load(args.model, device="cpu"),
            "onnx_fp32": OnnxEncoder.load(work / "onnx_fp32", device="cpu", threads=args.threads),
            "onnx_int8": OnnxEncoder.load(work / "onnx_int8", device="cpu", threads=args.threads),
        }
        if args.per_tensor:
            quantize_graph(work / "onnx_fp32" / "model.onnx", work / "onnx_fp32" / "per_tensor.onnx", per_channel=False)
            backends["onnx_int8_per_tensor"] = OnnxEncoder.load(work / "onnx_fp32", device="cpu", threads=args.threads,
                                                                graph="per_tensor.onnx")
        names = list(backends)
        order = sentences[:]
        random.Random(0).shuffle(order)
        size = -(-len(order) // args.chunks)
        chunks = [order[i : i + size] for i in range(0, len(order), size)]
        warm = order[: min(256, len(order))]
        for model in backends.values():
            model.encode(warm, batch_size=args.batch_size, show_progress=False)

        wall = dict.fromkeys(names, 0.0)
        cpu = dict.fromkeys(names, 0.0)
        vectors: dict[str, dict[str, np.ndarray]] = {n: {} for n in names}
        loads = []
        for i, chunk in enumerate(chunks):
            loads.append(load1())
            for name in names[i % len(names):] + names[: i % len(names)]:
                t0, c0 = time.perf_counter(), time.process_time()
                emb = backends[name].encode(chunk, batch_size=args.batch_size, show_progress=False)
                wall[name] += time.perf_counter() - t0
                cpu[name] += time.process_time() - c0
                vectors[name].update(zip(chunk, np.asarray(emb), strict=True))
            print(f"chunk {i + 1}/{len(chunks)}: load {loads[-1]}, "
                  + ", ".join(f"{n} {len(order[: (i + 1) * size]) / wall[n]:.0f} sent/s" for n in names),
                  file=sys.stderr, flush=True)
    loads.append(load1())

    rows = {}
    for name in names:
        scores = {t.task: score_task(t, vectors[name])["spearman"] for t in tasks}
        rows[name] = {
            "sentences": len(sentences),
            "seconds": round(wall[name], 2),
            "sentences_per_second": round(len(sentences) / wall[name], 1),
            "process_cpu_seconds": round(cpu[name], 1),
            "scores": {t: round(v, 2) for t, v in scores.items()},
            "avg": round(float(np.mean(list(scores.values()))), 2),
            "avg_unrounded": float(np.mean(list(scores.values()))),
        }
    torch_rate = rows["torch_fp32"]["sentences_per_second"]
    for name in names:
        rows[name]["speedup_vs_torch"] = round(rows[name]["sentences_per_second"] / torch_rate, 2)
    fp32_diff = abs(rows["onnx_fp32"]["avg_unrounded"] - rows["torch_fp32"]["avg_unrounded"])
    int8_drop = rows["onnx_fp32"]["avg_unrounded"] - rows["onnx_int8"]["avg_unrounded"]
    def target(text: str, key: str, measured: float, at_least: bool) -> dict:
        limit = TARGETS[key]
        return {"target": text.format(limit), "threshold": limit, "measured": measured,
                "met": measured >= limit if at_least else measured <= limit}

    targets = {
        "onnx_fp32_speedup": target(">= {}x", "onnx_fp32_speedup", rows["onnx_fp32"]["speedup_vs_torch"], True),
        "onnx_fp32_same_scores": target("|avg - torch avg| <= {}", "onnx_fp32_avg_diff", round(fp32_diff, 4), False),
        "onnx_int8_speedup": target(">= {}x", "onnx_int8_speedup", rows["onnx_int8"]["speedup_vs_torch"], True),
        "onnx_int8_avg_drop": target("fp32 avg - int8 avg <= {}", "onnx_int8_avg_drop", round(int8_drop, 2), False),
    }
    real_loads = [x for x in loads if x is not None]
    record = {
        "model": args.model,
        "machine": args.machine or machine_line(),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "chunks": len(chunks),
        "distinct_sentences": len(sentences),
        "limit": args.limit,
        "load_average_1min": {"start": load_start, "min": min(real_loads, default=None),
                              "max": max(real_loads, default=None),
                              "mean": round(sum(real_loads) / len(real_loads), 2) if real_loads else None,
                              "per_chunk": loads},
        "rows": rows,
        "targets": targets,
        "exports": exports,
        "versions": {"sncse": sncse.__version__, "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
                     "onnx": onnx.__version__, "transformers": transformers.__version__,
                     "python": platform.python_version()},
        "command": " ".join([Path(sys.executable).name, *(sys.argv if argv is None else ["bench/onnx_speed.py", *argv])]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{'backend':<11} {'sent/s':>8} {'x torch':>8} {'CPU s':>7} {'STS avg':>8}")
    for name, row in rows.items():
        print(f"{name:<11} {row['sentences_per_second']:>8.1f} {row['speedup_vs_torch']:>7.2f}x "
              f"{row['process_cpu_seconds']:>7.1f} {row['avg']:>8.2f}")
    for name, t in targets.items():
        print(f"{name}: {t['measured']} ({t['target']}) {'met' if t['met'] else 'MISSED'}")
    print(f"load average (1 min): {record['load_average_1min']}; wrote {args.out}")
    return record


if __name__ == "__main__":
    main()
