#!/usr/bin/env python
"""One SNCSE recipe through ``sncse train`` and through ``SentenceTransformerTrainer`` + ``SNCSELoss``,
side by side in one run: STS, negation-triplet accuracy and time of each.

The recipe (defaults): all-MiniLM-L6-v2 (``minilm``), mean pooling, SimCSE's MLP head in training only,
BML (tau 0.05, alpha 0.1, beta 0.3, lambda 1e-3), 20 steps of 64 sentences (one pass over the first
1,280 sentences of the corpus and their faithful negations), lr 1e-4 with linear decay and no warmup,
AdamW without weight decay or gradient clipping, max length 32 in training, dropout 0.1, seeds 42-44.

- ``sncse``: ``sncse.train.train`` on a config with those settings (what ``sncse train`` runs), no dev
  evaluation, the last checkpoint.
- ``st``: ``sncse.st.sentence_transformer(encoder, pooler)`` (Transformer + Pooling, stock modules),
  ``sncse.st.negation_dataset`` of the same negation file, ``SNCSELoss``, ``SentenceTransformerTrainer``
  with the same settings (``max_grad_norm=0``: no clipping), the model saved with ``model.save``.

Both models are then scored the same way: ``sncse.eval.run_eval`` (the SentEval protocol) on ``--tasks``
and the accuracy on ``sncse.data.triplets.negation_triplets()`` (the share of triplets whose anchor is
closer, by cosine, to its paraphrase than to its negation). The seeds alternate between the two trainers
(sncse 42, st 42, sncse 43, ...) so that a change in the machine's load falls on both.

Resumable: each (trainer, seed) is a record of ``--out``, written as soon as it is complete; a rerun
trains only what has no model in ``--work`` yet and evaluates only what its record lacks (so
``--no-negation`` now and a plain rerun later adds the triplet accuracy without training again).

    python bench/st_trainer.py --out bench/results/st_trainer.json                     # the measurement
    python bench/st_trainer.py --encoder tiny-bert --steps 2 --batch-size 8 --seeds 42 --tasks stsb \\
        --out /tmp/st_trainer_dry.json --work /tmp/st_trainer_dry                       # a dry run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from record import environment, write  # noqa: E402

log = logging.getLogger("bench.st_trainer")
TRAINERS = ("sncse", "st")
TRAIN_LENGTH = 32


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/st_trainer.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--encoder", default="minilm", help="any model sncse.load takes (default: all-MiniLM-L6-v2)")
    p.add_argument("--pooler", default="mean")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seeds", default="42,43,44")
    p.add_argument("--tasks", default="sts", help="evaluation tasks (sncse eval's names; default: the 7 STS tasks)")
    p.add_argument("--corpus", default="corpus/wiki1m_head.txt", help="sentences, found under the data root")
    p.add_argument("--negation", action=argparse.BooleanOptionalAction, default=True,
                   help="score the negation triplets (sncse.data.triplets)")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    p.add_argument("--work", default=str(BENCH_DIR / ".cache" / "st_trainer"), help="negations and trained models")
    p.add_argument("--out", default=str(BENCH_DIR / "results" / "st_trainer.json"))
    return p.parse_args(argv)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ------------------------------------------------------------------------------------------ data
def negations(args: argparse.Namespace, work: Path) -> Path:
    """The faithful negations of the first steps x batch corpus lines (negated once, kept in ``work``)."""
    from sncse.data.root import find_data_file
    from sncse.io import iter_lines
    from sncse.negation.driver import negate_file

    out = work / f"negations-{args.steps * args.batch_size}.jsonl"
    if out.exists():
        return out
    head = work / f"corpus-{args.steps * args.batch_size}.txt"
    lines = [x for x in iter_lines(find_data_file(args.corpus)) if x.strip()][: args.steps * args.batch_size]
    head.write_text("\n".join(lines) + "\n", encoding="utf-8")
    negate_file(head, out, mode="faithful", workers=1)
    return out


# ------------------------------------------------------------------------------------------ the two trainers
def train_sncse(args: argparse.Namespace, data: Path, seed: int, folder: Path) -> dict[str, Any]:
    from sncse.io import read_json
    from sncse.rundir.files import RESULTS_FILE
    from sncse.train import resolve_train_config, train

    overrides = [
        f"model.encoder={args.encoder}", f"model.pooler={args.pooler}", "model.mlp=train",
        f"model.max_length={TRAIN_LENGTH}", "loss.name=bml", f"data.train_file={data}", "data.format=negations",
        f"data.limit={args.steps * args.batch_size}", f"optim.lr={args.lr}", "optim.warmup_steps=0",
        "optim.weight_decay=0.0", f"train.batch_size={args.batch_size}", f"train.max_steps={args.steps}",
        "train.eval_steps=0", "train.save_steps=-1", "train.log_steps=5", f"train.seed={seed}",
        "train.device=cpu", f"train.output_dir={folder}",
    ]
    cfg = resolve_train_config(None, overrides)
    run = train(cfg, overwrite=True)
    results = read_json(run / RESULTS_FILE)
    return {"train_seconds": results["train_seconds"], "overrides": overrides}


def train_st(args: argparse.Namespace, data: Path, seed: int, folder: Path) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    from sncse.st import SNCSELoss, negation_dataset, sentence_transformer

    dataset = negation_dataset(data)
    model = sentence_transformer(args.encoder, pooler=args.pooler)
    whole = model.max_seq_length
    model.max_seq_length = TRAIN_LENGTH
    training = SentenceTransformerTrainingArguments(
        output_dir=str(folder / "trainer"), max_steps=args.steps, per_device_train_batch_size=args.batch_size,
        learning_rate=args.lr, warmup_steps=0, weight_decay=0.0, max_grad_norm=0.0, lr_scheduler_type="linear",
        logging_steps=5, save_strategy="no", report_to="none", use_cpu=True, seed=seed, data_seed=seed)
    trainer = SentenceTransformerTrainer(model=model, args=training, train_dataset=dataset, loss=SNCSELoss(model))
    out = trainer.train()
    model.max_seq_length = whole
    model.save(str(folder / "model"))
    return {"train_seconds": round(out.metrics["train_runtime"], 3)}


def model_path(trainer: str, folder: Path) -> Path:
    """Where each trainer's model lands: the run directory (``sncse.load`` takes its last checkpoint)
    or the saved sentence-transformers folder."""
    return folder if trainer == "sncse" else folder / "model"


# ------------------------------------------------------------------------------------------ scores
def sts_scores(model: str, tasks: str, pooler: str | None = None) -> dict[str, Any]:
    from sncse.eval import run_eval

    start = time.perf_counter()
    result = run_eval(model, tasks=tasks, pooler=pooler, device="cpu", show_progress=False)
    return {"sts": {task: r["spearman"] for task, r in result["tasks"].items()}, "sts_avg": result["avg"],
            "sts_eval_seconds": round(time.perf_counter() - start, 2)}


def negation_accuracy(model: str, pooler: str | None = None) -> dict[str, Any]:
    """The share of negation triplets whose anchor is closer (cosine) to its paraphrase than to its negation."""
    import numpy as np

    from sncse import load
    from sncse.data import triplets as negation_sets

    triplets = negation_sets.negation_triplets()
    encoder = load(model, pooler=pooler, device="cpu")
    a, p, n = (encoder.encode(x, normalize=True, show_progress=False)
               for x in (triplets.anchors, triplets.positives, triplets.negatives))
    wins = (a * p).sum(1) > (a * n).sum(1)
    return {"negation_accuracy": float(np.mean(wins)), "negation_triplets": len(wins),
            "negation_source": triplets.source}


def score(record: dict[str, Any], model: str, args: argparse.Namespace, pooler: str | None = None) -> None:
    """Fill the scores ``record`` lacks (``pooler``: instead of the model's own)."""
    if "sts_avg" not in record:
        record.update(sts_scores(model, args.tasks, pooler))
    if args.negation and "negation_accuracy" not in record:
        record.update(negation_accuracy(model, pooler))


# ------------------------------------------------------------------------------------------ run
def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for trainer in TRAINERS:
        rows = [r for r in records if r["trainer"] == trainer]
        for key in ("sts_avg", "negation_accuracy", "train_seconds", "wall_seconds"):
            values = [r[key] for r in rows if r.get(key) is not None]
            if values:
                out.setdefault(trainer, {})[key] = {
                    "mean": round(statistics.fmean(values), 4),
                    "sd": round(statistics.stdev(values), 4) if len(values) > 1 else None, "n": len(values)}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import torch

    torch.set_num_threads(args.threads)
    work, out = Path(args.work), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    settings = {k: getattr(args, k) for k in ("encoder", "pooler", "steps", "batch_size", "lr", "tasks", "corpus")}
    if doc and doc.get("settings") != settings:
        raise SystemExit(f"{out} holds another recipe ({doc.get('settings')}); choose another --out")
    doc.update(settings=settings, environment=environment(), threads=args.threads,
               command=" ".join(shlex.quote(x) for x in ["python", "bench/st_trainer.py", *(argv or sys.argv[1:])]))
    records: dict[str, dict[str, Any]] = {f"{r['trainer']}-{r['seed']}": r for r in doc.get("records", [])}

    def save() -> None:
        doc["records"] = list(records.values())
        doc["summary"] = summary(doc["records"])
        write(out, doc)

    data = negations(args, work)
    base = doc.setdefault("base", {"model": args.encoder, "pooler": args.pooler})
    if "sts_avg" not in base or (args.negation and "negation_accuracy" not in base):
        base["loadavg_before"] = loadavg()
        score(base, args.encoder, args, pooler=args.pooler)
        base["loadavg_after"] = loadavg()
        save()
    for seed in (int(s) for s in args.seeds.split(",")):
        for trainer in TRAINERS:
            key = f"{trainer}-{seed}"
            record = records.setdefault(key, {"trainer": trainer, "seed": seed})
            folder = work / key
            if "wall_seconds" not in record or not model_path(trainer, folder).exists():
                record["loadavg_before"] = loadavg()
                start = time.perf_counter()
                record.update((train_sncse if trainer == "sncse" else train_st)(args, data, seed, folder))
                record["wall_seconds"] = round(time.perf_counter() - start, 3)
                record["loadavg_after_train"] = loadavg()
                for stale in ("sts_avg", "sts", "negation_accuracy"):
                    record.pop(stale, None)
                save()
            if "sts_avg" not in record or (args.negation and "negation_accuracy" not in record):
                score(record, str(model_path(trainer, folder)), args)
                record["loadavg_after_eval"] = loadavg()
                save()
    save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
