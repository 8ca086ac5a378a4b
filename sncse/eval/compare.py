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
from .pair_scores import PairScores, TaskPairs, find_pair_scores, read_pair_scores

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
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "established": self.established}


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
        return {"a": {"name": self.names[0], "runs": self.runs[0], "scores": self.scores["a"]},
                "b": {"name": self.names[1], "runs": self.runs[1], "scores": self.scores["b"]},
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


def comparison(scores_a: np.ndarray, scores_b: np.ndarray, tasks: Sequence[str], *, names: tuple[str, str],
               runs: tuple[list[str], list[str]], pairs: dict[str, int], resamples: int, confidence: float,
               seed: int) -> Comparison:
    """A minus B from :func:`resampled_scores` of A's runs and of B's runs (same tasks, seed, draws)."""
    sys_a = scores_a.mean(axis=0)  # (tasks, resamples + 1): the runs' scores averaged per draw
    sys_b = scores_b.mean(axis=0)
    diff_tasks = sys_a - sys_b
    diff_avg = diff_tasks.mean(axis=0)
    lo_q, hi_q = (1 - confidence) / 2, (1 + confidence) / 2

    def interval(values: np.ndarray) -> Interval:
        boot = values[1:]
        boot = boot[np.isfinite(boot)]
        if len(boot) == 0:
            return Interval(float(values[0]), float("nan"), float("nan"))
        lo, hi = np.quantile(boot, [lo_q, hi_q])
        return Interval(float(values[0]), float(lo), float(hi))

    diff = {t: interval(diff_tasks[i]) for i, t in enumerate(tasks)}
    diff["avg"] = interval(diff_avg)
    boot = diff_avg[1:]
    other_side = (boot <= 0).sum() if diff_avg[0] > 0 else (boot >= 0).sum()
    p_value = float(min(1.0, 2 * (other_side + 1) / (resamples + 1)))
    means = {k: {**{t: float(m[i, 0]) for i, t in enumerate(tasks)}, "avg": float(m[:, 0].mean())}
             for k, m in (("a", sys_a), ("b", sys_b))}
    return Comparison(names=names, tasks=list(tasks), runs=runs, scores=means, diff=diff, resamples=resamples,
                      confidence=confidence, seed=seed, p_value=p_value, pairs=dict(pairs))


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
    names = list(dict.fromkeys(n for pair in pairs for n in pair))
    unknown = [n for n in names if not systems.get(n)]
    if unknown:
        raise SncseError(f"no runs for system {unknown[0]!r}")
    runs = [r for n in names for r in systems[n]]
    order = shared_tasks(runs, tasks)
    scores = resampled_scores(runs, order, resamples, seed)
    labels = [_label(s, i) for i, s in enumerate(runs)]
    where, start = {}, 0
    for n in names:
        where[n] = slice(start, start + len(systems[n]))
        start += len(systems[n])
    sizes = {t: runs[0].tasks[t].pairs for t in order}
    return [comparison(scores[where[a]], scores[where[b]], order, names=(a, b),
                       runs=(labels[where[a]], labels[where[b]]), pairs=sizes, resamples=resamples,
                       confidence=confidence, seed=seed) for a, b in pairs]


def compare_runs(a: Sequence[str | Path], b: Sequence[str | Path], *, names: tuple[str, str] | None = None,
                 mode: str = "test", **kwargs: Any) -> Comparison:
    """:func:`paired_bootstrap` of run folders or per-pair score files (``find_pair_scores``)."""
    sa = [read_pair_scores(find_pair_scores(t, mode)) for t in a]
    sb = [read_pair_scores(find_pair_scores(t, mode)) for t in b]
    if names is None:
        names = (_common_name(a), _common_name(b))
    return paired_bootstrap(sa, sb, names=names, **kwargs)


def _common_name(targets: Sequence[str | Path]) -> str:
    """A display name for a system's runs: the folder name, or the runs' common prefix (``bml-mean-s``)."""
    import os
    import re

    names = [Path(t).name.removesuffix(".pair_scores.json.gz") for t in targets]
    if len(names) == 1:
        return names[0]
    return re.sub(r"-s\d*$", "", os.path.commonprefix(names)).rstrip("-_") or names[0]
