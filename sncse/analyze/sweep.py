"""Hyperparameter view of a set of runs (SNCSE, Wang et al., 2022, Figure 3): STS scores against the
BML margins alpha and beta and the BML weight lambda.

Each run contributes its loss's ``alpha``, ``beta`` and ``bml_weight`` (lambda; ``loss.bml.*``) from
``RUN/config.yaml``, its best STS-B dev Spearman (``results.json``, else the best eval record of
``metrics.jsonl``) and, when ``sncse eval RUN`` wrote ``RUN/eval_test.json``, its test average over the
evaluated STS tasks. Runs of losses without the BML term (the loss class's ``has_bml``: InfoNCE, PL, NL,
MixCSE, supervised) are listed without alpha/beta/lambda and left out of the panels; a run whose loss is
not installed here shows what its config holds. In each panel, runs that share the other two values are joined by a line, as in
the paper, where one hyperparameter varies while the others stay at their defaults; runs with no such
partner are grey points.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SncseError
from ..losses.base import registered_loss
from ..rundir.files import CONFIG_FILE
from ..rundir.reader import read_run

log = logging.getLogger(__name__)

#: panel name -> parameter of the run's loss (``loss.<loss>.<parameter>`` in its config.yaml)
PARAMS: dict[str, str] = {"alpha": "alpha", "beta": "beta", "lambda": "bml_weight"}


@dataclass
class SweepRow:
    run: str
    path: str
    loss: str | None
    alpha: float | None
    beta: float | None
    lam: float | None
    dev: float | None
    test: float | None
    test_tasks: int
    steps: int | None

    def param(self, name: str) -> float | None:
        return {"alpha": self.alpha, "beta": self.beta, "lambda": self.lam}[name]

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "path": self.path, "loss": self.loss, "alpha": self.alpha, "beta": self.beta,
                "lambda": self.lam, "dev_stsb": self.dev, "test_avg": self.test, "test_tasks": self.test_tasks,
                "steps": self.steps}


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def collect(run_dirs: Sequence[str | Path]) -> list[SweepRow]:
    """One row per run directory, in the order given (duplicates removed)."""
    if not run_dirs:
        raise SncseError("the sweep needs at least one run directory")
    rows: list[SweepRow] = []
    seen: set[Path] = set()
    for d in run_dirs:
        p = Path(d).resolve()
        if p in seen:
            continue
        seen.add(p)
        rec = read_run(d)
        if not rec.config:
            log.warning("%s: no %s; alpha/beta/lambda unknown", d, CONFIG_FILE)
        loss = rec.get("loss.name")
        cls = registered_loss(str(loss)) if loss else None
        uses_bml = cls.has_bml if cls is not None else True
        values = {k: _float(rec.loss_param(v)) if uses_bml else None for k, v in PARAMS.items()}
        rows.append(SweepRow(
            run=rec.name, path=str(d), loss=loss, alpha=values["alpha"], beta=values["beta"], lam=values["lambda"],
            dev=rec.best_dev, test=rec.test_avg, test_tasks=len(rec.test_scores()), steps=rec.steps))
    return rows


def _others(row: SweepRow, name: str) -> tuple[float | None, ...]:
    return tuple(row.param(p) for p in PARAMS if p != name)


def _label(name: str, key: tuple[float | None, ...]) -> str:
    names = [("λ" if p == "lambda" else ("α" if p == "alpha" else "β")) for p in PARAMS if p != name]
    return ", ".join(f"{n}={'?' if v is None else f'{v:g}'}" for n, v in zip(names, key, strict=True))


def plot_sweep(rows: Sequence[SweepRow], path: str | Path) -> Path:
    """Three panels (alpha, beta, lambda): dev (solid) and test (dashed) score against the value."""
    from .plotting import new_figure, save_png

    if not rows:
        raise SncseError("no runs to plot")
    fig, axes = new_figure(3, width_per_plot=4.2)
    colors = [f"C{i}" for i in range(10)]
    for ax, name in zip(axes, PARAMS, strict=True):
        groups: dict[tuple[float | None, ...], list[SweepRow]] = defaultdict(list)
        for r in rows:
            if r.param(name) is not None and (r.dev is not None or r.test is not None):
                groups[_others(r, name)].append(r)
        lines = [(k, m) for k, m in sorted(groups.items(), key=lambda kv: -len(kv[1])) if len(m) >= 2]
        singles = [m[0] for m in groups.values() if len(m) == 1]
        for gi, (key, members) in enumerate(lines):
            members.sort(key=lambda r: r.param(name) or 0.0)
            xs = [r.param(name) for r in members]
            color = colors[gi % len(colors)]
            dev = [(x, r.dev) for x, r in zip(xs, members, strict=True) if r.dev is not None]
            test = [(x, r.test) for x, r in zip(xs, members, strict=True) if r.test is not None]
            label = _label(name, key)
            if dev:
                ax.plot(*zip(*dev, strict=True), marker="o", color=color, label=f"dev ({label})")
            if test:
                ax.plot(*zip(*test, strict=True), marker="s", linestyle="--", color=color, label=f"test ({label})")
        # runs that vary another value: grey points, one legend entry
        label = "other runs (another value varies)"
        for marker, attr in (("o", "dev"), ("s", "test")):
            pts = [(r.param(name), getattr(r, attr)) for r in singles if getattr(r, attr) is not None]
            if pts:
                ax.scatter(*zip(*pts, strict=True), marker=marker, color="0.6", s=18, zorder=1, label=label)
                label = None
        values = [r.param(name) for r in rows if r.param(name) is not None]
        positive = [v for v in values if v and v > 0]
        if positive and len(positive) == len(values) and max(positive) / min(positive) >= 10:
            ax.set_xscale("log")
        ax.set_xlabel({"lambda": "λ (BML weight)", "alpha": "α (BML lower margin)",
                       "beta": "β (BML upper margin)"}[name])
        ax.set_ylabel("Spearman x100")
        ax.grid(alpha=0.3)
        if groups:
            ax.legend(fontsize=6)
        else:
            ax.text(0.5, 0.5, "no scored runs", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(f"STS-B dev (solid) and STS test avg. (dashed) of {len(rows)} run(s)", fontsize=10)
    return save_png(fig, path)


def fmt_value(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:g}"
