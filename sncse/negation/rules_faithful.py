"""SNCSE's published negation rules, reproduced exactly (faithful mode).

Source of truth: ``generate_soft_negative_samples.py`` in the authors' repository (Sense-GVT/SNCSE,
commit 919b928), which produced the soft negatives of Wang et al. (2022). For each input line it

1. strips surrounding whitespace (``str.strip()``) and parses the line with spaCy's ``en_core_web_sm``;
2. takes the token texts (``str(token)``); if the exact, lower-case token ``not`` occurs, deletes its
   first occurrence and joins the remaining tokens with single spaces (nothing else changes);
3. otherwise scans the dependency labels (``token.dep_``) from the left; the first label that is
   ``aux``/``auxpass`` or ``ROOT`` decides:

   * ``aux``/``auxpass``: that token's text gets ``" not"`` appended;
   * ``ROOT``: if its text lower-cased is one of :data:`SPECIAL_WORDS`, ``" not"`` is appended;
     else by its fine-grained tag (``token.tag_``): ``VBP`` -> ``"do not " + lemma``, ``VBZ`` ->
     ``"does not " + lemma``, ``VBD`` -> ``"did not " + lemma`` (``token.lemma_`` replaces the token);
     any other tag -> ``"Not"`` is inserted as the first token;
   * neither label present (an empty line included): ``"Not"`` is inserted as the first token;

4. joins the tokens with single spaces (so ``"Not"`` alone for an empty line).

The functions here are backend-neutral: they see token texts, dependency labels and accessors for a
token's tag and lemma, so the Stanza plugin runs the same rules over Universal Dependencies with
``aux``/``aux:pass`` as auxiliaries and ``root``/``cop`` in the role of spaCy's ``ROOT`` (in UD the
copula is a dependent of the predicate, while spaCy makes it the ROOT).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

SPECIAL_WORDS: frozenset[str] = frozenset(
    {"am", "is", "was", "are", "were", "can", "could", "will", "would", "shall", "should", "may", "must", "might"}
)
"""ROOT words (lower-cased surface forms) that take a plain ``not`` after them."""

SPACY_AUX: frozenset[str] = frozenset({"aux", "auxpass"})
SPACY_ROOT: frozenset[str] = frozenset({"ROOT"})
UD_AUX: frozenset[str] = frozenset({"aux", "aux:pass"})
UD_ROOT: frozenset[str] = frozenset({"root", "cop"})

_DO_FORMS: dict[str, str] = {"VBP": "do not ", "VBZ": "does not ", "VBD": "did not "}
LEMMA_BRANCHES: frozenset[str] = frozenset({"root_vbp", "root_vbz", "root_vbd"})
"""Branches whose output needs the ROOT token's lemma (backends may compute lemmas only for these)."""


def plan_faithful(
    texts: Sequence[str],
    deps: Sequence[str],
    tag_of: Callable[[int], str],
    aux_labels: Collection[str] = SPACY_AUX,
    root_labels: Collection[str] = SPACY_ROOT,
) -> tuple[str, int]:
    """Which branch fires and at which token index (-1 where none): no lemma needed yet.

    ``texts`` and ``deps`` are the tokens' texts and dependency labels; ``tag_of(i)`` returns token
    ``i``'s fine-grained (PTB) tag and is called at most once.
    """
    if not texts:
        return "blank", -1
    if "not" in texts:
        return "not_deleted", texts.index("not")
    for i, dep in enumerate(deps):
        if dep in aux_labels:
            return "aux", i
        if dep in root_labels:
            if texts[i].lower() in SPECIAL_WORDS:
                return "root_special", i
            tag = tag_of(i)
            if tag in _DO_FORMS:
                return "root_" + tag.lower(), i
            return "root_other", -1
    return "no_root", -1


def render_faithful(texts: Sequence[str], branch: str, index: int, lemma: str | None = None) -> str:
    """The negation for a planned ``branch`` (``lemma`` is the ROOT's lemma for the do-support branches)."""
    tokens = list(texts)
    if branch == "not_deleted":
        del tokens[index]
    elif branch in ("aux", "root_special"):
        tokens[index] += " not"
    elif branch in LEMMA_BRANCHES:
        if lemma is None:
            raise ValueError(f"branch {branch} needs the lemma of token {index}")
        tokens[index] = _DO_FORMS[branch[-3:].upper()] + lemma
    else:  # root_other, no_root, blank
        tokens.insert(0, "Not")
    return " ".join(tokens)


def faithful_negation(
    texts: Sequence[str],
    deps: Sequence[str],
    tags: Sequence[str],
    lemmas: Sequence[str],
    aux_labels: Collection[str] = SPACY_AUX,
    root_labels: Collection[str] = SPACY_ROOT,
) -> tuple[str, str]:
    """``(negation, branch)`` from complete per-token lists (the simple, eager form of the rules)."""
    branch, index = plan_faithful(texts, deps, tags.__getitem__, aux_labels, root_labels)
    lemma = lemmas[index] if branch in LEMMA_BRANCHES else None
    return render_faithful(texts, branch, index, lemma), branch
