"""Stanza negator (registered as ``negators/stanza.v1`` through the entry-point group, like any plugin).

SNCSE's rules over Universal Dependencies parses from Stanza (Qi et al., 2020):

* faithful mode: :mod:`sncse.negation.rules_faithful` with UD labels: ``aux``/``aux:pass`` are the
  auxiliaries; ``root`` and ``cop`` play spaCy's ``ROOT`` (UD attaches the copula to its predicate,
  spaCy makes the copula the ROOT, so "He is tall" is decided on ``is`` by both); PTB tags from
  ``xpos``; lemmas from ``lemma``. Words are the syntactic words after multi-word-token expansion
  (``don't`` -> ``do`` + ``n't``, as spaCy's tokenizer splits it).
* improved mode: :mod:`sncse.negation.rules_improved` on the same words, with each token's
  ``spaces_after`` as spacing.

Stanza's models are never downloaded here. Without them the pipeline raises a
:class:`~sncse.errors.SncseError` that says how to get them (``stanza.download('en')``). The rules
themselves need no model: :meth:`StanzaNegator.negate_documents` takes parsed ``stanza.Document``
objects, for example from CoNLL-U (``stanza.utils.conll.CoNLL.conll2doc(input_str=...)``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sncse.errors import SncseError
from sncse.negation.base import BaseNegator, NegationResult
from sncse.negation.rules_faithful import UD_AUX, UD_ROOT, faithful_negation
from sncse.negation.rules_improved import Tok, improved_negation

log = logging.getLogger(__name__)

PROCESSORS = "tokenize,mwt,pos,lemma,depparse"
DOWNLOAD_HINT = "python -c \"import stanza; stanza.download('en')\""


def default_resources_dir() -> Path:
    """Where Stanza looks for models: ``$STANZA_RESOURCES_DIR`` or Stanza's own default."""
    env = os.environ.get("STANZA_RESOURCES_DIR")
    if env:
        return Path(env).expanduser()
    try:
        from stanza.resources.common import DEFAULT_MODEL_DIR
    except ImportError:  # pragma: no cover - stanza missing is reported by the caller
        return Path("~/stanza_resources").expanduser()
    return Path(DEFAULT_MODEL_DIR).expanduser()


def models_available(lang: str = "en", resources_dir: str | Path | None = None) -> bool:
    """True when Stanza's resources index and the ``lang`` model folder exist (nothing is downloaded)."""
    root = Path(resources_dir).expanduser() if resources_dir else default_resources_dir()
    return (root / "resources.json").is_file() and (root / lang).is_dir()


def document_words(doc: Any) -> list[tuple[Any, str]]:
    """Every syntactic word of a ``stanza.Document`` with the whitespace after it (``""`` inside a
    multi-word token; the token's ``spaces_after`` after its last word; nothing after the last word)."""
    out: list[tuple[Any, str]] = []
    for sent in doc.sentences:
        for token in sent.tokens:
            words = token.words
            for k, word in enumerate(words):
                out.append((word, (token.spaces_after or "") if k == len(words) - 1 else ""))
    if out:
        out[-1] = (out[-1][0], "")
    return out


def document_toks(doc: Any) -> list[Tok]:
    """The improved rules' view of a ``stanza.Document`` (heads made document-relative)."""
    toks: list[Tok] = []
    offset = 0
    for s_idx, sent in enumerate(doc.sentences):
        base = offset
        for token in sent.tokens:
            words = token.words
            for k, w in enumerate(words):
                ws = (token.spaces_after or "") if k == len(words) - 1 else ""
                idx = base + int(w.id) - 1
                head = base + int(w.head) - 1 if w.head else idx
                toks.append(Tok(w.text, ws, w.deprel or "", w.xpos or "", w.upos or "", w.lemma or w.text, head,
                                s_idx))
        offset += len(sent.words)
    if toks:
        toks[-1] = toks[-1]._replace(ws="")
    return toks


class StanzaNegator(BaseNegator):
    """SNCSE's negation rules over Stanza UD parses.

    Args:
        mode: ``"faithful"`` or ``"improved"``.
        batch_size: documents per Stanza bulk call.
        max_chars: lines longer than this are skipped (branch ``too_long``); default 1,000,000 as spaCy.
        lang: Stanza language code (the rules are English).
        resources_dir: Stanza's model folder (default ``$STANZA_RESOURCES_DIR`` or Stanza's default).
        use_gpu: let Stanza use a GPU.

    The Stanza pipeline is built on first use; ``negate_documents`` never needs it.
    """

    name = "stanza"

    def __init__(
        self,
        mode: str = "faithful",
        batch_size: int = 64,
        max_chars: int | None = None,
        lang: str = "en",
        resources_dir: str | Path | None = None,
        use_gpu: bool = False,
        model: str | None = None,
    ) -> None:
        super().__init__(mode)
        self.batch_size = max(1, int(batch_size))
        self.max_chars = int(max_chars) if max_chars is not None else 1_000_000
        self.lang = lang
        # ``model`` is the CLI's generic --model: for Stanza it names the resources folder.
        self.resources_dir = Path(resources_dir or model).expanduser() if (resources_dir or model) else None
        self.use_gpu = use_gpu
        self._pipeline: Any = None

    def describe(self) -> dict[str, str]:
        return {"backend": self.name, "mode": self.mode, "lang": self.lang,
                "resources": str(self.resources_dir or default_resources_dir())}

    @property
    def pipeline(self) -> Any:
        """The Stanza pipeline (tokenize, mwt, pos, lemma, depparse); a clear error without models."""
        if self._pipeline is None:
            try:
                import stanza
            except ImportError:
                raise SncseError("the stanza backend needs the stanza package: pip install 'sncse[stanza]'") from None
            root = self.resources_dir or default_resources_dir()
            if not models_available(self.lang, root):
                raise SncseError(f"Stanza models for '{self.lang}' not found in {root}; download them once with "
                                 f"{DOWNLOAD_HINT} (sncse never downloads models)")
            try:
                self._pipeline = stanza.Pipeline(
                    lang=self.lang, dir=str(root), processors=PROCESSORS, download_method=None,
                    use_gpu=self.use_gpu, logging_level="WARN",
                )
            except (OSError, ValueError, KeyError) as exc:  # incomplete model folder
                raise SncseError(f"could not load the Stanza '{self.lang}' pipeline from {root} ({exc}); "
                                 f"download the models with {DOWNLOAD_HINT}") from None
        return self._pipeline

    # -- rules on parsed documents (no model needed) ------------------------------------------------
    def negate_document(self, doc: Any) -> tuple[str, str]:
        """``(negation, branch)`` for one parsed ``stanza.Document`` holding one input line."""
        if self.mode == "faithful":
            words = [w for w, _ in document_words(doc)]
            return faithful_negation([w.text for w in words], [w.deprel or "" for w in words],
                                     [w.xpos or "" for w in words], [w.lemma or w.text for w in words],
                                     aux_labels=UD_AUX, root_labels=UD_ROOT)
        toks = document_toks(doc)
        if not toks:
            return "", "blank_skipped"
        return improved_negation(toks)

    def negate_documents(self, docs: Sequence[Any]) -> list[NegationResult]:
        """Results for parsed documents (the sentence is the document's text, or its words joined)."""
        out = []
        for doc in docs:
            text = doc.text if getattr(doc, "text", None) else "".join(
                w.text + ws for w, ws in document_words(doc))
            neg, branch = self.negate_document(doc)
            out.append(NegationResult(text.strip(), neg, branch))
        return out

    # -- raw text -------------------------------------------------------------------------------------
    def negate_with_branches(self, sentences: Sequence[str]) -> list[NegationResult]:
        stripped = [s.strip() for s in sentences]
        pairs: list[tuple[str, str] | None] = [None] * len(stripped)
        todo: list[int] = []
        for k, s in enumerate(stripped):
            if len(s) > self.max_chars:
                pairs[k] = ("", "too_long")
            elif not s:
                pairs[k] = ("Not", "blank") if self.mode == "faithful" else ("", "blank_skipped")
            else:
                todo.append(k)
        if todo:
            import stanza

            nlp = self.pipeline
            for start in range(0, len(todo), self.batch_size):
                idx = todo[start:start + self.batch_size]
                docs = nlp([stanza.Document([], text=stripped[k]) for k in idx])
                for k, doc in zip(idx, docs, strict=True):
                    pairs[k] = self.negate_document(doc)
        return [NegationResult(s, neg, branch) for s, (neg, branch) in zip(stripped, pairs, strict=True)]  # type: ignore[misc]
