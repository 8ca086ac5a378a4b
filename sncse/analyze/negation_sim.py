"""Soft-negative similarity (SNCSE, Wang et al., 2022, Figure 4): does a model separate "X" from "not X"?

SNCSE argues that contrastive sentence encoders suffer from *feature suppression*: they rank a
sentence and its negation as near-identical because the two share almost all their words. Figure 4
of the paper shows, per model, the distribution of cosine similarity between sentences and their
soft negatives (explicit negations). This module reproduces that view:

1. sample ``n`` distinct sentences from the STS test sets (seeded);
2. negate them with a registered negator (``sncse.registry.get("negators", name)(mode=...)``); inputs
   the negator skips (empty result) or leaves unchanged are dropped and counted;
3. pair every kept sentence with its negation (*soft-negative pairs*) and with another randomly chosen
   kept sentence (*negative pairs*, a random derangement, so never itself);
4. for every model: cosine similarity of both kinds of pairs; the mean, and the peak, i.e. the mode of
   a Gaussian kernel density estimate (``scipy.stats.gaussian_kde``, Scott's bandwidth, evaluated on
   a 1,001-point grid over the observed range); a histogram figure with one panel per model.

The same sentences, negations and negatives are used for every model, so the numbers compare.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SncseError

log = logging.getLogger(__name__)

DEFAULT_TASKS = ("sts12", "sts13", "sts14", "sts15", "sts16", "stsb", "sickr")


def peak(values: np.ndarray, grid_points: int = 1001) -> float:
    """The mode of ``values``: argmax of a Gaussian KDE; the histogram's fullest bin if the KDE is singular."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return float("nan")
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12:
        return lo
    try:
        from scipy.stats import gaussian_kde

        grid = np.linspace(lo, hi, grid_points)
        density = gaussian_kde(values)(grid)
        return float(grid[int(np.argmax(density))])
    except (np.linalg.LinAlgError, ValueError):
        counts, edges = np.histogram(values, bins=50)
        i = int(np.argmax(counts))
        return float((edges[i] + edges[i + 1]) / 2)


@dataclass
class SimilarityStats:
    mean: float
    peak: float
    std: float
    n: int

    @classmethod
    def of(cls, values: np.ndarray) -> SimilarityStats:
        values = np.asarray(values, dtype=np.float64)
        return cls(float(values.mean()) if len(values) else float("nan"), peak(values),
                   float(values.std()) if len(values) else float("nan"), int(len(values)))


@dataclass
class ModelSimilarities:
    """Cosine similarities of one model on the shared pairs."""

    name: str
    soft_negative: np.ndarray
    negative: np.ndarray

    @property
    def soft_negative_stats(self) -> SimilarityStats:
        return SimilarityStats.of(self.soft_negative)

    @property
    def negative_stats(self) -> SimilarityStats:
        return SimilarityStats.of(self.negative)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.name, "soft_negative": vars(self.soft_negative_stats),
                "negative": vars(self.negative_stats)}


@dataclass
class NegationPairs:
    """The shared evaluation pairs: ``sentences[i]`` vs ``negations[i]`` and vs ``sentences[others[i]]``."""

    sentences: list[str]
    negations: list[str]
    others: list[int]
    requested: int
    dropped_skipped: int = 0
    dropped_unchanged: int = 0


@dataclass
class NegationSimilarity:
    pairs: NegationPairs
    models: list[ModelSimilarities] = field(default_factory=list)
    negator: str = ""

    def to_dict(self) -> dict[str, Any]:
        p = self.pairs
        return {"negator": self.negator, "requested": p.requested, "pairs": len(p.sentences),
                "dropped_skipped": p.dropped_skipped, "dropped_unchanged": p.dropped_unchanged,
                "models": [m.to_dict() for m in self.models],
                "examples": [{"sentence": s, "negation": n} for s, n in zip(p.sentences[:5], p.negations[:5], strict=True)]}


def sample_sentences(n: int, seed: int = 0, tasks: Sequence[str] = DEFAULT_TASKS,
                     root: str | Path | None = None) -> list[str]:
    """``n`` distinct sentences drawn without replacement from the STS test sets (all if fewer).

    On the embedded data sample, which holds STS-B only, the default draws from STS-B test.
    """
    from ..data.root import SAMPLE_STS, resolve_data_root
    from ..data.senteval import load_sts

    if n < 2:
        raise SncseError(f"--n must be at least 2, got {n}")
    if tuple(tasks) == DEFAULT_TASKS and resolve_data_root(root).is_sample:
        tasks = tuple(SAMPLE_STS)
        log.info("sampling sentences from %s test only (the embedded data sample)", ", ".join(tasks))
    pool: dict[str, None] = {}
    for task in tasks:
        for sentence in load_sts(task, "test", root=root).sentences():
            if sentence.strip():
                pool.setdefault(sentence, None)
    sentences = list(pool)
    if n >= len(sentences):
        return sentences
    return random.Random(seed).sample(sentences, n)


def derangement(n: int, seed: int = 0) -> list[int]:
    """A random permutation with no fixed point (i -> next element of a shuffled cycle)."""
    if n < 2:
        raise SncseError("negative pairs need at least 2 sentences")
    order = list(range(n))
    random.Random(seed + 1).shuffle(order)
    out = [0] * n
    for j, i in enumerate(order):
        out[i] = order[(j + 1) % n]
    return out


def build_pairs(sentences: Sequence[str], negate: Any, seed: int = 0) -> NegationPairs:
    """Negate ``sentences`` (``negate``: list[str] -> list[str]) and pick a random negative for each."""
    sentences = list(sentences)
    negations = list(negate(sentences))
    if len(negations) != len(sentences):
        raise SncseError(f"the negator returned {len(negations)} results for {len(sentences)} sentences")
    kept_s: list[str] = []
    kept_n: list[str] = []
    skipped = unchanged = 0
    for s, neg in zip(sentences, negations, strict=True):
        if not neg:
            skipped += 1
        elif neg.strip() == s.strip():
            unchanged += 1
        else:
            kept_s.append(s)
            kept_n.append(neg)
    if skipped or unchanged:
        log.info("negation: dropped %d skipped and %d unchanged sentence(s)", skipped, unchanged)
    if len(kept_s) < 2:
        raise SncseError("fewer than 2 sentences could be negated")
    return NegationPairs(kept_s, kept_n, derangement(len(kept_s), seed), len(sentences), skipped, unchanged)


def model_similarities(name: str, model: Any, pairs: NegationPairs, batch_size: int = 128,
                       show_progress: bool = True) -> ModelSimilarities:
    """Cosine similarities of the soft-negative and negative pairs under ``model`` (a SentenceEncoder)."""
    from ..eval.sts import cosine_rows

    unique = list(dict.fromkeys([*pairs.sentences, *pairs.negations]))
    emb = model.encode(unique, batch_size=batch_size, show_progress=show_progress)
    index = {s: i for i, s in enumerate(unique)}
    e_s = emb[[index[s] for s in pairs.sentences]]
    e_n = emb[[index[s] for s in pairs.negations]]
    return ModelSimilarities(name, cosine_rows(e_s, e_n), cosine_rows(e_s, e_s[pairs.others]))


def make_negator(name: str = "spacy", mode: str = "faithful") -> Any:
    from .. import registry

    return registry.get("negators", name)(mode=mode)


def negation_similarity(models: dict[str, Any], n: int = 5000, negator: str = "spacy", mode: str = "faithful",
                        seed: int = 0, root: str | Path | None = None, batch_size: int = 128,
                        show_progress: bool = True) -> NegationSimilarity:
    """Figure 4 data for ``models`` ({display name: SentenceEncoder}) on ``n`` sampled STS sentences."""
    sentences = sample_sentences(n, seed=seed, root=root)
    neg = make_negator(negator, mode)
    pairs = build_pairs(sentences, neg.negate, seed=seed)
    result = NegationSimilarity(pairs, negator=f"{negator} ({mode})")
    for name, model in models.items():
        result.models.append(model_similarities(name, model, pairs, batch_size, show_progress))
    return result


def plot_negation_similarity(result: NegationSimilarity, path: str | Path, bins: int = 50) -> Path:
    """Histograms of soft-negative and negative cosine similarity, one panel per model, side by side."""
    from .plotting import new_figure, save_png

    if not result.models:
        raise SncseError("no model to plot")
    values = np.concatenate([np.concatenate([m.soft_negative, m.negative]) for m in result.models])
    lo = max(-1.0, float(np.floor(values.min() * 10) / 10))
    hi = min(1.0, float(np.ceil(values.max() * 10) / 10))
    if hi <= lo:
        hi = lo + 0.1
    edges = np.linspace(lo, hi, bins + 1)
    fig, axes = new_figure(len(result.models), sharey=True)
    for ax, m in zip(axes, result.models, strict=True):
        s, g = m.soft_negative_stats, m.negative_stats
        ax.hist(m.soft_negative, bins=edges, alpha=0.6, color="tab:red", density=True,
                label=f"soft negative (mean {s.mean:.3f}, peak {s.peak:.3f})")
        ax.hist(m.negative, bins=edges, alpha=0.6, color="tab:blue", density=True,
                label=f"negative (mean {g.mean:.3f}, peak {g.peak:.3f})")
        ax.axvline(s.mean, color="tab:red", linestyle="--", linewidth=1)
        ax.axvline(g.mean, color="tab:blue", linestyle="--", linewidth=1)
        ax.set_title(m.name, fontsize=10)
        ax.set_xlabel("cosine similarity")
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("density")
    fig.suptitle(f"Sentence vs its negation and vs a random sentence ({len(result.pairs.sentences)} pairs, "
                 f"negator {result.negator})", fontsize=10)
    return save_png(fig, path)
