"""STS by word overlap: a task's Spearman within fixed bins of the pairs' token Jaccard overlap.

SNCSE's error analysis (Wang et al., 2022, Section 5) finds that models fail where two sentences share
most of their words but differ in meaning (a negation, a swapped role): feature suppression, the model
scoring by textual rather than semantic similarity. A task's single Spearman hides it; splitting the
pairs by how many words they share shows where a model gains or loses.

    words(s)      lower-cased runs of letters and digits, ``n't`` a word of its own (``sncse.data.words``)
    overlap(a, b) = |words(a) & words(b)| / |words(a) | words(b)|   (Jaccard of the two word sets; 1 if both
                    are empty)
    bins          [0, 0.3), [0.3, 0.5), [0.5, 0.7), [0.7, 1]   (:data:`OVERLAP_EDGES`; they partition the pairs)

Within a bin the score is Spearman x100 of the model's cosines against the gold scores of the bin's pairs
(all subsets of a task together, as the task's "all" score), with the pair count beside it. A bin with
fewer than 2 pairs, or constant gold scores, has no Spearman (null).

The cosines come from a per-pair scores file (``sncse eval --pair-scores``, :mod:`sncse.eval.pair_scores`),
whose pairs are in the data's file order, so the sentences are read again from the data root to compute
the overlaps (the gold scores must match), or from an evaluation made here (``sncse analyze --overlap``).
:func:`split_by_overlap` turns each task's pairs into one task per bin, so that the paired bootstrap of
:mod:`sncse.eval.compare` tests a difference within a bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.senteval import STSTask
from ..data.words import words
from ..errors import DataError
from .pair_scores import PairScores, TaskPairs
from .sts import load_tasks, spearman_x100

#: the bin edges of the word overlap: [0, 0.3), [0.3, 0.5), [0.5, 0.7), [0.7, 1]
OVERLAP_EDGES: tuple[float, ...] = (0.3, 0.5, 0.7)
TOKENS = ("words: lower-cased runs of letters and digits (an apostrophe may join two runs; n't is a word), "
          "overlap: Jaccard of the two sentences' word sets")


def bin_labels(edges: Sequence[float] = OVERLAP_EDGES) -> list[str]:
    """``["<0.3", "0.3-0.5", "0.5-0.7", ">=0.7"]`` for the default edges."""
    inner = [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [f"<{edges[0]:g}", *inner, f">={edges[-1]:g}"]


#: the bins where feature suppression shows: the two of highest overlap
HIGH_BINS: tuple[str, ...] = tuple(bin_labels()[-2:])


def jaccard(a: str, b: str) -> float:
    """Jaccard overlap of the word sets of ``a`` and ``b`` (1.0 when both have no words)."""
    wa, wb = set(words(a)), set(words(b))
    union = wa | wb
    return len(wa & wb) / len(union) if union else 1.0


def overlaps(sent1: Sequence[str], sent2: Sequence[str]) -> np.ndarray:
    """The overlap of every pair, float64."""
    return np.array([jaccard(a, b) for a, b in zip(sent1, sent2, strict=True)], dtype=np.float64)


def bin_index(overlap: np.ndarray, edges: Sequence[float] = OVERLAP_EDGES) -> np.ndarray:
    """The bin of every overlap, 0 .. len(edges) (a value on an edge goes to the bin above it)."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), np.asarray(overlap), side="right")


def breakdown(overlap: np.ndarray, gold: np.ndarray, cosine: np.ndarray,
              edges: Sequence[float] = OVERLAP_EDGES) -> list[dict[str, Any]]:
    """Per bin: ``{"bin", "low", "high", "pairs", "spearman"}`` (Spearman x100 of ``cosine`` against ``gold``
    over the bin's pairs; None when undefined)."""
    idx = bin_index(overlap, edges)
    bounds = [0.0, *edges, 1.0]
    out = []
    for b, label in enumerate(bin_labels(edges)):
        mask = idx == b
        out.append({"bin": label, "low": bounds[b], "high": bounds[b + 1], "pairs": int(mask.sum()),
                    "spearman": spearman_x100(np.asarray(cosine)[mask], np.asarray(gold)[mask])})
    return out


def task_breakdown(task: STSTask, cosine: np.ndarray, edges: Sequence[float] = OVERLAP_EDGES) -> dict[str, Any]:
    """A task's pairs (all subsets, file order) with their cosines -> ``{"pairs", "spearman", "bins"}``."""
    s1, s2, gold = task.all_pairs()
    if len(cosine) != len(gold):
        raise DataError(f"{task.task}: {len(cosine)} cosines for {len(gold)} pairs")
    return {"pairs": len(gold), "spearman": spearman_x100(cosine, gold),
            "bins": breakdown(overlaps(s1, s2), gold, cosine, edges)}


def scored_tasks(scores: PairScores, tasks: Sequence[str] | None = None,
                 root: str | Path | None = None) -> dict[str, STSTask]:
    """The data root's copies of the tasks a per-pair scores file holds (``tasks``: a selection), with the
    file's limit applied; a DataError when their gold scores are not the file's (other data, other order)."""
    names = list(scores.tasks) if tasks is None else list(tasks)
    missing = [t for t in names if t not in scores.tasks]
    where = scores.path or "the per-pair scores"
    if missing:
        raise DataError(f"{where} holds no per-pair scores for {', '.join(missing)}", setting="tasks")
    out = {}
    for name in names:
        tp = scores.tasks[name]
        (task,) = load_tasks([name], "dev" if tp.split == "dev" else "test", root=root, limit=scores.limit)
        _, _, gold = task.all_pairs()
        if len(gold) != tp.pairs or not np.allclose(gold, tp.gold):
            raise DataError(f"{where}: the {name} gold scores are not those of the data root's {name} "
                            f"({tp.pairs} vs {len(gold)} pairs): the scores were made on other data")
        out[name] = task
    return out


def scores_breakdown(scores: PairScores, tasks: Sequence[str] | None = None, root: str | Path | None = None,
                     edges: Sequence[float] = OVERLAP_EDGES) -> dict[str, dict[str, Any]]:
    """:func:`task_breakdown` of every task (or ``tasks``) of a per-pair scores file."""
    return {name: task_breakdown(task, scores.tasks[name].cosine, edges)
            for name, task in scored_tasks(scores, tasks, root).items()}


def overlap_task(task: str, label: str) -> str:
    """The name of a task's bin as a task of its own: ``stsb@>=0.7``."""
    return f"{task}@{label}"


def split_by_overlap(scores: PairScores, tasks: Sequence[str], root: str | Path | None = None,
                     edges: Sequence[float] = OVERLAP_EDGES) -> PairScores:
    """A copy of ``scores`` whose tasks are the bins of ``tasks`` (:func:`overlap_task` names): each bin's
    pairs, with the subset sizes of the pairs it holds, so a bootstrap draws within subsets as before."""
    out: dict[str, TaskPairs] = {}
    for name, task in scored_tasks(scores, tasks, root).items():
        tp = scores.tasks[name]
        s1, s2, _ = task.all_pairs()
        idx = bin_index(overlaps(s1, s2), edges)
        for b, label in enumerate(bin_labels(edges)):
            mask = idx == b
            sizes = {sub: int(mask[sl].sum()) for sub, sl in zip(tp.subsets, tp.subset_slices(), strict=True)}
            sizes = {k: v for k, v in sizes.items() if v}
            if sizes:
                out[overlap_task(name, label)] = TaskPairs(overlap_task(name, label), tp.gold[mask], tp.cosine[mask],
                                                           sizes, tp.split)
    return PairScores(out, model=scores.model, pooler=scores.pooler, mode=scores.mode, limit=scores.limit,
                      path=scores.path, triplets=scores.triplets)
