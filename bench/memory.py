#!/usr/bin/env python
"""Peak memory and step time of a training step against batch size, with and without the gradient cache.

For every model (``--models``), batch size (``--batch-sizes``) and mode (``--modes``: ``plain``, the
one-forward step; ``cached``, once per ``train.mini_batch_size`` in ``--mini-batch-size``) one row runs in a FRESH
subprocess: the trainer is set up exactly as ``sncse train`` sets it up (``Trainer(cfg).setup()``:
cached tokens, the loop's sampler and collator, AdamW, bf16 autocast on CUDA), then ``--warmup``
untimed and ``--steps`` timed ``Trainer.step()`` calls. Each row reports

- ``peak_mem_gb``: on CUDA ``torch.cuda.max_memory_allocated`` over the timed steps (weights, AdamW
  state, activations); on the CPU the peak resident set of the row's process (``ru_maxrss``: Python,
  torch, the model, AdamW state and the step), with ``setup_rss_gb`` (the peak before the first step)
  beside it, so ``peak_mem_gb - setup_rss_gb`` is what the step added;
- ``step_s``: median time of the timed steps (the device synchronised around each); ``sent_per_s``;
- ``rows`` (sequences per step, all views) and ``chunks`` (forward passes per step).

Each row is appended to ``--out`` as soon as it finishes (written atomically), so a run that is cut
off keeps what it measured; a row that runs out of memory or past ``--row-timeout`` is recorded as such.
``targets`` (recomputed after every row), per model: ``memory``, the cached step at batch 4096 (with
the smallest mini-batch measured) against the peak of the plain step at batch 256, which it must not
exceed; ``overhead``, for each mini-batch size, the cached step's time over the plain step's at the
largest batch both were measured at (at most 1.4). On a large GPU a chunk of 64 sequences leaves most
of the device idle, so the overhead is worth measuring at a larger mini-batch too (``64,512``).

Models: ``minilm`` (all-MiniLM-L6-v2), ``bert-base`` (BERT-base sizes, random weights), ``tiny-bert``
(CI). Method: ``simcse`` (``infonce``, ``cls`` pooler, 2 views) or ``sncse`` (``bml``, ``prompt``, 3
views; stand-in negations, as ``bench/train_throughput.py``). Max length 32.

GPU (all rows; one command)::

    python bench/memory.py --device cuda --models minilm,bert-base --batch-sizes 64,256,1024,4096 \\
        --mini-batch-size 64,512 --out $OUT/memory_h200.json

CPU (a step of BERT-base at batch 4096 takes far too long on two cores: fewer rows, one step each,
several commands appending to one file; see docs/benchmarks.md)::

    python bench/memory.py --device cpu --models minilm --batch-sizes 64,256,1024 --steps 1 --warmup 0 \\
        --out bench/results/memory_cpu.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from common import (  # noqa: E402
    METHODS,
    device_description,
    free_memory,
    make_config,
    max_rss_gb,
    peak_gb,
    read_corpus,
    sync,
    training_file,
    write_training_files,
)
from model_dirs import MODELS, prepare_model_dir  # noqa: E402

log = logging.getLogger("bench.memory")

MODES = ("plain", "cached")
#: the targets: a cached batch of this size ...
TARGET_BATCH = 4096
#: ... within the peak memory of a plain batch of this size; and the cache's step time at most this x plain
TARGET_PLAIN_BATCH, TARGET_OVERHEAD = 256, 1.4


# ------------------------------------------------------------------------------------------ arguments
def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/memory.py",
        description="Peak memory and step time against batch size, with and without the gradient cache.",
        epilog="Example (CPU, small): python bench/memory.py --device cpu --models tiny-bert --batch-sizes 8,16 "
               "--mini-batch-size 4",
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default auto)")
    p.add_argument("--models", default="minilm,bert-base", help=f"comma list of {', '.join(MODELS)}")
    p.add_argument("--batch-sizes", default="64,256,1024,4096", help="comma list of batch sizes (examples)")
    p.add_argument("--mini-batch-size", default="64",
                   help="train.mini_batch_size of the cached rows, sequences per forward pass: one number or a "
                        "comma list, one cached row per value (default 64)")
    p.add_argument("--modes", default="plain,cached", help="comma list of plain, cached")
    p.add_argument("--method", default="simcse", choices=sorted(METHODS), help="simcse (infonce) or sncse (bml)")
    p.add_argument("--max-length", type=int, default=32)
    p.add_argument("--steps", type=int, default=None, help="timed steps per row (default 3 on CUDA, 1 on CPU)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 1 on CUDA, 0 on CPU)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads in each row (CPU)")
    p.add_argument("--row-timeout", type=float, default=1800, help="seconds before a row is stopped")
    p.add_argument("--bundle", default=None, help="MiniLM directory (default: .device/minilm, else the package)")
    p.add_argument("--corpus", default=None, help="training sentences (default: <data root>/corpus/wiki1m_head.txt)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--work-dir", default=None, help="scratch directory (default: a temporary one)")
    p.add_argument("--out", default=None, help="JSON path (default: bench/results/memory_<device>_<time>.json)")
    p.add_argument("--append", action="store_true",
                   help="add the rows to an existing --out (its commands are kept; same device)")
    p.add_argument("--machine", default=None, help="free-text machine description stored in the JSON")
    p.add_argument("--row", default=None, help=argparse.SUPPRESS)  # internal: run one row in this process
    args = p.parse_args(argv)
    if args.row:
        return args
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    args.batch_sizes = _ints(args.batch_sizes)
    args.mini_batch_size = _ints(args.mini_batch_size)
    bad = [m for m in args.models if m not in MODELS] + [m for m in args.modes if m not in MODES]
    if bad:
        p.error(f"unknown model/mode {bad}; models: {', '.join(MODELS)}; modes: {', '.join(MODES)}")
    if not (args.batch_sizes and args.mini_batch_size) or min(*args.batch_sizes, *args.mini_batch_size) < 1 \
            or args.max_length < 1:
        p.error("--batch-sizes, --mini-batch-size and --max-length must be >= 1")
    if (args.steps is not None and args.steps < 1) or (args.warmup is not None and args.warmup < 0):
        p.error("--steps must be >= 1 and --warmup >= 0")
    return args


# ------------------------------------------------------------------------------------------ one row
def setup_trainer(spec: dict[str, Any]) -> Any:
    """The trainer of a row, set up as ``sncse train`` sets it up (tokens read from the shared cache)."""
    import torch

    from sncse.encoders.model import resolve_device
    from sncse.train import Trainer

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    device = resolve_device(spec["device"])
    ns = argparse.Namespace(batch_size=spec["batch_size"], max_length=spec["max_length"], warmup=spec["warmup"],
                            steps=spec["steps"], eval_steps=0, eval_limit=None, compile=False, batching="shuffle",
                            seed=spec["seed"])
    work = Path(spec["work"])
    out_dir = work / f"run-{spec['model']}-{spec['mode']}-{spec['batch_size']}"
    cfg = make_config(ns, Path(spec["model_dir"]), spec["method"], Path(spec["train_file"]), out_dir, device, 0)
    cfg.train.eval_steps = 0  # no dev evaluator: only the step is measured
    cfg.train.mini_batch_size = spec["mini_batch_size"] if spec["mode"] == "cached" else 0
    trainer = Trainer(cfg, argv=None, overwrite=True)
    trainer.setup()
    return trainer


def measure_row(spec: dict[str, Any]) -> dict[str, Any]:
    """One row, in this (fresh) process: set the trainer up, step, measure. ``spec`` is what
    :func:`row_specs` built."""
    import torch

    trainer = setup_trainer(spec)
    cfg, device = trainer.cfg, trainer.device
    setup_rss = max_rss_gb()
    cuda = device.type == "cuda"
    times = []
    try:
        for _ in range(spec["warmup"]):
            trainer.step()
        sync(device)
        free_memory(device)  # CUDA: the peak is that of the timed steps (weights and AdamW state included)
        for _ in range(spec["steps"]):
            batch = trainer.next_batch()
            t0 = time.perf_counter()
            trainer.step(batch)
            sync(device)
            times.append(time.perf_counter() - t0)
    finally:
        trainer.close()
    step_fn = trainer.step_fn
    step_s = statistics.median(times)
    return {
        "model": spec["model"], "mode": spec["mode"], "batch_size": spec["batch_size"],
        "mini_batch_size": cfg.train.mini_batch_size or None,
        "method": spec["method"], "loss": cfg.loss.name, "pooler": cfg.model.pooler, "views": list(trainer.views),
        "rows": len(trainer.views) * spec["batch_size"], "chunks": step_fn.chunks, "amp": step_fn.amp.name,
        "peak_mem_gb": peak_gb(device) if cuda else max_rss_gb(),
        "setup_rss_gb": setup_rss, "max_rss_gb": max_rss_gb(),
        "step_s": step_s, "step_s_all": times, "sent_per_s": spec["batch_size"] / step_s,
        "steps": spec["steps"], "warmup": spec["warmup"], "threads": torch.get_num_threads(),
    }


def run_row(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """:func:`measure_row` in a fresh interpreter (its own peak RSS, a crash or OOM stays there)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--row", json.dumps(spec)]
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
    base = {"model": spec["model"], "mode": spec["mode"], "batch_size": spec["batch_size"],
            "mini_batch_size": spec["mini_batch_size"] if spec["mode"] == "cached" else None}
    load = list(os.getloadavg())
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {**base, "error": f"timeout after {timeout:.0f} s", "loadavg": load}
    wall = time.perf_counter() - t0
    lines = [x for x in res.stdout.splitlines() if x.startswith("{")]
    if res.returncode != 0 or not lines:
        tail = (res.stderr or "").strip().splitlines()[-1:] or [f"exit code {res.returncode}"]
        oom = "out of memory" in (res.stderr or "").lower() or res.returncode == -9
        return {**base, "error": "out of memory" if oom else tail[0][:300], "returncode": res.returncode,
                "loadavg": load, "row_wall_s": wall}
    return {**json.loads(lines[-1]), "loadavg": load, "loadavg_end": list(os.getloadavg()), "row_wall_s": wall}


# ------------------------------------------------------------------------------------------ the run
def row_specs(args: argparse.Namespace, device: Any, work: Path, files: dict[str, Path]) -> list[dict[str, Any]]:
    cuda = device.type == "cuda"
    specs = []
    for model in args.models:
        model_dir = prepare_model_dir(model, work, bundle=args.bundle, seed=args.seed)
        for batch in args.batch_sizes:
            for mode, mini in [(m, k) for m in args.modes for k in (args.mini_batch_size if m == "cached" else [0])]:
                specs.append({"model": model, "model_dir": str(model_dir), "mode": mode, "batch_size": batch,
                              "mini_batch_size": mini, "method": args.method,
                              "train_file": str(training_file(files, args.method)), "work": str(work), "device": str(device),
                              "max_length": args.max_length, "seed": args.seed, "threads": args.threads,
                              "steps": args.steps if args.steps is not None else (3 if cuda else 1),
                              "warmup": args.warmup if args.warmup is not None else (1 if cuda else 0)})
    return specs


def check_targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per model: the cached batch ``TARGET_BATCH`` (at the smallest mini-batch measured) against the
    peak memory of the plain batch ``TARGET_PLAIN_BATCH``, and, per mini-batch size, the cached step time
    over the plain one at the largest batch both were measured at (within ``TARGET_OVERHEAD``)."""
    ok = [r for r in rows if "error" not in r]
    out: dict[str, Any] = {}
    for model in dict.fromkeys(r["model"] for r in ok):
        mine = [r for r in ok if r["model"] == model]
        plain = {r["batch_size"]: r for r in mine if r["mode"] == "plain"}
        minis = sorted({r["mini_batch_size"] for r in mine if r["mode"] == "cached"})
        t: dict[str, Any] = {}
        ref = plain.get(TARGET_PLAIN_BATCH)
        if ref is not None and minis:
            cached = {r["batch_size"]: r for r in mine if r["mode"] == "cached" and r["mini_batch_size"] == minis[0]}
            within = [b for b, r in cached.items() if r["peak_mem_gb"] <= ref["peak_mem_gb"]]
            big = cached.get(TARGET_BATCH)
            t["memory"] = {"plain_batch": TARGET_PLAIN_BATCH, "plain_peak_gb": ref["peak_mem_gb"],
                           "mini_batch_size": minis[0], "largest_cached_batch_within": max(within) if within else None,
                           "cached_batch": TARGET_BATCH, "cached_peak_gb": big["peak_mem_gb"] if big else None,
                           "met": big["peak_mem_gb"] <= ref["peak_mem_gb"] if big else None}  # None: not measured
        overhead = []
        for mini in minis:
            cached = {r["batch_size"]: r for r in mine if r["mode"] == "cached" and r["mini_batch_size"] == mini}
            both = sorted(set(plain) & set(cached))
            if both:
                b = both[-1]
                ratio = cached[b]["step_s"] / plain[b]["step_s"]
                overhead.append({"mini_batch_size": mini, "batch_size": b, "ratio": ratio,
                                 "target": TARGET_OVERHEAD, "met": ratio <= TARGET_OVERHEAD})
        if overhead:
            t["overhead"] = overhead
        out[model] = t
    return out


def write_doc(doc: dict[str, Any], out: Path) -> None:
    from sncse.io import write_json

    doc["targets"] = check_targets(doc["rows"])
    write_json(out, doc)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    from sncse.encoders.model import resolve_device
    from sncse.runinfo import run_info

    device = resolve_device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but CUDA is not available")
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else (
        REPO / "bench" / "results" / f"memory_{device.type}_{time.strftime('%Y%m%d-%H%M%S')}.json")
    command = shlex.join(["python", "bench/memory.py", *(argv if argv is not None else sys.argv[1:])])
    if args.append and out.exists():
        doc = json.loads(out.read_text(encoding="utf-8"))
        if doc.get("device", {}).get("device") != str(device):
            raise SystemExit(f"error: {out} holds rows of {doc.get('device', {}).get('device')}, not {device}")
        doc["commands"].append(command)
    else:
        info = run_info(argv=[])
        doc = {"benchmark": "memory", "commands": [command], "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "machine": args.machine, "device": device_description(device),
               "python": info["python"], "versions": info["versions"], "git_commit": info["git_commit"],
               "settings": {"max_length": args.max_length, "method": args.method,
                            "amp": "bf16 autocast, fp32 weights" if device.type == "cuda" else "fp32",
                            "peak": "torch.cuda.max_memory_allocated" if device.type == "cuda"
                            else "peak RSS of the row's process (ru_maxrss)"},
               "rows": []}
    with (nullcontext(args.work_dir) if args.work_dir else tempfile.TemporaryDirectory(prefix="sncse-mem-")) as wd:
        work = Path(wd)
        work.mkdir(parents=True, exist_ok=True)
        sentences = read_corpus(argparse.Namespace(corpus=args.corpus, batch_size=max(args.batch_sizes)))
        files = write_training_files(sentences, work)
        doc["settings"]["corpus_sentences"] = len(sentences)
        specs = row_specs(args, device, work, files)
        for model in args.models:  # tokenize here, once per model, so that no row's peak holds it
            setup_trainer(next(s for s in specs if s["model"] == model)).close()
        for spec in specs:
            print(f"[{spec['model']}] {spec['mode']} batch {spec['batch_size']} ...", file=sys.stderr, flush=True)
            row = run_row(spec, args.row_timeout)
            doc["rows"].append(row)
            write_doc(doc, out)  # kept even if the run is cut off after this row
            print("   " + format_row(row), file=sys.stderr, flush=True)
    write_doc(doc, out)
    print(f"wrote {out}", file=sys.stderr)
    return doc


def format_row(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"{r['model']} {r['mode']} {r['batch_size']}: {r['error']}"
    return (f"{r['model']} {r['mode']} batch {r['batch_size']} ({r['rows']} rows, {r['chunks']} chunks): "
            f"peak {r['peak_mem_gb']:.2f} GB, step {r['step_s']:.2f} s")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    args = parse_args(sys.argv[1:])
    if args.row:
        try:
            result = measure_row(json.loads(args.row))
        except Exception as exc:  # the parent records it; CUDA's OOM included
            import torch

            if isinstance(exc, torch.OutOfMemoryError):
                print("error: out of memory", file=sys.stderr)
                raise SystemExit(3) from None
            raise
        print(json.dumps(result))
        return
    run(sys.argv[1:])


if __name__ == "__main__":
    main()
