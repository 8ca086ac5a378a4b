"""STS evaluation under the SimCSE / SNCSE protocol (Gao et al., 2021, Appendix B; Wang et al., 2022).

For every pair the system score is the cosine similarity of the two sentence embeddings,

    cos(u, v) = u . v / (||u|| ||v||)          (NaN -> 0, as SentEval's ``np.nan_to_num``)

and the task score is Spearman's rank correlation between system scores and gold scores, x100.
No regressor is trained (SentEval's default STS-B/SICK-R regressor is *not* used).

- STS12-16 report the "all" setting: Spearman over the subsets of a year concatenated (the number in
  the papers' tables). SentEval's two other aggregations are kept alongside: "mean" (unweighted mean of
  the per-subset Spearman) and "wmean" (mean weighted by subset pair counts).
- STS-B and SICK-R: Spearman on the test split (``mode="test"``) or on STS-B dev / SICK-R trial
  (``mode="dev"``, the model-selection split used during training).
- The average is the unweighted mean of the task scores (the papers' "Avg.").

Each distinct sentence of all requested tasks is embedded exactly once (task by task, length-sorted
batches inside ``SentenceEncoder.encode``), so the 7-task evaluation costs one pass over ~26k sentences.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import pearsonr, spearmanr

from ..data.senteval import STSTask, load_sts
from ..data.tasks import split_for, sts_tasks
from ..errors import SncseError

log = logging.getLogger(__name__)

Embedder = Callable[[list[str]], np.ndarray]

PROTOCOL = ("SimCSE/SentEval STS: cosine similarity, Spearman x100, no regressor; STS12-16 'all' "
            "(subsets concatenated; 'mean'/'wmean' also given); STS-B and SICK-R {split} split; "
            "avg = unweighted mean of the task scores")
# Cosines are rounded to 6 decimals: float32 embeddings carry ~7 significant digits, and the digits
# below that depend on batch padding and summation order. Rounding makes a pair of identical sentences
# score exactly 1.0 (a tie, ranked by its average rank) instead of 1 +- 1e-7 noise that orders such
# pairs arbitrarily (STS12 SMTeuroparl/SMTnews hold 79 of them). Task-level scores move by < 0.005.
COSINE_DECIMALS = 6


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity in float64, rounded to ``COSINE_DECIMALS``; a zero vector gives 0
    (SentEval's ``nan_to_num``)."""
    a = np.nan_to_num(np.asarray(a, dtype=np.float64))
    b = np.nan_to_num(np.asarray(b, dtype=np.float64))
    num = np.einsum("ij,ij->i", a, b)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.round(np.nan_to_num(num / den), COSINE_DECIMALS)


def spearman_x100(sys: np.ndarray, gold: np.ndarray) -> float | None:
    """Spearman x100 of system scores against gold scores, as every task score is computed; None when
    undefined (fewer than 2 pairs, or a constant side)."""
    sp = _corr(np.asarray(sys), np.asarray(gold))[0]
    return None if np.isnan(sp) else 100.0 * sp


def _corr(sys: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """(Spearman, Pearson), NaN when undefined (constant input or fewer than 2 pairs)."""
    if len(sys) < 2 or np.all(sys == sys[0]) or np.all(gold == gold[0]):
        return float("nan"), float("nan")
    return float(spearmanr(sys, gold)[0]), float(pearsonr(sys, gold)[0])


def score_task(task: STSTask, lookup: dict[str, np.ndarray] | Embedder, keep_pairs: bool = False) -> dict[str, Any]:
    """Score one loaded task from embeddings (a sentence -> vector dict, or a function on a list).

    Returns Spearman/Pearson x100 for "all" (``spearman``/``pearson``), ``mean``, ``wmean``,
    ``pairs`` and per-subset figures under ``subsets``. ``keep_pairs`` adds ``pair_scores``: the
    cosine and gold score of every pair, subsets concatenated, the very arrays the correlations
    were computed from (``sncse.eval.pair_scores`` saves them for paired tests).
    """
    subsets: dict[str, dict[str, Any]] = {}
    sys_all: list[np.ndarray] = []
    gold_all: list[np.ndarray] = []
    for sub in task.subsets:
        if callable(lookup):
            e1, e2 = lookup(sub.sent1), lookup(sub.sent2)
        else:
            e1 = np.stack([lookup[s] for s in sub.sent1]) if sub.sent1 else np.zeros((0, 1))
            e2 = np.stack([lookup[s] for s in sub.sent2]) if sub.sent2 else np.zeros((0, 1))
        sims = cosine_rows(e1, e2)
        sp, pe = _corr(sims, sub.gold)
        subsets[sub.name] = {"spearman": 100 * sp, "pearson": 100 * pe, "pairs": len(sub.gold)}
        sys_all.append(sims)
        gold_all.append(sub.gold)
    sims = np.concatenate(sys_all) if sys_all else np.zeros(0)
    gold = np.concatenate(gold_all) if gold_all else np.zeros(0)
    sp, pe = _corr(sims, gold)
    per = np.array([v["spearman"] for v in subsets.values()])
    weights = np.array([v["pairs"] for v in subsets.values()], dtype=np.float64)
    kept = {"pair_scores": {"cosine": sims, "gold": gold}} if keep_pairs else {}
    return {
        "spearman": 100 * sp,
        "pearson": 100 * pe,
        "mean": float(np.mean(per)) if len(per) else float("nan"),
        "wmean": float(np.average(per, weights=weights)) if weights.sum() else float("nan"),
        "pairs": int(len(gold)),
        "split": task.split,
        "subsets": subsets,
        **kept,
    }


def load_tasks(tasks: Sequence[str], mode: str = "test", root: str | Path | None = None,
               limit: int | None = None) -> list[STSTask]:
    """Load the requested tasks; ``limit`` keeps the first N pairs of each subset (smoke tests only)."""
    loaded = [load_sts(t, split_for(t, mode), root=root) for t in tasks]
    if limit is not None:
        for t in loaded:
            for s in t.subsets:
                s.sent1, s.sent2, s.gold = s.sent1[:limit], s.sent2[:limit], s.gold[:limit]
    return loaded


def embed_unique(sentences: Sequence[str], embed: Embedder) -> dict[str, np.ndarray]:
    """Embed each distinct sentence once -> {sentence: vector}."""
    unique = list(dict.fromkeys(sentences))
    if not unique:
        return {}
    vectors = np.asarray(embed(unique))
    if vectors.shape[0] != len(unique):
        raise SncseError(f"embedder returned {vectors.shape[0]} vectors for {len(unique)} sentences")
    return dict(zip(unique, vectors, strict=True))


def embed_tasks(tasks: Sequence[STSTask], embed: Embedder) -> dict[str, np.ndarray]:
    """Embed each distinct sentence of ``tasks`` once, task by task in the order given.

    A task's new sentences go to the embedder in one call (length-sorted batches inside
    ``SentenceEncoder.encode``), so the first task's vectors do not depend on which tasks follow:
    ``sncse eval --mode dev`` (STS-B first) computes STS-B dev exactly as the evaluator that selects
    checkpoints during training (``sncse.train.dev_eval``), and both report the same number.
    """
    lookup: dict[str, np.ndarray] = {}
    for t in tasks:
        lookup.update(embed_unique([s for s in t.sentences() if s not in lookup], embed))
    return lookup


def encoder_embedder(model: Any, batch_size: int = 128, show_progress: bool = True, amp: str = "off") -> Embedder:
    """Wrap a ``SentenceEncoder`` (or anything with ``encode(list, batch_size=...)``) as an Embedder that
    encodes in the precision ``amp`` (:mod:`sncse.encoders.amp`; ``off``: fp32)."""

    def embed(sentences: list[str]) -> np.ndarray:
        try:
            return model.encode(sentences, batch_size=batch_size, show_progress=show_progress, amp=amp)
        except TypeError:  # e.g. sentence-transformers' encode has show_progress_bar instead
            return np.asarray(model.encode(sentences, batch_size=batch_size))

    return embed


def evaluate_sts(
    model: Any | Embedder,
    tasks: str | Sequence[str] | None = None,
    mode: str = "test",
    batch_size: int = 128,
    root: str | Path | None = None,
    limit: int | None = None,
    show_progress: bool = True,
    keep_pairs: bool = False,
    amp: str = "off",
) -> dict[str, Any]:
    """Evaluate ``model`` (a ``SentenceEncoder`` or a function list[str] -> (N, H) array) on STS.

    Returns ``{"tasks": {task: {...}}, "avg": float, "mode", "protocol", "sentences", "encode_seconds"}``;
    ``keep_pairs``: every task also holds its per-pair scores (:func:`score_task`). ``amp``: the
    precision a ``SentenceEncoder`` encodes in (``off``: fp32, the papers').
    """
    names = sts_tasks(tasks, mode)
    loaded = load_tasks(names, mode, root=root, limit=limit)
    embed = model if callable(model) and not hasattr(model, "encode") else encoder_embedder(
        model, batch_size=batch_size, show_progress=show_progress, amp=amp)
    start = time.perf_counter()
    lookup = embed_tasks(loaded, embed)
    seconds = time.perf_counter() - start
    log.info("embedded %d distinct sentences in %.1fs", len(lookup), seconds)
    results = {t.task: score_task(t, lookup, keep_pairs=keep_pairs) for t in loaded}
    scores = [r["spearman"] for r in results.values()]
    split = "dev (STS-B dev, SICK-R trial)" if mode == "dev" else "test"
    return {
        "mode": mode,
        "protocol": PROTOCOL.format(split=split),
        "tasks": results,
        "avg": float(np.mean(scores)) if scores else float("nan"),
        "sentences": len(lookup),
        "encode_seconds": seconds,
        "limit": limit,
    }


def stsb_dev_spearman(model: Any, batch_size: int = 128, root: str | Path | None = None,
                      limit: int | None = None) -> float:
    """Spearman x100 on STS-B dev (SimCSE's ``eval_stsb_spearman``): the number ``sncse eval --mode dev``
    reports for ``stsb`` and the one ``sncse train`` selects checkpoints on."""
    return evaluate_sts(model, ["stsb"], mode="dev", batch_size=batch_size, root=root, limit=limit,
                        show_progress=False)["tasks"]["stsb"]["spearman"]
