"""``sncse analyze --overlap``: STS Spearman by word overlap (``sncse.eval.overlap``) for one or more models.

Each target is either

- a per-pair scores file (``sncse eval --pair-scores``) or a run folder holding one
  (``RUN/eval_test.pair_scores.json.gz``): the cosines are read from it, nothing is encoded, and the
  sentences are read again from the data root to compute the overlaps; or
- anything ``sncse.load`` takes: the requested STS tasks (and a user's ``pairs`` files) are encoded and
  scored here, exactly as ``sncse eval`` scores them.

A run folder is read from its scores file unless ``pairs`` files are given or the file lacks a requested
task, in which case its model is encoded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.pairs import Columns
from ..eval.overlap import OVERLAP_EDGES, TOKENS, bin_labels, scores_breakdown, task_breakdown
from ..eval.pair_scores import read_pair_scores
from ..rundir.files import pair_scores_path

log = logging.getLogger(__name__)


@dataclass
class OverlapReport:
    """Every target's tasks broken down by word overlap."""

    models: list[dict[str, Any]] = field(default_factory=list)
    edges: tuple[float, ...] = OVERLAP_EDGES

    def to_dict(self) -> dict[str, Any]:
        return {"edges": list(self.edges), "bins": bin_labels(self.edges), "tokens": TOKENS, "models": self.models}


def _scores_file(target: str) -> Path | None:
    p = Path(target)
    if p.is_file() and p.name.endswith(".json.gz"):
        return p
    if p.is_dir() and pair_scores_path(p).is_file():
        return pair_scores_path(p)
    return None


def analyze_overlap(targets: Sequence[str], tasks: Sequence[str] | None = None,
                    pairs: Sequence[str | Path] = (), columns: Columns = None, skip_bad_rows: bool = False,
                    root: str | Path | None = None, pooler: str | None = None, device: str = "auto",
                    batch_size: int = 128, show_progress: bool = True,
                    edges: Sequence[float] = OVERLAP_EDGES) -> OverlapReport:
    """The overlap breakdown of every target (see the module docstring). ``tasks``: STS task names
    (default: every task of a scores file, else the 7 STS tasks, or none when ``pairs`` are given)."""
    report = OverlapReport(edges=tuple(edges))
    for target in targets:
        path = _scores_file(target)
        if path is not None and not pairs:
            scores = read_pair_scores(path)
            if tasks is None or all(t in scores.tasks for t in tasks):
                report.models.append({"model": target, "source": f"per-pair scores {path}",
                                      "tasks": scores_breakdown(scores, tasks, root, edges)})
                continue
            log.info("%s lacks some of the tasks asked for: encoding the model", path)
        report.models.append({"model": target, "source": "encoded",
                              "tasks": _encoded(target, tasks, pairs, columns, skip_bad_rows, root, pooler, device,
                                                batch_size, show_progress, edges)})
    return report


def _encoded(model: str, tasks: Sequence[str] | None, pairs: Sequence[str | Path], columns: Columns,
             skip_bad_rows: bool, root: str | Path | None, pooler: str | None, device: str, batch_size: int,
             show_progress: bool, edges: Sequence[float]) -> dict[str, Any]:
    from ..data.tasks import TaskPlan, sts_tasks
    from ..encoders.loading import load
    from ..eval.pairs import load_pair_files
    from ..eval.runner import check_data
    from ..eval.sts import embed_tasks, encoder_embedder, load_tasks, score_task

    names = [] if pairs and tasks is None else sts_tasks(tasks)
    check_data(TaskPlan(sts=names), root=root)
    loaded = load_tasks(names, root=root) + load_pair_files(pairs, columns, skip_bad_rows, reserved=names)
    encoder = load(model, pooler=pooler, device=device)
    lookup = embed_tasks(loaded, encoder_embedder(encoder, batch_size=batch_size, show_progress=show_progress))
    return {t.task: task_breakdown(t, score_task(t, lookup, keep_pairs=True)["pair_scores"]["cosine"], edges)
            for t in loaded}
