#!/usr/bin/env python
"""The speed targets of ``bench/gpu_suite.sh``, read off the files a suite run wrote: met, missed or not measured.

    python bench/suite_report.py OUT_DIR [--json PATH] [--exit-code]

| target | read from | counts when |
|---|---|---|
| SimCSE on MiniLM >= 3x sentence-transformers' rate (same run) | ``train_throughput_*.json`` ``targets`` | CUDA, batch 256, max length 32 |
| SNCSE on MiniLM faster than sentence-transformers' SimCSE | same | same |
| a 1M-sentence SNCSE epoch of BERT-base size, with dev evaluation every 125 steps, under 10 min | same | same |
| the full 7-task STS evaluation of BERT-base size under 10 s | ``eval_speed_*.json``, ``eval_seconds`` | CUDA, all pairs |
| the short SNCSE training run: loss falls, a dev score exists | ``train_sncse_minilm/metrics.jsonl`` | CUDA |

A value measured at other settings (the CPU dry run, a cut-down run) is shown but counts as "not
measured". ``--exit-code`` exits 3 when a target is missed (the suite then profiles).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sncse.rundir.files import METRICS_FILE, RESULTS_FILE

TRAIN_TARGETS = (  # key in train_throughput's "targets", label, unit
    ("minilm_simcse_vs_st", "MiniLM SimCSE vs sentence-transformers (x)", "x"),
    ("minilm_sncse_vs_st_simcse", "MiniLM SNCSE vs sentence-transformers' SimCSE (x)", "x"),
    ("bert_base_sncse_1m_epoch_s", "BERT-base SNCSE 1M-sentence epoch with eval (s)", "s"),
)
EVAL_TARGET_S = 10.0
TRAIN_RUN_DIR = "train_sncse_minilm"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _newest(out: Path, pattern: str) -> Path | None:
    files = sorted(out.glob(pattern), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def _row(target: str, value: float | None, goal: str, status: str, note: str = "") -> dict[str, Any]:
    return {"target": target, "value": value, "goal": goal, "status": status, "note": note}


def train_targets(out: Path) -> list[dict[str, Any]]:
    path = _newest(out, "train_throughput_*.json")
    doc = _read_json(path) if path else None
    if doc is None:
        return [_row(label, None, "", "not measured", "no train_throughput JSON") for _, label, _ in TRAIN_TARGETS]
    targets = doc.get("targets", {})
    at_settings = bool(targets.get("at_target_settings"))
    cut = "" if doc.get("complete", True) else "run cut off; "
    rows = []
    for key, label, _unit in TRAIN_TARGETS:
        t = targets.get(key)
        if t is None:
            rows.append(_row(label, None, "", "not measured", cut + "row not in the run"))
        elif not at_settings:
            rows.append(_row(label, t["value"], t["target"], "not measured",
                             cut + f"settings differ (device {doc['device']['device']}, batch "
                             f"{doc['settings']['batch_size']}): would be {'met' if t['met'] else 'missed'}"))
        else:
            rows.append(_row(label, t["value"], t["target"], "met" if t["met"] else "missed", cut.rstrip("; ")))
    return rows


def eval_target(out: Path) -> dict[str, Any]:
    label = "BERT-base 7-task STS evaluation (s)"
    path = _newest(out, "eval_speed_*.json")
    doc = _read_json(path) if path else None
    runs = (doc.get("runs", [doc]) if doc else [])
    rec = next((r for r in runs if r.get("model") == "bert-base"), None)
    if rec is None:
        return _row(label, None, f"< {EVAL_TARGET_S:g}", "not measured", "no bert-base eval_speed record")
    value = rec["eval_seconds"]
    if not str(rec.get("device", "")).startswith("cuda") or rec.get("limit") is not None:
        return _row(label, value, f"< {EVAL_TARGET_S:g}", "not measured",
                    f"settings differ (device {rec.get('device')}, limit {rec.get('limit')})")
    return _row(label, value, f"< {EVAL_TARGET_S:g}", "met" if value < EVAL_TARGET_S else "missed",
                f"warm: {rec.get('warm_eval_seconds')} s")


def training_run(out: Path) -> dict[str, Any]:
    """Loss falls (mean of the last third of the logged losses below the first third's) and a dev score."""
    label = "short SNCSE run on MiniLM: loss falls, dev score"
    path = out / TRAIN_RUN_DIR / METRICS_FILE
    if not path.exists():
        return _row(label, None, "falls", "not measured", f"no {METRICS_FILE}")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    losses = [r["loss"] for r in records if "loss" in r]
    devs = [v for r in records for k, v in r.items() if k.startswith("dev_")]
    results = _read_json(out / TRAIN_RUN_DIR / RESULTS_FILE) or {}
    if len(losses) < 3 or not devs:
        return _row(label, None, "falls", "not measured", f"{len(losses)} losses, {len(devs)} dev scores logged")
    third = max(1, len(losses) // 3)
    first, last = sum(losses[:third]) / third, sum(losses[-third:]) / third
    falls = last < first
    note = (f"loss {first:.4f} -> {last:.4f} (first/last third of {len(losses)} logs); dev {devs[0]:.2f} -> "
            f"{devs[-1]:.2f}, best {max(devs):.2f}")
    if not str(results.get("device", "")).startswith("cuda"):
        return _row(label, last / first, "< 1", "not measured", f"settings differ (device {results.get('device')}): "
                    + note)
    return _row(label, last / first, "< 1", "met" if falls else "missed", note)


def report(out: Path) -> list[dict[str, Any]]:
    return [*train_targets(out), eval_target(out), training_run(out)]


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ("target", "value", "goal", "status", "note")
    body = [(r["target"], "-" if r["value"] is None else f"{r['value']:.3g}", r["goal"], r["status"], r["note"])
            for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(headers[:-1])]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)) + "  note")
    for b in body:
        print("  ".join(c.ljust(w) for c, w in zip(b, widths, strict=False)) + "  " + b[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="the suite's output folder ($OUT)")
    ap.add_argument("--json", default=None, help="also write the rows as JSON here ('-': stdout only)")
    ap.add_argument("--exit-code", action="store_true", help="exit 3 when a target is missed")
    args = ap.parse_args(argv)
    rows = report(args.out)
    if args.json == "-":
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 3 if args.exit_code and any(r["status"] == "missed" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
