"""Soft-negative similarity (SNCSE, Wang et al., 2022, Figure 4): does a model separate "X" from "not X"?

SNCSE argues that contrastive sentence encoders suffer from *feature suppression*: they rank a
sentence and its negation as near-identical because the two share almost all their words. Figure 4
of the paper shows, per model, the distribution of cosine similarity between sentences and their
soft negatives (explicit negations). This module reproduces that view:

1. sample ``n`` distinct sentences from the STS test sets (seeded);
2. negate them with a registered negator (``sncse.registry.get("negators", name)(mode=...)``), or read
   sentences and negations from a ``sncse negate`` file written ahead of time (:func:`read_pairs`, for a
   machine without the negator); inputs the negator skips (empty result) or leaves unchanged are
   dropped and counted;
3. pair every kept sentence with its negation (*soft-negative pairs*) and with another randomly chosen
   kept sentence (*negative pairs*, a random derangement, so never itself);
4. for every model: cosine similarity of both kinds of pairs; the mean, and the peak, i.e. the mode of
   a Gaussian kernel density estimate (``scipy.stats.gaussian_kde``, Scott's bandwidth, evaluated on
   a 1,001-point grid over the observed range); a histogram figure with one panel per model.

The same sentences, negations and negatives are used for every model, so the numbers compare.
:func:`negation_similarity` does all of it and is what ``sncse analyze --negation`` calls.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.tasks import STS_TASKS
from ..errors import DataError, SncseError

log = logging.getLogger(__name__)



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
    """The shared evaluation pairs: ``sentences[i]`` vs ``negations[i]`` and vs ``sentences[others[i]]``.

    ``negator`` says who wrote the negations (``"spacy (faithful)"``); ``source`` is the ``sncse negate``
    file they were read from, if any.
    """

    sentences: list[str]
    negations: list[str]
    others: list[int]
    requested: int
    dropped_skipped: int = 0
    dropped_unchanged: int = 0
    negator: str = ""
    source: str | None = None


@dataclass
class NegationSimilarity:
    """The result: the pairs, one :class:`ModelSimilarities` per model, and the figure once written."""

    pairs: NegationPairs
    models: list[ModelSimilarities] = field(default_factory=list)
    negator: str = ""
    png: Path | None = None

    def rows(self) -> list[dict[str, Any]]:
        """The per-model table: mean and peak similarity of soft-negative and negative pairs."""
        out = []
        for m in self.models:
            s, g = m.soft_negative_stats, m.negative_stats
            out.append({"model": m.name, "soft_negative_mean": s.mean, "soft_negative_peak": s.peak,
                        "negative_mean": g.mean, "negative_peak": g.peak, "pairs": s.n})
        return out

    def to_dict(self) -> dict[str, Any]:
        p = self.pairs
        out: dict[str, Any] = {
            "negator": self.negator, "requested": p.requested, "pairs": len(p.sentences),
            "dropped_skipped": p.dropped_skipped, "dropped_unchanged": p.dropped_unchanged,
            "models": [m.to_dict() for m in self.models],
            "examples": [{"sentence": s, "negation": n} for s, n in zip(p.sentences[:5], p.negations[:5], strict=True)]}
        if self.png is not None:
            out["png"] = str(self.png)
        if p.source is not None:
            out["negations_from"] = p.source
        return out


def sample_sentences(n: int, seed: int = 0, tasks: Sequence[str] = STS_TASKS,
                     root: str | Path | None = None) -> list[str]:
    """``n`` distinct sentences drawn without replacement from the STS test sets (all if fewer).

    On the embedded data sample, which holds STS-B only, the default draws from STS-B test.
    """
    from ..data.root import SAMPLE_STS, resolve_data_root
    from ..data.senteval import load_sts

    if n < 2:
        raise SncseError(f"the number of sentences must be at least 2, got {n}", setting="n")
    if tuple(tasks) == tuple(STS_TASKS) and resolve_data_root(root).is_sample:
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
    """Negate ``sentences`` (``negate``: list[str] -> list[str]) and pick a random negative for each.

    A sentence whose negation is empty (the negator skipped it) or unchanged is dropped and counted.
    """
    sentences = list(sentences)
    negations = list(negate(sentences))
    if len(negations) != len(sentences):
        raise SncseError(f"the negator returned {len(negations)} results for {len(sentences)} sentences")
    kept_s: list[str] = []
    kept_n: list[str] = []
    skipped = unchanged = 0
    for s, neg in zip(sentences, negations, strict=True):
        if not neg or not s.strip():
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


def negate_pairs(sentences: Sequence[str], negator: str = "spacy", mode: str = "faithful",
                 seed: int = 0) -> NegationPairs:
    """:func:`build_pairs` with a registered negator (``sncse.registry``, group ``negators``)."""
    pairs = build_pairs(sentences, make_negator(negator, mode).negate, seed=seed)
    pairs.negator = f"{negator} ({mode})"
    return pairs


def read_pairs(path: str | Path, seed: int = 0) -> NegationPairs:
    """The pairs of a ``sncse negate`` JSON Lines file, in file order (blank lines ignored).

    Negating ahead of time lets the analysis run where no negator is installed; given the file that
    ``sncse negate`` writes for ``sample_sentences(n, seed)``, the pairs equal those that
    ``negate_pairs(sample_sentences(n, seed), seed=seed)`` builds. The negator is named from the
    statistics file ``sncse negate`` writes beside its output, when it is there.
    """
    from ..data.corpus import iter_negation_pairs

    rows = [(s, n) for _, s, n in iter_negation_pairs(path) if s.strip() or n.strip()]
    if not rows:
        raise DataError("no [sentence, negation] pairs", path=path)
    negations = [n for _, n in rows]
    pairs = build_pairs([s for s, _ in rows], lambda _: negations, seed=seed)
    pairs.negator, pairs.source = _negator_of(Path(path)), str(path)
    return pairs


def _negator_of(path: Path) -> str:
    """``spacy (faithful)`` from the ``sncse negate`` statistics beside ``path``; else the file's name."""
    from ..io import read_json
    from ..negation.driver import stats_path_for
    from ..registry import base_name

    stats_file = stats_path_for(path)
    stats = read_json(stats_file) if stats_file.is_file() else {}
    if isinstance(stats, dict) and stats.get("backend") and stats.get("mode"):
        return f"{base_name(str(stats['backend']))} ({stats['mode']})"
    return f"from {path.name}"


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


def display_names(models: Sequence[str]) -> list[str]:
    """A display name per model path: its folder name, or the whole path where two folder names collide."""
    names = [Path(m).name or m for m in models]
    return [m if names.count(n) > 1 else n for m, n in zip(models, names, strict=True)]


def negation_similarity(
    models: Mapping[str, Any] | Sequence[str],
    inputs: Sequence[str] | NegationPairs | str | Path,
    *,
    negator: str = "spacy",
    mode: str = "faithful",
    seed: int = 0,
    pooler: str | None = None,
    device: str = "auto",
    batch_size: int = 128,
    show_progress: bool = True,
    figure: str | Path | None = None,
) -> NegationSimilarity:
    """SNCSE's Figure 4 for ``models``: similarity of each sentence to its negation and to a random other.

    ``models``: ``{display name: SentenceEncoder or what sncse.load takes}``, or a list of paths/names
    (named by :func:`display_names`); paths are loaded one at a time (``pooler``, ``device``).
    ``inputs``: sentences (negated here with ``negator``/``mode``), ready :class:`NegationPairs`, or the
    path of a ``sncse negate`` JSON Lines file (:func:`read_pairs`). ``figure``: write the histograms
    there (``result.png``). ``seed`` picks the random negatives.
    """
    named = list(models.items()) if isinstance(models, Mapping) else list(zip(display_names(list(models)), models,
                                                                                  strict=True))
    if not named:
        raise SncseError("the negation analysis needs at least one model")
    if isinstance(inputs, NegationPairs):
        pairs = inputs
    elif isinstance(inputs, str | Path):
        pairs = read_pairs(inputs, seed=seed)
    else:
        pairs = negate_pairs(inputs, negator, mode, seed=seed)
    result = NegationSimilarity(pairs, negator=pairs.negator)
    for name, model in named:
        if isinstance(model, str | Path):
            from ..encoders.loading import load

            model = load(str(model), pooler=pooler, device=device)
        result.models.append(model_similarities(name, model, pairs, batch_size, show_progress))
        del model  # one model in memory at a time
    if figure is not None:
        Path(figure).parent.mkdir(parents=True, exist_ok=True)
        result.png = plot_negation_similarity(result, figure)
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
    fig, axes = new_figure(len(result.models), sharey=True, max_cols=4)  # rows of 4: eight models stay readable
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
    for i, ax in enumerate(axes):
        if i % 4 == 0:
            ax.set_ylabel("density")
    fig.suptitle(f"Sentence vs its negation and vs a random sentence ({len(result.pairs.sentences)} pairs, "
                 f"negator {result.negator})", fontsize=10)
    return save_png(fig, path)
