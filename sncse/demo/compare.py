"""What the demo page computes, as plain functions: a sentence, its soft negatives, a paraphrase, and
the cosine of each pair under every model (SNCSE's Figure 1 with the user's own sentences).

>>> demo = SoftNegativeDemo.load(["minilm", "runs/sncse"])            # doctest: +SKIP
>>> result = demo.compare("A man is playing a guitar.", "Someone plays the guitar.")   # doctest: +SKIP
>>> result.negations["faithful"], result.scores[0]                      # doctest: +SKIP

:meth:`SoftNegativeDemo.compare` raises :class:`~sncse.errors.SncseError` for a bad input (empty or
over-long text); :meth:`SoftNegativeDemo.respond` is what the page calls: the same, with every value
ready to show and a message instead of an exception. The Gradio page (:mod:`.app`) only wires these
to components.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..analyze.negation_sim import display_names
from ..errors import SncseError
from ..negation import MODES
from ..negation.parallel import build_negator
from ..search import index_corpus_file
from ..search.index import Hit, Index
from ..search.run import open_index
from .defaults import MAX_CHARS, TOP_K

log = logging.getLogger(__name__)

PARAPHRASE = "paraphrase"


def pair_label(kind: str) -> str:
    """The row label of the pair (sentence, ``kind``): ``paraphrase`` or a negation mode."""
    return "sentence vs paraphrase" if kind == PARAPHRASE else f"sentence vs soft negative ({kind})"


def check_bounds(max_chars: int, top_k: int) -> None:
    for setting, value in (("max_chars", max_chars), ("top_k", top_k)):
        if value < 1:
            raise SncseError(f"{setting} must be at least 1, got {value}", setting=setting)


@dataclass
class Comparison:
    """One sentence compared under every model: ``scores[i][j]`` is the cosine of pair ``pairs[i]``
    (``(kind, other text)``, ``kind`` = ``paraphrase`` or a negation mode) under ``models[j]``.
    ``neighbours``: the nearest corpus lines of the sentence per model (models without a corpus index
    are absent)."""

    sentence: str
    models: list[str]
    negations: dict[str, str]
    pairs: list[tuple[str, str]]
    scores: list[list[float]]
    neighbours: dict[str, list[Hit]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def score(self, kind: str, model: str) -> float:
        """The cosine of (sentence, ``kind``) under ``model``."""
        row = next(i for i, (k, _) in enumerate(self.pairs) if k == kind)
        return self.scores[row][self.models.index(model)]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """(headers, rows): one row per pair, one column per model, cosines to 4 decimals."""
        headers = ["pair", "other sentence", *self.models]
        rows = [[pair_label(kind), text, *(round(s, 4) for s in scores)]
                for (kind, text), scores in zip(self.pairs, self.scores, strict=True)]
        return headers, rows

    def neighbour_table(self) -> tuple[list[str], list[list[Any]]]:
        """(headers, rows): rank, then per model with a corpus index ``score  text (line N)``."""
        names = [m for m in self.models if m in self.neighbours]
        depth = max((len(self.neighbours[m]) for m in names), default=0)
        rows = []
        for r in range(depth):
            cells = []
            for m in names:
                hits = self.neighbours[m]
                cells.append(f"{hits[r].score:.4f}  {hits[r].text or ''} (line {hits[r].line})" if r < len(hits) else "")
            rows.append([r + 1, *cells])
        return ["rank", *names], rows

    def summary(self) -> str:
        """One line per model: does the paraphrase score above every soft negative?"""
        negs = [k for k, _ in self.pairs if k != PARAPHRASE]
        if not negs:
            return "The negator wrote no soft negative for this sentence."
        if not any(k == PARAPHRASE for k, _ in self.pairs):
            return "Type a paraphrase to see whether each model ranks it above the soft negatives."
        lines = []
        for m in self.models:
            closest = max(negs, key=lambda k: self.score(k, m))
            gap = self.score(PARAPHRASE, m) - self.score(closest, m)
            if gap > 0:
                lines.append(f"- **{m}**: the paraphrase scores above every soft negative "
                             f"(by {gap:.4f} over the {closest} one)")
            else:
                lines.append(f"- **{m}**: the {closest} soft negative scores above the paraphrase (by {-gap:.4f})")
        return "\n".join(lines)


@dataclass
class DemoView:
    """What the page shows for one input: the two negations, the score table, the neighbour table and
    a message (Markdown). ``ok`` is False when the input was refused (the message says why)."""

    ok: bool
    message: str
    negations: dict[str, str] = field(default_factory=dict)
    scores: tuple[list[str], list[list[Any]]] = field(default_factory=lambda: ([], []))
    neighbours: tuple[list[str], list[list[Any]]] = field(default_factory=lambda: ([], []))


class SoftNegativeDemo:
    """Models by display name, a negator per mode, and optionally corpus indexes per model."""

    def __init__(self, models: Mapping[str, Any], negators: Mapping[str, Any],
                 corpus: Mapping[str, Index] | None = None, max_chars: int = MAX_CHARS, top_k: int = TOP_K):
        if not models:
            raise SncseError("the demo needs at least one model")
        check_bounds(max_chars, top_k)
        self.models = dict(models)
        self.negators = dict(negators)
        self.corpus = dict(corpus or {})
        self.max_chars = max_chars
        self.top_k = top_k
        self._lock = threading.Lock()  # the models and negators serve one comparison at a time

    @property
    def names(self) -> list[str]:
        return list(self.models)

    @classmethod
    def load(cls, models: Sequence[str], corpus: str | Path | None = None, *, negator: str = "spacy",
             modes: Sequence[str] = MODES, pooler: str | None = None, device: str = "auto",
             max_chars: int = MAX_CHARS, top_k: int = TOP_K, batch_size: int = 128,
             show_progress: bool = True) -> SoftNegativeDemo:
        """Load ``models`` (what ``sncse.load`` reads), a ``negator`` per mode, and ``corpus``: a text
        or ``sncse negate`` file is embedded now with every model; an ``sncse encode`` ``.npy`` or a
        saved index is searched with the model it was embedded with (the one whose name matches its
        record, else the first model, with a warning)."""
        from ..encoders.loading import load

        check_bounds(max_chars, top_k)
        models = [str(m) for m in models]
        if len(set(models)) != len(models):
            raise SncseError("a model is named twice; give each model once")
        names = display_names(models)
        encoders = {name: load(model, pooler=pooler, device=device) for name, model in zip(names, models, strict=True)}
        negators = {mode: build_negator(negator, {"mode": mode, "max_chars": max_chars}) for mode in modes}
        indexes: dict[str, Index] = {}
        if corpus is not None:
            path = Path(corpus)
            if not path.exists():
                raise SncseError("no such file or folder", path=path)
            if path.is_dir() or path.suffix == ".npy":
                index = open_index(path)
                recorded = str(index.info.get("model") or "")
                matches = [n for n, m in zip(names, models, strict=True) if recorded and recorded in (m, n)]
                name = matches[0] if matches else names[0]
                if not matches:
                    log.warning("%s was embedded with %s, not one of the models given; searching it with %s",
                                path, recorded or "an unrecorded model", name)
                index.model = encoders[name]
                indexes[name] = index
            else:
                for name, encoder in encoders.items():
                    indexes[name] = index_corpus_file(encoder, path, batch_size=batch_size,
                                                      show_progress=show_progress)
        return cls(encoders, negators, indexes, max_chars=max_chars, top_k=top_k)

    def check(self, text: str, what: str, required: bool = True) -> str:
        """``text`` stripped, or an error when it is required and empty, or over ``max_chars``."""
        text = (text or "").strip()
        if required and not text:
            raise SncseError(f"type a {what} first")
        if len(text) > self.max_chars:
            raise SncseError(f"the {what} has {len(text):,} characters; the limit is {self.max_chars:,}")
        return text

    def negations(self, sentence: str) -> dict[str, str]:
        """The soft negative of ``sentence`` in each mode ("" where the negator skips it)."""
        return {mode: negator.negate([sentence])[0] for mode, negator in self.negators.items()}

    def compare(self, sentence: str, paraphrase: str = "") -> Comparison:
        """Negate ``sentence``; score it against its negations and ``paraphrase`` under every model."""
        sentence = self.check(sentence, "sentence")
        paraphrase = self.check(paraphrase, "paraphrase", required=False)
        with self._lock:
            return self._compare(sentence, paraphrase)

    def _compare(self, sentence: str, paraphrase: str) -> Comparison:
        negations = self.negations(sentence)
        pairs = [(PARAPHRASE, paraphrase)] if paraphrase else []
        pairs += [(mode, text) for mode, text in negations.items() if text]
        skipped = [mode for mode, text in negations.items() if not text]
        others = [text for _, text in pairs]
        scores = np.zeros((len(pairs), len(self.models)))
        neighbours: dict[str, list[Hit]] = {}
        for j, (name, model) in enumerate(self.models.items()):
            if others:
                scores[:, j] = model.similarity([sentence], others)[0]
            if name in self.corpus:
                neighbours[name] = self.corpus[name].search(sentence, k=self.top_k)[0]
        return Comparison(sentence, self.names, negations, pairs, scores.tolist(), neighbours, skipped)

    def respond(self, sentence: str, paraphrase: str = "") -> DemoView:
        """:meth:`compare`, ready to show; a bad input gives a message instead of an exception."""
        try:
            result = self.compare(sentence, paraphrase)
        except SncseError as exc:
            return DemoView(False, f"**Cannot compare:** {exc}")
        message = result.summary()
        if result.skipped:
            message += f"\n\nNo soft negative in {', '.join(result.skipped)} mode (the negator skipped the sentence)."
        return DemoView(True, message, result.negations, result.table(), result.neighbour_table())
