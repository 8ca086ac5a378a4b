"""Fake run directories (config.yaml, results.json / metrics.jsonl, eval_test.json) for sweep tests."""

from __future__ import annotations

import json
from pathlib import Path


def write_sweep_run(root: Path, name: str, alpha: float, beta: float, lam: float, dev: float | None,
                    test: dict[str, float] | None = None, metrics_only: bool = False, loss: str = "bml") -> Path:
    from sncse.config import dump_yaml, load_config

    run = root / name
    run.mkdir(parents=True)
    cfg = load_config(None, [f"loss.name={loss}", f"loss.bml.alpha={alpha}", f"loss.bml.beta={beta}",
                             f"loss.bml.bml_weight={lam}"])
    (run / "config.yaml").write_text(dump_yaml(cfg), encoding="utf-8")
    if dev is not None:
        if metrics_only:  # no results.json: the best dev record of metrics.jsonl counts
            lines = [{"step": 10, "loss": 2.0}, {"step": 10, "dev_stsb": dev - 5}, {"step": 20, "loss": 1.0},
                     {"step": 20, "dev_stsb": dev}, {"step": 30, "dev_stsb": dev - 1}]
            (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
        else:
            (run / "results.json").write_text(json.dumps({"best_dev_stsb": dev, "best_step": 20, "steps": 30}),
                                              encoding="utf-8")
    if test is not None:
        avg = sum(test.values()) / len(test)
        (run / "eval_test.json").write_text(json.dumps({"tasks": {k: {"spearman": v} for k, v in test.items()},
                                                        "avg": avg}), encoding="utf-8")
    return run
