#!/usr/bin/env python
"""What ``data.dedup_batches`` changes on a corpus, and whether it moves the STS-B dev score.

Counts, per corpus (``--corpus``, repeatable; default the local Wikipedia prefix): the examples whose
anchor token ids (``--encoder``'s tokenizer, max length 32: what the trainer compares) occur more than
once, the distinct sentences among them, and for each batch size (``--batch-sizes``) and epoch
(``--epochs``) of the trainer's sampler (seed 42): the batches that held a duplicate, the examples
moved, the batches changed.

With ``--train-steps N`` it also trains twice from the same seed, ``data.dedup_batches`` off and on
(unsupervised SimCSE: ``infonce``, ``cls`` pooler, ``--train-batch``, lr 1e-5 as ``configs/minilm.yaml``,
a dev evaluation on all 1,500 STS-B dev pairs at the end), and records both dev scores.

    python bench/dedup_batches.py --train-steps 20 --out bench/results/dedup_batches.json
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/dedup_batches.py", description=__doc__.splitlines()[0])
    p.add_argument("--corpus", action="append", default=None,
                   help="a training file (repeatable; default <data root>/corpus/wiki1m_head.txt)")
    p.add_argument("--encoder", default="minilm", help="whose tokenizer decides what is identical (default minilm)")
    p.add_argument("--batch-sizes", default="64,256")
    p.add_argument("--epochs", type=int, default=2, help="epochs of the sampler to count (default 2)")
    p.add_argument("--train-steps", type=int, default=0, help="> 0: train off and on for this many steps")
    p.add_argument("--train-batch", type=int, default=256)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default=None, help="JSON path (default: bench/results/dedup_batches.json)")
    return p.parse_args(argv)


def corpus_counts(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from sncse.config import load_config
    from sncse.data.batching import BatchSampler, duplicate_groups
    from sncse.data.corpus import read_training_file
    from sncse.data.tokenized import plan_views, tokenize_examples
    from sncse.train import build_model

    cfg = load_config(None, [f"model.encoder={args.encoder}", "model.pooler=cls", "loss.name=infonce",
                             "model.max_length=32", "train.device=cpu"])
    examples = read_training_file(path, "text")
    data = tokenize_examples(build_model(cfg, "cpu"), examples, plan_views(("positive",), examples, "infonce"))
    groups = duplicate_groups(data)
    dup = groups >= 0
    distinct = len(np.unique(groups[dup]))
    out: dict[str, Any] = {"file": str(path), "examples": len(data), "examples_with_a_duplicate": int(dup.sum()),
                           "distinct_duplicated_sentences": distinct, "redundant_copies": int(dup.sum()) - distinct,
                           "redundant_copies_exact_text": len(examples.anchor) - len(set(examples.anchor))}
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        sampler = BatchSampler(len(data), batch, seed=args.seed, groups=groups)
        out[f"batch_{batch}"] = {f"epoch_{e}": sampler.dedup_stats(e) for e in range(args.epochs)}
    if args.train_steps > 0:  # the batches the two training runs see
        plain = BatchSampler(len(data), args.train_batch, seed=args.seed)
        dedup = BatchSampler(len(data), args.train_batch, seed=args.seed, groups=groups)
        a, b = plain.iterate(), dedup.iterate()
        changed = sum(int(set(next(a)[1]) != set(next(b)[1])) for _ in range(args.train_steps))
        out["train_run"] = {"steps": args.train_steps, "batch_size": args.train_batch, "batches_changed": changed}
    return out


def dev_scores(path: Path, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from sncse.config import load_config
    from sncse.io import read_json
    from sncse.rundir.files import RESULTS_FILE
    from sncse.train import train

    out: dict[str, Any] = {"loss": "infonce", "pooler": "cls", "batch_size": args.train_batch,
                           "steps": args.train_steps, "lr": 1e-5, "seed": args.seed, "dev_pairs": 1500}
    for dedup in (False, True):
        cfg = load_config(None, [f"model.encoder={args.encoder}", "model.pooler=cls", "loss.name=infonce",
                                 f"data.train_file={path}", "data.format=text", f"data.dedup_batches={dedup}",
                                 f"train.batch_size={args.train_batch}", f"train.max_steps={args.train_steps}",
                                 f"train.eval_steps={args.train_steps}", "train.log_steps=5", "train.device=cpu",
                                 "optim.lr=1e-5", "optim.max_grad_norm=1.0", f"train.seed={args.seed}",
                                 f"train.output_dir={work / f'dedup-{dedup}'}", f"data.cache_dir={work / 'cache'}"])
        t0 = time.perf_counter()
        results = read_json(train(cfg, overwrite=True) / RESULTS_FILE)
        out["dedup_on" if dedup else "dedup_off"] = {"best_dev_stsb": results["best_dev_stsb"],
                                                     "final_loss": results["final_loss"],
                                                     "wall_s": round(time.perf_counter() - t0, 1)}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    from sncse.data.root import find_data_file
    from sncse.io import write_json
    from sncse.runinfo import run_info

    corpora = [Path(c) for c in args.corpus] if args.corpus else [find_data_file("corpus/wiki1m_head.txt")]
    load = list(os.getloadavg())
    info = run_info(argv=[])
    doc: dict[str, Any] = {
        "benchmark": "dedup_batches",
        "command": shlex.join(["python", "bench/dedup_batches.py", *(argv if argv is not None else sys.argv[1:])]),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "encoder": args.encoder, "torch_threads": torch.get_num_threads(),
        "versions": info["versions"], "git_commit": info["git_commit"],
        "corpora": {p.name: corpus_counts(p, args) for p in corpora},
    }
    if args.train_steps > 0:
        with tempfile.TemporaryDirectory(prefix="sncse-dedup-") as wd:
            doc["dev_stsb"] = dev_scores(corpora[0], args, Path(wd))
    doc["loadavg"] = {"start": load, "end": list(os.getloadavg())}
    out = Path(args.out) if args.out else REPO / "bench" / "results" / "dedup_batches.json"
    write_json(out, doc)
    print(json.dumps(doc, indent=1))
    return doc


if __name__ == "__main__":
    main()
