"""Rank-based error analysis of STS predictions (SNCSE, Wang et al., 2022, Section 5, Eq. 10-11).

Spearman's correlation compares ranks, not scores. With the gold scores ranked low to high
(``R_G``) and the model's cosine similarities ranked the same way (``R_E``), SNCSE defines the error
of pair i as

    e_i = (R_E,i - R_G,i)^2                                   (Eq. 10)

and Spearman's rho, without ties, is exactly ``1 - 6 sum_i e_i / (n (n^2 - 1))`` (Eq. 11), so the pairs
with the largest ``e_i`` are the ones that cost the model the most. Tied values get the average of
the ranks they span (``scipy.stats.rankdata(method="average")``, as ``scipy.stats.spearmanr`` does).
A pair with ``R_E > R_G`` is *over-estimated* (the model finds it more similar than people did).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import rankdata

log = logging.getLogger(__name__)


def ranks(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks 1..n, low to high, ties averaged (the ranks Spearman's rho correlates)."""
    return rankdata(np.asarray(values, dtype=np.float64), method="average")


def rank_errors(gold: Sequence[float] | np.ndarray, predicted: Sequence[float] | np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R_G, R_E, e) with e = (R_E - R_G)^2 (Eq. 10)."""
    gold = np.asarray(gold, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    if gold.shape != predicted.shape or gold.ndim != 1:
        raise ValueError(f"gold and predicted must be 1-D of equal length, got {gold.shape} and {predicted.shape}")
    r_g, r_e = ranks(gold), ranks(predicted)
    return r_g, r_e, (r_e - r_g) ** 2


def spearman_from_errors(errors: np.ndarray) -> float:
    """Eq. 11: rho = 1 - 6 sum e / (n (n^2 - 1)); equals Spearman's rho exactly when there are no ties."""
    n = len(errors)
    if n < 2:
        return float("nan")
    return float(1.0 - 6.0 * float(np.sum(errors)) / (n * (n * n - 1)))


@dataclass
class PairError:
    """One sentence pair of the analysis, with its ranks and error."""

    index: int
    sentence1: str
    sentence2: str
    gold: float
    cosine: float
    rank_gold: float
    rank_est: float
    error: float
    tags: list[str] = field(default_factory=list)

    @property
    def direction(self) -> str:
        """``over`` when the model ranks the pair above its gold rank, ``under`` below, ``exact`` if equal."""
        if self.rank_est > self.rank_gold:
            return "over"
        if self.rank_est < self.rank_gold:
            return "under"
        return "exact"

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "sentence1": self.sentence1, "sentence2": self.sentence2,
                "gold": self.gold, "cosine": self.cosine, "rank_gold": self.rank_gold,
                "rank_est": self.rank_est, "error": self.error, "direction": self.direction, "tags": self.tags}


@dataclass
class ErrorAnalysis:
    """All pairs of a task with ranks and errors; ``top`` holds the K largest errors, largest first."""

    task: str
    split: str
    pairs: list[PairError]
    top: list[PairError]
    spearman: float  # scipy.stats.spearmanr x100 (the evaluation score)
    spearman_eq11: float  # Eq. 11 from the errors x100 (equal to ``spearman`` without ties)
    ties: bool

    def tag_counts(self) -> dict[str, dict[str, int]]:
        """{tag: {"top": count among the top K, "all": count among all pairs}}."""
        from .tags import TAGS

        counts = {t: {"top": 0, "all": 0} for t in TAGS}
        for p in self.pairs:
            for t in p.tags:
                counts.setdefault(t, {"top": 0, "all": 0})["all"] += 1
        for p in self.top:
            for t in p.tags:
                counts[t]["top"] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "split": self.split, "n_pairs": len(self.pairs), "k": len(self.top),
                "spearman": self.spearman, "spearman_eq11": self.spearman_eq11, "ties": self.ties,
                "tag_counts": self.tag_counts(), "pairs": [p.to_dict() for p in self.top]}


def top_k(errors: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest errors, largest first (ties broken by index, for stable output)."""
    if k < 0:
        raise ValueError("k must be >= 0")
    order = np.lexsort((np.arange(len(errors)), -errors))
    return order[: min(k, len(errors))]


def analyze_pairs(task: str, split: str, sent1: Sequence[str], sent2: Sequence[str],
                  gold: Sequence[float] | np.ndarray, cosine: Sequence[float] | np.ndarray, k: int,
                  tag: bool = True) -> ErrorAnalysis:
    """Ranks, errors, the top-k pairs and (``tag``) heuristic tags for one set of scored pairs."""
    from scipy.stats import spearmanr

    from .tags import tag_pair

    gold = np.asarray(gold, dtype=np.float64)
    cosine = np.asarray(cosine, dtype=np.float64)
    if not (len(sent1) == len(sent2) == len(gold) == len(cosine)):
        raise ValueError("sent1, sent2, gold and cosine must have the same length")
    r_g, r_e, err = rank_errors(gold, cosine)
    pairs = [PairError(i, sent1[i], sent2[i], float(gold[i]), float(cosine[i]), float(r_g[i]), float(r_e[i]),
                       float(err[i]), tag_pair(sent1[i], sent2[i]) if tag else []) for i in range(len(gold))]
    top = [pairs[i] for i in top_k(err, k)]
    rho = float(spearmanr(cosine, gold)[0]) if len(gold) > 1 else float("nan")
    ties = len(np.unique(gold)) < len(gold) or len(np.unique(cosine)) < len(cosine)
    return ErrorAnalysis(task, split, pairs, top, 100 * rho, 100 * spearman_from_errors(err), ties)


def analyze_task(model: Any, task: str, k: int = 5, split: str = "test", batch_size: int = 128,
                 root: str | None = None, show_progress: bool = True) -> ErrorAnalysis:
    """Encode an STS task with ``model`` (a ``SentenceEncoder``) and analyze it (subsets concatenated)."""
    from ..data.senteval import load_sts
    from ..eval.sts import cosine_rows

    loaded = load_sts(task, split, root=root)
    s1, s2, gold = loaded.all_pairs()
    unique = list(dict.fromkeys([*s1, *s2]))
    emb = model.encode(unique, batch_size=batch_size, show_progress=show_progress)
    index = {s: i for i, s in enumerate(unique)}
    cos = cosine_rows(emb[[index[s] for s in s1]], emb[[index[s] for s in s2]])
    log.info("%s %s: %d pairs scored", task, split, len(gold))
    return analyze_pairs(task, split, s1, s2, gold, cos, k)
