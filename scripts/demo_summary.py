"""The end of ``scripts/demo.sh``: the starting encoder and the trained model side by side.

Reads the two ``sncse eval --json`` results and the ``sncse analyze --negation --json`` result, prints
the STS scores of both models task by task with the change, the negation-triplet accuracy and margin
(SICK's human labels: is a sentence closer to one it entails than to a contradicting one that adds a
negation?), and the mean cosine of a sentence and its rule-written negation before and after training
(SNCSE's soft-negative shift), and writes the same as JSON, with the demo's wall time, the machine and
its load average when ``--started`` is given.

    python scripts/demo_summary.py START.json TRAINED.json NEGATION.json --json summary.json \
        [--started UNIX_TIME --load-start "1.0 0.8 0.5" --data "sample PATH" --settings "..."]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def summarize(start: dict[str, Any], trained: dict[str, Any], negation: dict[str, Any] | None) -> dict[str, Any]:
    """Scores of both models per task and on average, triplet accuracy and margin, and the soft-negative
    cosine of each model."""
    tasks = [t for t in start["tasks"] if t in trained["tasks"]]
    rows = {t: {"start": start["tasks"][t]["spearman"], "trained": trained["tasks"][t]["spearman"]} for t in tasks}
    summary: dict[str, Any] = {
        "start_model": start["model"], "trained_model": trained["model"], "tasks": rows,
        "avg": {"start": start["avg"], "trained": trained["avg"]},
        "not_below_start": trained["avg"] >= start["avg"],
    }
    before = (start.get("triplets") or {}).get("tasks", {})
    after = (trained.get("triplets") or {}).get("tasks", {})
    if before and after:
        summary["triplets"] = {t: {"accuracy": {"start": before[t]["accuracy"], "trained": after[t]["accuracy"]},
                                   "margin": {"start": before[t]["margin"], "trained": after[t]["margin"]},
                                   "rows": before[t]["rows"]} for t in before if t in after}
    if negation is not None:
        models = negation["models"]
        summary["soft_negative_mean"] = {"start": models[0]["soft_negative"]["mean"],
                                         "trained": models[-1]["soft_negative"]["mean"],
                                         "pairs": negation.get("pairs")}
    return summary


def render(summary: dict[str, Any]) -> str:
    head = f"{'':32}{'start':>10}{'trained':>10}{'change':>10}"
    lines = [f"start: {summary['start_model']}   trained: {summary['trained_model']}", head]

    def row(label: str, a: float, b: float, digits: int = 2) -> str:
        return f"{label:32}{a:>10.{digits}f}{b:>10.{digits}f}{b - a:>+10.{digits}f}"

    for task, r in summary["tasks"].items():
        lines.append(row(f"{task} (Spearman x100)", r["start"], r["trained"]))
    if len(summary["tasks"]) > 1:
        lines.append(row("average", summary["avg"]["start"], summary["avg"]["trained"]))
    for task, t in summary.get("triplets", {}).items():
        lines.append(row(f"{task} triplets: accuracy (%)", t["accuracy"]["start"], t["accuracy"]["trained"]))
        lines.append(row(f"{task} triplets: margin", t["margin"]["start"], t["margin"]["trained"], digits=4))
    if "soft_negative_mean" in summary:
        s = summary["soft_negative_mean"]
        lines.append(row("cos(sentence, negation)", s["start"], s["trained"], digits=4))
    if "run" in summary:
        r = summary["run"]
        lines.append(f"wall time {r['wall_seconds'] / 60:.1f} min on {r['machine']['cpu_count']} CPU(s), load average "
                     f"{r['load_start']} at the start and {r['load_end']} at the end")
    lines.append("the trained model scores at or above the starting encoder" if summary["not_below_start"] else
                 "WARNING: the trained model scores below the starting encoder")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("start", type=Path, help="sncse eval --json of the starting encoder")
    ap.add_argument("trained", type=Path, help="sncse eval --json of the trained model")
    ap.add_argument("negation", type=Path, nargs="?", help="sncse analyze --negation --json of both")
    ap.add_argument("--json", type=Path, help="also write the summary here")
    ap.add_argument("--started", type=float, help="when the demo started (seconds since the epoch)")
    ap.add_argument("--load-start", help="the load average when it started")
    ap.add_argument("--data", help="the data source and root it used")
    ap.add_argument("--settings", help="the demo's settings, as text")
    args = ap.parse_args(argv)
    read = lambda p: json.loads(p.read_text(encoding="utf-8"))  # noqa: E731
    summary = summarize(read(args.start), read(args.trained), read(args.negation) if args.negation else None)
    if args.started is not None:
        from sncse.runinfo import machine_info

        summary["run"] = {"wall_seconds": round(time.time() - args.started, 1), "machine": machine_info(),
                          "load_start": args.load_start,
                          "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()), "data": args.data,
                          "settings": args.settings}
    print(render(summary))
    if args.json:
        from sncse.io import write_json

        write_json(args.json, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
