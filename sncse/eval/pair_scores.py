"""Per-pair scores of an evaluation: the cosine and the gold score of every STS test pair, and the two
cosines of every triplet row.

A task's Spearman says how well a system ranks the pairs; whether system A ranks them better than
system B *on this test set by more than chance* needs the pairs themselves (a paired test,
:mod:`sncse.eval.compare`). ``sncse eval MODEL --pair-scores FILE`` keeps them: the arrays come from
the same :func:`sncse.eval.sts.score_task` call that computes the task's reported Spearman, so
recomputing Spearman from the file gives the reported number.

File (gzip-compressed JSON, ``SCHEMA`` 1)::

    {"schema": 1, "kind": "sncse-pair-scores", "model": "...", "pooler": "mean", "mode": "test",
     "limit": null, "cosine_decimals": 6,
     "tasks": {"sts12": {"split": "test", "subsets": {"MSRpar": 750, ...},   # pair counts, file order
                         "gold": [...], "cosine": [...]},                   # subsets concatenated
               ...},
     "triplets": {"negation": {"cos_pos": [...], "cos_neg": [...]}, ...}}   # only when triplets were scored

``tasks`` is empty for an evaluation of triplets alone (a run's ``eval_triplets.pair_scores.json.gz``,
:func:`read_run_scores` adds it to the run's STS scores).

About 150 KB for the 18,850 pairs of the 7 STS test sets. A run's file is
``RUN/eval_<mode>.pair_scores.json.gz`` (:func:`sncse.rundir.files.pair_scores_path`).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, SncseError
from ..io import atomic_write
from ..rundir.files import TRIPLETS_MODE, pair_scores_path

SCHEMA = 1
KIND = "sncse-pair-scores"


@dataclass
class TaskPairs:
    """One task's pairs: gold scores and system cosines, subsets concatenated in file order."""

    task: str
    gold: np.ndarray
    cosine: np.ndarray
    subsets: dict[str, int] = field(default_factory=dict)
    split: str = "test"

    def __post_init__(self) -> None:
        self.gold = np.asarray(self.gold, dtype=np.float64)
        self.cosine = np.asarray(self.cosine, dtype=np.float64)
        if self.gold.shape != self.cosine.shape or self.gold.ndim != 1:
            raise SncseError(f"{self.task}: {len(self.gold)} gold scores but {len(self.cosine)} cosines")
        if not self.subsets:
            self.subsets = {self.task: len(self.gold)}
        if sum(self.subsets.values()) != len(self.gold):
            raise SncseError(f"{self.task}: subset sizes add up to {sum(self.subsets.values())}, "
                             f"not to the {len(self.gold)} pairs")

    @property
    def pairs(self) -> int:
        return len(self.gold)

    def subset_slices(self) -> list[slice]:
        """Where each subset's pairs lie in ``gold``/``cosine``."""
        out, start = [], 0
        for n in self.subsets.values():
            out.append(slice(start, start + n))
            start += n
        return out


@dataclass
class TripletRows:
    """One triplet set's rows: cos(anchor, positive) and cos(anchor, negative), in row order."""

    task: str
    cos_pos: np.ndarray
    cos_neg: np.ndarray

    def __post_init__(self) -> None:
        self.cos_pos = np.asarray(self.cos_pos, dtype=np.float64)
        self.cos_neg = np.asarray(self.cos_neg, dtype=np.float64)
        if self.cos_pos.shape != self.cos_neg.shape or self.cos_pos.ndim != 1:
            raise SncseError(f"{self.task}: {len(self.cos_pos)} positive but {len(self.cos_neg)} negative cosines")

    @property
    def rows(self) -> int:
        return len(self.cos_pos)


@dataclass
class PairScores:
    """One evaluation's per-pair scores: ``tasks[name]`` -> :class:`TaskPairs`, ``triplets[name]`` ->
    :class:`TripletRows`."""

    tasks: dict[str, TaskPairs]
    model: str | None = None
    pooler: str | None = None
    mode: str = "test"
    limit: int | None = None
    path: Path | None = None
    triplets: dict[str, TripletRows] = field(default_factory=dict)

    @classmethod
    def from_sts(cls, sts: dict[str, Any] | None, model: str | None = None, pooler: str | None = None,
                 triplets: dict[str, Any] | None = None) -> PairScores:
        """From :func:`sncse.eval.sts.evaluate_sts` run with ``keep_pairs=True`` and/or
        :func:`sncse.eval.triplets.evaluate_triplets` run with ``keep_rows=True``."""
        tasks = {}
        for name, r in (sts or {}).get("tasks", {}).items():
            if "pair_scores" not in r:
                raise SncseError(f"{name}: the evaluation kept no per-pair scores (keep_pairs)")
            p = r["pair_scores"]
            tasks[name] = TaskPairs(name, p["gold"], p["cosine"], {k: v["pairs"] for k, v in r["subsets"].items()},
                                    r.get("split", "test"))
        rows = {}
        for name, r in (triplets or {}).get("tasks", {}).items():
            if "row_scores" not in r:
                raise SncseError(f"{name}: the evaluation kept no per-row scores (keep_rows)")
            rows[name] = TripletRows(name, r["row_scores"]["cos_pos"], r["row_scores"]["cos_neg"])
        sts = sts or {}
        return cls(tasks, model=model, pooler=pooler, mode=sts.get("mode", "test"), limit=sts.get("limit"),
                   triplets=rows)

    def to_dict(self) -> dict[str, Any]:
        from .sts import COSINE_DECIMALS

        out = {"schema": SCHEMA, "kind": KIND, "model": self.model, "pooler": self.pooler, "mode": self.mode,
               "limit": self.limit, "cosine_decimals": COSINE_DECIMALS,
               "tasks": {t: {"split": p.split, "subsets": p.subsets, "gold": p.gold.tolist(),
                             "cosine": p.cosine.tolist()} for t, p in self.tasks.items()}}
        if self.triplets:
            out["triplets"] = {t: {"cos_pos": r.cos_pos.tolist(), "cos_neg": r.cos_neg.tolist()}
                               for t, r in self.triplets.items()}
        return out


def write_pair_scores(path: str | Path, scores: PairScores) -> Path:
    """Write ``scores`` atomically as gzip JSON (creating the parent folder); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(scores.to_dict(), separators=(",", ":")).encode("utf-8")
    with atomic_write(path, mode="wb", encoding=None) as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(data)
    return path


def read_pair_scores(path: str | Path) -> PairScores:
    """Read a file written by :func:`write_pair_scores`; a malformed one is a DataError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path=path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            obj = json.load(fh)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"not a gzip JSON file of per-pair scores ({exc})", path=path) from None
    if not isinstance(obj, dict) or obj.get("kind") != KIND:
        raise DataError(f"not a per-pair scores file (expected \"kind\": \"{KIND}\")", path=path)
    if obj.get("schema") != SCHEMA:
        raise DataError(f"per-pair scores schema {obj.get('schema')!r}, this version reads {SCHEMA}", path=path)
    try:
        tasks = {t: TaskPairs(t, v["gold"], v["cosine"], dict(v.get("subsets") or {}), v.get("split", "test"))
                 for t, v in obj["tasks"].items()}
        triplets = {t: TripletRows(t, v["cos_pos"], v["cos_neg"]) for t, v in (obj.get("triplets") or {}).items()}
    except (KeyError, TypeError, ValueError, AttributeError, SncseError) as exc:
        raise DataError(f"malformed task entry ({exc})", path=path) from None
    return PairScores(tasks, model=obj.get("model"), pooler=obj.get("pooler"), mode=obj.get("mode", "test"),
                      limit=obj.get("limit"), path=path, triplets=triplets)


def find_pair_scores(target: str | Path, mode: str = "test") -> Path:
    """The per-pair scores file of ``target``: the file itself, or a run folder's
    ``eval_<mode>.pair_scores.json.gz``."""
    p = Path(target)
    if p.is_dir():
        f = pair_scores_path(p, mode)
        if not f.is_file():
            raise SncseError(f"no {f.name} in this folder: its evaluation kept no per-pair scores",
                             path=p, setting="pair_scores")
        return f
    if not p.is_file():
        raise DataError("no such file or run folder", path=p)
    return p


def read_run_scores(target: str | Path, mode: str = "test") -> PairScores:
    """:func:`read_pair_scores` of :func:`find_pair_scores`; for a run folder, with the triplet rows of its
    ``eval_triplets.pair_scores.json.gz`` added when it has one (``sncse eval RUN --tasks negation``)."""
    scores = read_pair_scores(find_pair_scores(target, mode))
    extra = pair_scores_path(target, TRIPLETS_MODE)
    if Path(target).is_dir() and extra.is_file():
        for name, rows in read_pair_scores(extra).triplets.items():
            scores.triplets.setdefault(name, rows)
    return scores
