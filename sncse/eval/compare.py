"""Is system A better than system B on the STS test sets, or is the difference chance? A paired bootstrap.

The papers compare 7-task averages that differ by tenths of a point. Whether such a difference is
larger than what the choice of test pairs alone produces is answered by resampling the test pairs
(the paired bootstrap of Efron & Tibshirani, 1993; Koehn, 2004 for MT; Berg-Kirkpatrick et al., 2012):

    for b = 1..B:
        in every task, draw its pairs with replacement, within each subset (the same counts as the
        test set: STS12-16 are fixed unions of subsets), the SAME draw for every run of both systems;
        for every run r: s_r(task) = Spearman x100 of its cosines against the gold on the drawn pairs
        (the "all" aggregation: drawn subsets concatenated, ties by average rank, as scipy and SentEval)
        A_b = mean over tasks of (mean over A's runs of s_r(task)); B_b likewise
        d_b = A_b - B_b
    point estimate d = the same formula on the test set as it is; interval = the (1 - c)/2 and
    (1 + c)/2 percentiles of d_b (c = 0.95); "established" = the interval excludes 0.

With several runs per system (seeds), each resample averages the *runs' scores*, it does not score
the average of the runs' cosines. Why: the point estimate is then exactly the difference of the
averages a results table reports (mean over seeds of each seed's 7-task average), and each run is
the model that was evaluated; averaging cosines would score an ensemble of the seeds, a different
model whose score is usually above the mean of its members. The interval is therefore conditional
on the trained runs: it measures how much the finite test sets move the difference, while how much
retraining with another seed moves it is what the standard deviation over seeds reports (three seeds
are too few to resample).

:func:`paired_bootstrap` takes :class:`~sncse.eval.pair_scores.PairScores`; :func:`compare_runs` reads
them from run folders (``RUN/eval_test.pair_scores.json.gz``, written by ``sncse eval RUN
--pair-scores ...``) or files. ``sncse analyze --compare A... --against B...`` calls it.

Two more tests use the same draws-shared-by-every-run design:

- :func:`compare_triplets`: triplet accuracy and margin (``sncse.eval.triplets``). Each resample draws
  the triplet rows with replacement (one draw for every run), recomputes every run's accuracy (x100)
  and mean margin on the drawn rows, averages each system's runs, and takes A - B.
- :func:`compare_overlap`: Spearman within each word-overlap bin (``sncse.eval.overlap``): every run's
  pairs of a task are split by the bins (:func:`~sncse.eval.overlap.split_by_overlap`) and each bin is
  tested as a task of its own, drawn within subsets as above.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from ..data.tasks import STS_TASKS
from ..errors import SncseError
from ..rundir.files import PAIR_SCORES_SUFFIX
from .overlap import OVERLAP_EDGES, bin_labels, overlap_task, split_by_overlap
from .pair_scores import PairScores, TaskPairs, TripletRows, read_run_scores
from .triplets import accuracy

log = logging.getLogger(__name__)

# resampled values held at once per array (rows x pairs); bounds the memory at ~16 MB an array
CHUNK_VALUES = 2_000_000


def _centered_ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks of every row of ``x`` (ties share their mean rank), minus the row's mean rank."""
    r = rankdata(x, axis=1)
    r -= r.mean(axis=1, keepdims=True)
    return r


def _rank_corr(rg: np.ndarray, rc: np.ndarray) -> np.ndarray:
    den = np.sqrt((rg * rg).sum(axis=1) * (rc * rc).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * (rg * rc).sum(axis=1) / den


def rank_spearman(gold: np.ndarray, cosine: np.ndarray) -> np.ndarray:
    """Spearman x100 of every row of ``cosine`` against the same row of ``gold`` (both (R, n)):
    Pearson correlation of the average ranks, i.e. ``scipy.stats.spearmanr`` row by row.
    A row with a constant side gives NaN."""
    return _rank_corr(_centered_ranks(gold), _centered_ranks(cosine))


def draw_pairs(rng: np.random.Generator, slices: Sequence[slice], rows: int) -> np.ndarray:
    """``rows`` bootstrap draws of a task's pairs, (rows, n) indices: each subset's pairs drawn with
    replacement from that subset only, so every draw keeps the test set's subset sizes."""
    return np.concatenate([rng.integers(s.start, s.stop, size=(rows, s.stop - s.start))
                           for s in slices if s.stop > s.start], axis=1)


@dataclass
class Interval:
    """A point estimate with its bootstrap percentile interval."""

    estimate: float
    low: float
    high: float

    @property
    def established(self) -> bool:
        """The interval excludes 0: the sign of the difference does not depend on the test-pair draw."""
        return bool(self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": _finite(self.estimate), "low": _finite(self.low), "high": _finite(self.high),
                "established": self.established}


def _finite(value: float) -> float | None:
    """NaN (a score undefined on too few pairs) as None, so that the JSON stays standard."""
    return None if np.isnan(value) else value


@dataclass
class Comparison:
    """The result of :func:`paired_bootstrap`: system A minus system B, per task and on the average."""

    names: tuple[str, str]
    tasks: list[str]
    runs: tuple[list[str], list[str]]
    scores: dict[str, dict[str, float]]  # "a"/"b" -> task (and "avg") -> mean over the system's runs
    diff: dict[str, Interval]  # task (and "avg") -> A - B
    resamples: int
    confidence: float
    seed: int
    p_value: float  # two-sided, of the average's difference: 2 x the share of resamples on the other side of 0
    pairs: dict[str, int] = field(default_factory=dict)

    @property
    def avg(self) -> Interval:
        return self.diff["avg"]

    def verdict(self) -> str:
        """One sentence: which system is better on the average, and whether that is established."""
        a, b = self.names
        d = self.avg
        pct = f"{100 * self.confidence:g}%"
        if not d.established:
            return (f"{a} - {b} = {d.estimate:+.2f} (avg. of {len(self.tasks)} tasks), {pct} interval "
                    f"[{d.low:+.2f}, {d.high:+.2f}] contains 0: not established")
        better, worse = (a, b) if d.estimate > 0 else (b, a)
        return (f"{a} - {b} = {d.estimate:+.2f} (avg. of {len(self.tasks)} tasks), {pct} interval "
                f"[{d.low:+.2f}, {d.high:+.2f}]: {better} is better than {worse} (established)")

    def to_dict(self) -> dict[str, Any]:
        scores = {k: {t: _finite(v) for t, v in self.scores[k].items()} for k in ("a", "b")}
        return {"a": {"name": self.names[0], "runs": self.runs[0], "scores": scores["a"]},
                "b": {"name": self.names[1], "runs": self.runs[1], "scores": scores["b"]},
                "tasks": self.tasks, "pairs": self.pairs,
                "diff": {k: v.to_dict() for k, v in self.diff.items()},
                "established": self.avg.established, "p_value": self.p_value, "verdict": self.verdict(),
                "method": "paired bootstrap over test pairs (within subsets), seeds' scores averaged per resample",
                "resamples": self.resamples, "confidence": self.confidence, "seed": self.seed}


def _check_paired(task: str, runs: Sequence[TaskPairs], labels: Sequence[str]) -> None:
    ref, ref_label = runs[0], labels[0]
    for p, label in zip(runs[1:], labels[1:], strict=True):
        if p.subsets != ref.subsets or not np.array_equal(p.gold, ref.gold):
            raise SncseError(f"{task}: {label} and {ref_label} were not scored on the same test pairs "
                             f"({p.pairs} vs {ref.pairs} pairs, or other gold scores); a paired test needs "
                             "the same pairs (same data, same limit)")


def _label(scores: PairScores, i: int) -> str:
    return str(scores.path) if scores.path is not None else (scores.model or f"run {i + 1}")


def _check_args(resamples: int, confidence: float) -> None:
    if resamples < 1:
        raise SncseError(f"the number of resamples must be at least 1, got {resamples}", setting="resamples")
    if not 0 < confidence < 1:
        raise SncseError(f"the confidence must lie between 0 and 1, got {confidence}", setting="confidence")


def shared_tasks(runs: Sequence[PairScores], tasks: Sequence[str] | None = None) -> list[str]:
    """``tasks`` (each must be in every run), or every task all runs hold, in the papers' order."""
    labels = [_label(s, i) for i, s in enumerate(runs)]
    common = set.intersection(*(set(s.tasks) for s in runs)) if runs else set()
    if tasks is None:
        order = [t for t in STS_TASKS if t in common] + sorted(common - set(STS_TASKS))
        if any(set(s.tasks) != common for s in runs):
            log.warning("the runs were scored on different tasks; comparing on the %d they share: %s",
                        len(order), ", ".join(order))
    else:
        order = list(tasks)
        missing = [(t, lab) for t in order for s, lab in zip(runs, labels, strict=True) if t not in s.tasks]
        if missing:
            t, lab = missing[0]
            raise SncseError(f"{lab} holds no per-pair scores for task {t}", setting="tasks")
    if not order:
        raise SncseError("the runs share no task to compare on")
    return order


def resampled_scores(runs: Sequence[PairScores], tasks: Sequence[str], resamples: int = 1000,
                     seed: int = 0) -> np.ndarray:
    """Spearman x100 of every run on every task, on the test set as it is (``[..., 0]``) and on each of
    ``resamples`` bootstrap draws of its pairs (``[..., 1:]``): shape (runs, tasks, resamples + 1).

    The draws depend on ``seed`` and the tasks' subset sizes only, so every run sees the same draws
    (the test is paired) and runs scored in separate calls with the same seed see them too."""
    labels = [_label(s, i) for i, s in enumerate(runs)]
    rng = np.random.default_rng(seed)
    out = np.empty((len(runs), len(tasks), resamples + 1))
    for ti, task in enumerate(tasks):
        tp = [s.tasks[task] for s in runs]
        _check_paired(task, tp, labels)
        gold = tp[0].gold
        cos = np.stack([p.cosine for p in tp])
        out[:, ti, 0] = rank_spearman(np.broadcast_to(gold, cos.shape), cos)
        slices = tp[0].subset_slices()
        chunk = max(1, CHUNK_VALUES // max(len(gold), 1))
        for start in range(0, resamples, chunk):
            rows = min(chunk, resamples - start)
            idx = draw_pairs(rng, slices, rows)
            rg = _centered_ranks(gold[idx])  # the gold side is shared by every run
            for r in range(len(runs)):
                out[r, ti, 1 + start:1 + start + rows] = _rank_corr(rg, _centered_ranks(cos[r][idx]))
    return out


def interval(values: np.ndarray, confidence: float) -> Interval:
    """``values[0]`` (the estimate on the test set as it is) with the percentile interval of ``values[1:]``
    (the resamples; non-finite ones dropped)."""
    boot = values[1:]
    boot = boot[np.isfinite(boot)]
    if len(boot) == 0:
        return Interval(float(values[0]), float("nan"), float("nan"))
    lo, hi = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(float(values[0]), float(lo), float(hi))


def p_value(values: np.ndarray) -> float:
    """Two-sided bootstrap p-value of ``values[0]`` (see :class:`Comparison`)."""
    boot = values[1:]
    other_side = (boot <= 0).sum() if values[0] > 0 else (boot >= 0).sum()
    return float(min(1.0, 2 * (other_side + 1) / (len(boot) + 1)))


def comparison(scores_a: np.ndarray, scores_b: np.ndarray, tasks: Sequence[str], *, names: tuple[str, str],
               runs: tuple[list[str], list[str]], pairs: dict[str, int], resamples: int, confidence: float,
               seed: int) -> Comparison:
    """A minus B from :func:`resampled_scores` of A's runs and of B's runs (same tasks, seed, draws)."""
    sys_a = scores_a.mean(axis=0)  # (tasks, resamples + 1): the runs' scores averaged per draw
    sys_b = scores_b.mean(axis=0)
    diff_tasks = sys_a - sys_b
    diff_avg = diff_tasks.mean(axis=0)
    diff = {t: interval(diff_tasks[i], confidence) for i, t in enumerate(tasks)}
    diff["avg"] = interval(diff_avg, confidence)
    means = {k: {**{t: float(m[i, 0]) for i, t in enumerate(tasks)}, "avg": float(m[:, 0].mean())}
             for k, m in (("a", sys_a), ("b", sys_b))}
    return Comparison(names=names, tasks=list(tasks), runs=runs, scores=means, diff=diff, resamples=resamples,
                      confidence=confidence, seed=seed, p_value=p_value(diff_avg), pairs=dict(pairs))


def paired_bootstrap(a: Sequence[PairScores], b: Sequence[PairScores], *, names: tuple[str, str] = ("A", "B"),
                     tasks: Sequence[str] | None = None, resamples: int = 1000, confidence: float = 0.95,
                     seed: int = 0) -> Comparison:
    """System A (runs ``a``, e.g. its seeds) minus system B (runs ``b``) on the average of ``tasks``.

    ``tasks``: default every task all runs were scored on, in the papers' order. All runs must hold
    the same pairs of each task. The draws depend only on ``seed``, so the result is reproducible.
    """
    if not a or not b:
        raise SncseError("a comparison needs at least one run of each system")
    _check_args(resamples, confidence)
    runs = [*a, *b]
    order = shared_tasks(runs, tasks)
    scores = resampled_scores(runs, order, resamples, seed)
    labels = [_label(s, i) for i, s in enumerate(runs)]
    na = len(a)
    return comparison(scores[:na], scores[na:], order, names=names, runs=(labels[:na], labels[na:]),
                      pairs={t: runs[0].tasks[t].pairs for t in order}, resamples=resamples,
                      confidence=confidence, seed=seed)


def compare_systems(systems: dict[str, Sequence[PairScores]], pairs: Sequence[tuple[str, str]], *,
                    tasks: Sequence[str] | None = None, resamples: int = 1000, confidence: float = 0.95,
                    seed: int = 0) -> list[Comparison]:
    """Several comparisons among named systems at the cost of one: every run is resampled once (the
    draws are shared), then each ``(a, b)`` of ``pairs`` is :func:`comparison` of its slices. Each
    result equals ``paired_bootstrap(systems[a], systems[b], ...)`` with the same arguments."""
    _check_args(resamples, confidence)
    _, runs, where = _system_runs(systems, pairs)
    order = shared_tasks(runs, tasks)
    scores = resampled_scores(runs, order, resamples, seed)
    labels = [_label(s, i) for i, s in enumerate(runs)]
    sizes = {t: runs[0].tasks[t].pairs for t in order}
    return [comparison(scores[where[a]], scores[where[b]], order, names=(a, b),
                       runs=(labels[where[a]], labels[where[b]]), pairs=sizes, resamples=resamples,
                       confidence=confidence, seed=seed) for a, b in pairs]


def _system_runs(systems: dict[str, Sequence[PairScores]], pairs: Sequence[tuple[str, str]]
                 ) -> tuple[list[str], list[PairScores], dict[str, slice]]:
    """The systems named in ``pairs`` (first-seen order), their runs in one list, and each one's slice of it."""
    names = list(dict.fromkeys(n for pair in pairs for n in pair))
    unknown = [n for n in names if not systems.get(n)]
    if unknown:
        raise SncseError(f"no runs for system {unknown[0]!r}")
    runs = [r for n in names for r in systems[n]]
    where, start = {}, 0
    for n in names:
        where[n] = slice(start, start + len(systems[n]))
        start += len(systems[n])
    return names, runs, where


def compare_overlap(systems: dict[str, Sequence[PairScores]], pairs: Sequence[tuple[str, str]], *,
                    tasks: Sequence[str] = ("stsb", "sickr"), root: str | Path | None = None,
                    edges: Sequence[float] = OVERLAP_EDGES, resamples: int = 1000, confidence: float = 0.95,
                    seed: int = 0) -> list[Comparison]:
    """:func:`compare_systems` within the word-overlap bins of ``tasks``: each result's tasks are the bins
    (``stsb@>=0.7``, ...; its ``avg`` is their unweighted mean, of little use). The sentences are read from
    the data root (``root``) to compute the overlaps."""
    names, _, _ = _system_runs(systems, pairs)
    split = {n: [split_by_overlap(s, tasks, root, edges) for s in systems[n]] for n in names}
    runs = [r for n in names for r in split[n]]
    every_bin = [overlap_task(t, label) for t in tasks for label in bin_labels(edges)]
    bins = [b for b in every_bin if all(b in r.tasks for r in runs)]
    return compare_systems(split, pairs, tasks=bins, resamples=resamples, confidence=confidence, seed=seed)


@dataclass
class TripletComparison:
    """System A minus system B on one triplet set: accuracy (x100) and mean margin, with intervals."""

    names: tuple[str, str]
    task: str
    runs: tuple[list[str], list[str]]
    rows: int
    scores: dict[str, dict[str, float]]  # "a"/"b" -> "accuracy"/"margin" -> mean over the system's runs
    diff: dict[str, Interval]  # "accuracy"/"margin" -> A - B
    resamples: int
    confidence: float
    seed: int
    p_value: float  # of the accuracy difference

    def verdict(self) -> str:
        a, b = self.names
        d = self.diff["accuracy"]
        head = (f"{a} - {b} = {d.estimate:+.2f} points of {self.task} accuracy, {100 * self.confidence:g}% interval "
                f"[{d.low:+.2f}, {d.high:+.2f}]")
        if not d.established:
            return head + " contains 0: not established"
        better, worse = (a, b) if d.estimate > 0 else (b, a)
        return head + f": {better} is more accurate than {worse} (established)"

    def to_dict(self) -> dict[str, Any]:
        return {"a": {"name": self.names[0], "runs": self.runs[0], "scores": self.scores["a"]},
                "b": {"name": self.names[1], "runs": self.runs[1], "scores": self.scores["b"]},
                "task": self.task, "rows": self.rows, "diff": {k: v.to_dict() for k, v in self.diff.items()},
                "established": self.diff["accuracy"].established, "p_value": self.p_value,
                "verdict": self.verdict(),
                "method": "paired bootstrap over triplet rows, seeds' scores averaged per resample",
                "resamples": self.resamples, "confidence": self.confidence, "seed": self.seed}


def resampled_triplets(runs: Sequence[TripletRows], resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """Accuracy x100 (``[:, 0]``) and mean margin (``[:, 1]``) of every run on its rows as they are
    (``[..., 0]``) and on each of ``resamples`` draws of the rows with replacement, the same draws for
    every run: shape (runs, 2, resamples + 1). All runs must hold the same number of rows."""
    sizes = {r.rows for r in runs}
    if len(sizes) != 1:
        raise SncseError(f"the runs were scored on different triplet sets ({', '.join(map(str, sorted(sizes)))} "
                         "rows); a paired test needs the same rows")
    (n,) = sizes
    rng = np.random.default_rng(seed)
    correct = np.stack([r.cos_pos > r.cos_neg for r in runs]).astype(np.float64)
    margin = np.stack([r.cos_pos - r.cos_neg for r in runs])
    out = np.empty((len(runs), 2, resamples + 1))
    out[:, 0, 0] = [accuracy(r.cos_pos, r.cos_neg) for r in runs]
    out[:, 1, 0] = margin.mean(axis=1)
    chunk = max(1, CHUNK_VALUES // max(n, 1))
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        idx = rng.integers(0, n, size=(rows, n))
        for r in range(len(runs)):
            out[r, 0, 1 + start:1 + start + rows] = 100.0 * correct[r][idx].mean(axis=1)
            out[r, 1, 1 + start:1 + start + rows] = margin[r][idx].mean(axis=1)
    return out


def compare_triplets(systems: dict[str, Sequence[PairScores]], pairs: Sequence[tuple[str, str]], *,
                     task: str = "negation", resamples: int = 1000, confidence: float = 0.95,
                     seed: int = 0) -> list[TripletComparison]:
    """Each ``(a, b)`` of ``pairs``: system a minus system b on the triplet set ``task`` (every run must hold
    its rows, ``PairScores.triplets``), accuracy and margin, by a paired bootstrap over the rows."""
    _check_args(resamples, confidence)
    _, runs, where = _system_runs(systems, pairs)
    labels = [_label(s, i) for i, s in enumerate(runs)]
    lacking = [lab for s, lab in zip(runs, labels, strict=True) if task not in s.triplets]
    if lacking:
        raise SncseError(f"{lacking[0]} holds no per-row scores for the triplet set {task!r}", setting="tasks")
    scores = resampled_triplets([s.triplets[task] for s in runs], resamples, seed)
    out = []
    for a, b in pairs:
        sys_a, sys_b = scores[where[a]].mean(axis=0), scores[where[b]].mean(axis=0)  # (2, resamples + 1)
        d = sys_a - sys_b
        out.append(TripletComparison(
            names=(a, b), task=task, runs=(labels[where[a]], labels[where[b]]), rows=runs[0].triplets[task].rows,
            scores={k: {"accuracy": float(m[0, 0]), "margin": float(m[1, 0])} for k, m in (("a", sys_a), ("b", sys_b))},
            diff={"accuracy": interval(d[0], confidence), "margin": interval(d[1], confidence)},
            resamples=resamples, confidence=confidence, seed=seed, p_value=p_value(d[0])))
    return out


def compare_runs(a: Sequence[str | Path], b: Sequence[str | Path], *, names: tuple[str, str] | None = None,
                 mode: str = "test", **kwargs: Any) -> Comparison:
    """:func:`paired_bootstrap` of run folders or per-pair score files (``find_pair_scores``)."""
    sa = [read_run_scores(t, mode) for t in a]
    sb = [read_run_scores(t, mode) for t in b]
    if names is None:
        names = (_common_name(a), _common_name(b))
    return paired_bootstrap(sa, sb, names=names, **kwargs)


def compare_folders(a: Sequence[str | Path], b: Sequence[str | Path], *, tasks: Sequence[str] | None = None,
                    overlap: bool = False, root: str | Path | None = None, mode: str = "test",
                    resamples: int = 1000, confidence: float = 0.95,
                    seed: int = 0) -> tuple[Comparison, list[TripletComparison]]:
    """What ``sncse analyze --compare A --against B`` reports: :func:`compare_runs` (or, with ``overlap``,
    :func:`compare_overlap` on ``tasks``, default STS-B and SICK-R), and :func:`compare_triplets` on every
    triplet set all the runs hold (:func:`~sncse.eval.pair_scores.read_run_scores`)."""
    sa = [read_run_scores(t, mode) for t in a]
    sb = [read_run_scores(t, mode) for t in b]
    names = (_common_name(a), _common_name(b))
    if names[0] == names[1]:
        names = (names[0] + " (A)", names[1] + " (B)")
    systems = {names[0]: sa, names[1]: sb}
    kwargs: dict[str, Any] = {"resamples": resamples, "confidence": confidence, "seed": seed}
    if overlap:
        cmp = compare_overlap(systems, [names], tasks=tasks or ("stsb", "sickr"), root=root, **kwargs)[0]
    else:
        cmp = paired_bootstrap(sa, sb, names=names, tasks=tasks, **kwargs)
    shared = sorted(set.intersection(*(set(r.triplets) for r in sa + sb)))
    return cmp, [compare_triplets(systems, [names], task=t, **kwargs)[0] for t in shared]


def _common_name(targets: Sequence[str | Path]) -> str:
    """A display name for a system's runs: the folder name, or the runs' common prefix (``bml-mean-s``)."""
    import os
    import re

    names = [Path(t).name.removesuffix(PAIR_SCORES_SUFFIX) for t in targets]
    if len(names) == 1:
        return names[0]
    return re.sub(r"-s\d*$", "", os.path.commonprefix(names)).rstrip("-_") or names[0]
