"""Fake `sncse train` run directories around the tiny random BERT (until a trainer writes real ones in tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

EVAL_TEST = {  # the shape of `sncse eval RUN --json`; numbers are fixture values, not results
    "mode": "test",
    "tasks": {"sts12": {"spearman": 11.11}, "sts13": {"spearman": 22.22}, "sts14": {"spearman": 33.33},
              "sts15": {"spearman": 44.44}, "sts16": {"spearman": 55.55}, "stsb": {"spearman": 66.66},
              "sickr": {"spearman": 77.77}},
    "avg": 44.43,
}


def write_run(root: Path, backbone_tokenizer, pooler: str = "cls", mlp: str = "train", loss: str = "bml",
              evaluated: bool = True, name: str = "run") -> Path:
    """A run dir as sncse.rundir.reader reads it: best/ checkpoint, config.yaml, metrics.jsonl, results.json[, eval_test.json]."""
    from sncse.config import dump_yaml, load_config
    from sncse.encoders import SentenceEncoder
    from sncse.runinfo import write_run_info

    backbone, tokenizer = backbone_tokenizer
    torch.manual_seed(0)  # the MLP head's initialisation
    model = SentenceEncoder(backbone, tokenizer, pooler=pooler, mlp=mlp, base_encoder="tiny-bert").eval()
    run = root / name
    model.save(run / "best")
    cfg = load_config(None, ["model.encoder=tiny-bert", f"model.pooler={pooler}", f"model.mlp={mlp}",
                             f"loss.name={loss}", f"train.output_dir={run}", "train.batch_size=64",
                             "train.max_steps=250", "data.train_file=corpus/wiki1m_head.txt"])
    (run / "config.yaml").write_text(dump_yaml(cfg), encoding="utf-8")
    write_run_info(run, argv=["sncse", "train"])
    records = [{"step": 125, "epoch": 0, "lr": 1e-5, "loss": 1.5, "parts": {}, "sent_per_s": 100.0},
               {"step": 125, "dev_stsb": 40.5},
               {"step": 250, "epoch": 0, "lr": 1e-5, "loss": 1.2, "parts": {}, "sent_per_s": 100.0},
               {"step": 250, "dev_stsb": 42.25}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (run / "results.json").write_text(json.dumps({"best_step": 250, "best_dev_stsb": 42.25, "steps": 250,
                                                  "train_seconds": 90.0}), encoding="utf-8")
    if evaluated:
        (run / "eval_test.json").write_text(json.dumps(EVAL_TEST), encoding="utf-8")
    return run


@pytest.fixture()
def make_run(tmp_path, tiny_backbone):
    def make(**kw) -> Path:
        return write_run(tmp_path, tiny_backbone, **kw)

    return make


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Exports must load without a network."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
