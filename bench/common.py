"""What the training benchmarks share (``train_throughput.py``, ``memory.py``): the methods they time,
the config of a timed run, the corpus and its stand-in negations, device memory and synchronisation, and
the description of the device measured on."""

from __future__ import annotations

import argparse
import gc
import json
import resource
from pathlib import Path
from typing import Any

#: method -> (loss, pooler); the views and the training file follow from the loss's class
METHODS: dict[str, dict[str, str]] = {
    "sncse": {"loss": "bml", "pooler": "prompt"},
    "simcse": {"loss": "infonce", "pooler": "cls"},
}
_AUX = {"is", "are", "was", "were", "am", "be", "been", "can", "could", "will", "would", "shall", "should",
        "may", "might", "must", "has", "have", "had", "does", "do", "did"}


def sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def free_memory(device: Any) -> None:
    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_gb(device: Any) -> float | None:
    import torch

    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def max_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def synthetic_negation(sentence: str) -> str:
    """A stand-in soft negative with the length profile of ``sncse negate``'s output.

    Speed depends only on token counts, and the benchmark must run where spaCy is absent (the GPU
    machine): "not" goes after the first auxiliary, else after the first word (one word longer, as the
    rule-based negator's typical output).
    """
    words = sentence.split()
    for i, w in enumerate(words):
        if w.lower() in _AUX:
            return " ".join(words[: i + 1] + ["not"] + words[i + 1 :])
    return " ".join(words[:1] + ["not"] + words[1:])


def read_corpus(args: argparse.Namespace) -> list[str]:
    from sncse.data.root import find_data_file

    path = Path(args.corpus) if args.corpus else find_data_file("corpus/wiki1m_head.txt")
    sentences = [" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines()]
    sentences = [s for s in sentences if s]
    if len(sentences) < args.batch_size:
        raise SystemExit(f"error: {path}: {len(sentences)} sentences are fewer than one batch of {args.batch_size}")
    return sentences


def uses_negations(method: str) -> bool:
    """Whether the method's loss trains on soft negatives (the ``views`` of its class)."""
    from sncse.losses.base import registered_loss

    loss = registered_loss(METHODS[method]["loss"])
    return loss is not None and "negation" in loss.views


def write_training_files(sentences: list[str], work: Path) -> dict[str, Path]:
    """The corpus as plain text (``text``) and as ``sncse negate``-style JSONL with stand-in negations
    (``negations``); :func:`training_file` picks a method's."""
    from sncse.io import atomic_write

    text, negations = work / "corpus.txt", work / "corpus.negations.jsonl"
    with atomic_write(text) as fh:
        fh.writelines(s + "\n" for s in sentences)
    with atomic_write(negations) as fh:
        fh.writelines(json.dumps([s, synthetic_negation(s)]) + "\n" for s in sentences)
    return {"text": text, "negations": negations}


def training_file(files: dict[str, Path], method: str) -> Path:
    """The file of :func:`write_training_files` that ``method`` trains on."""
    return files["negations" if uses_negations(method) else "text"]


def make_config(args: argparse.Namespace, model_dir: Path, method: str, train_file: Path, out_dir: Path,
                device: Any, workers: int) -> Any:
    from sncse.config import Config
    from sncse.config.loader import validate

    cfg = Config()
    cfg.model.encoder = str(model_dir)
    cfg.model.pooler = METHODS[method]["pooler"]
    cfg.model.max_length = args.max_length
    cfg.loss.name = METHODS[method]["loss"]
    cfg.data.train_file = str(train_file)
    cfg.data.format = "negations" if uses_negations(method) else "text"
    cfg.data.cache_dir = str(out_dir.parent / "token-cache")
    if hasattr(cfg.data, "batching"):
        cfg.data.batching = args.batching
    cfg.train.output_dir = str(out_dir)
    cfg.train.batch_size = args.batch_size
    cfg.train.max_steps = args.warmup + args.steps
    cfg.train.eval_steps = args.eval_steps or 125  # builds the dev evaluator; the loop itself is not run
    cfg.train.eval_limit = args.eval_limit
    cfg.train.device = str(device)
    cfg.train.compile = bool(args.compile)
    cfg.train.num_workers = workers
    cfg.train.seed = args.seed
    validate(cfg)
    return cfg


def device_description(device: Any) -> dict[str, Any]:
    """The device measured on and the machine around it (``sncse.runinfo.machine_info``)."""
    from sncse.runinfo import machine_info

    return {"device": str(device), **machine_info(device)}
