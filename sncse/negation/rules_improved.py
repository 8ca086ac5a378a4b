"""Improved negation rules: what faithful mode gets wrong, fixed (``--mode improved``).

Faithful mode (:mod:`sncse.negation.rules_faithful`) reproduces SNCSE's script exactly, including its
mistakes. This module keeps the idea (Wang et al., 2022, Sec. 3.1: the soft negative is the explicit
negation of the sentence) and fixes, each with a before/after example in ``docs/negation.md``:

1. **Existing negation, any form.** The faithful rule only sees the exact token ``not``. Here the
   leftmost negator is removed or flipped: ``not``/``Not``/``NOT``, the clitic ``n't`` (repairing the
   host: ``ca``->``can``, ``wo``->``will``, ``sha``->``shall``, ``ai``->``is``), ``never``; and flipped:
   ``nothing``->``something``, ``nobody``->``somebody``, ``nowhere``->``somewhere``, ``none``->``some``,
   ``no one``->``someone``, determiner ``no``->``some``, ``no longer``->``still``.
2. **The main clause, not the first auxiliary.** The faithful scan takes the first ``aux`` anywhere
   (often inside a relative or adverbial clause); here the auxiliaries are the children of the first
   sentence's root (``to`` excluded).
3. **Copulas and modals by lemma/POS** (``lemma == "be"``, tag ``MD``, POS ``AUX``), not by a surface
   list, so ``'s``, ``'re``, ``'m``, ``'ll``, ``be``, ``need`` are handled.
4. **Questions** with subject-auxiliary inversion get ``not`` after the subject ("Is he not coming?").
5. **Imperatives** (a subjectless base-form verb) get ``Do not`` ("Do not close the door.").
6. **Original spacing kept**: the output is rebuilt from each token's text and trailing whitespace,
   so ``"doesn't."`` stays attached and no space appears before punctuation.

The rules see a backend-neutral token list (:class:`Tok`) whose labels may be spaCy's (``ROOT``,
``auxpass``, ``nsubjpass``) or Universal Dependencies' (``root``, ``aux:pass``, ``cop``); the label
sets below are unions of both schemes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Tok(NamedTuple):
    """One token (spaCy) or syntactic word (Stanza) as the improved rules see it."""

    text: str
    ws: str  # whitespace after the token in the original text
    dep: str
    tag: str  # Penn Treebank tag (spaCy tag_, UD xpos)
    pos: str  # universal POS
    lemma: str
    head: int  # index of the head token in the same list (itself for a root)
    sent: int  # sentence number within the line


ROOT_LABELS = frozenset({"ROOT", "root"})
AUX_LABELS = frozenset({"aux", "auxpass", "aux:pass"})
COP_LABELS = frozenset({"cop"})
SUBJ_LABELS = frozenset({"nsubj", "nsubjpass", "nsubj:pass", "csubj", "csubjpass", "csubj:pass", "expl"})
FINITE_DO = {"VBP": "do", "VBZ": "does", "VBD": "did"}

# Negators removed outright / replaced by a positive word.
_DELETE = frozenset({"not", "never"})
_CLITIC = frozenset({"n't", "n’t"})
_FLIP = {"nothing": "something", "nobody": "somebody", "nowhere": "somewhere", "none": "some"}
_HOST_REPAIR = {"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}
_NT_HOSTS = frozenset({"do", "does", "did", "is", "are", "was", "were", "have", "has", "had", "could", "would",
                       "should", "ca", "wo", "must", "need", "might"})
"""Hosts of a bare ``nt`` clitic (spaCy splits ``dont`` into ``do`` + ``nt``)."""
NEED_PARSE = -2
"""Returned by :func:`find_cue` when the leftmost candidate (``no``) needs dependency labels."""


def _match_case(word: str, model: str) -> str:
    """``word`` cased like ``model`` (UPPER, Capitalised or as is)."""
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def find_cue(texts: Sequence[str], wss: Sequence[str], deps: Sequence[str] | None) -> int:
    """Index of the leftmost negator, -1 if none, or :data:`NEED_PARSE` when ``deps`` is None and the
    leftmost candidate is ``no`` (determiner or not: only the parse tells)."""
    for i, text in enumerate(texts):
        low = text.lower()
        if low in _DELETE or low in _CLITIC or low in _FLIP:
            return i
        if low == "nt" and i > 0 and wss[i - 1] == "" and texts[i - 1].lower() in _NT_HOSTS:
            return i
        if low == "no":
            if deps is None:
                return NEED_PARSE
            nxt = texts[i + 1].lower() if i + 1 < len(texts) else ""
            if deps[i] == "det" or (nxt == "longer" and wss[i]):
                return i
    return -1



def remove_cue(texts: Sequence[str], wss: Sequence[str], i: int) -> str:
    """The sentence with negator ``i`` (found by :func:`find_cue`) removed or flipped."""
    texts, wss = list(texts), list(wss)
    low = texts[i].lower()
    nxt = texts[i + 1].lower() if i + 1 < len(texts) else ""
    if low in _FLIP:
        texts[i] = _match_case(_FLIP[low], texts[i])
    elif low == "no" and nxt == "one":
        texts[i], wss[i] = _match_case("some", texts[i]), ""
    elif low == "no" and nxt == "longer":
        texts[i] = _match_case("still", texts[i])
        wss[i] = wss[i + 1]
        del texts[i + 1], wss[i + 1]
    elif low == "no":
        texts[i] = _match_case("some", texts[i])
    else:  # not, n't, nt, never: delete, keep the spacing of what it followed
        if (low in _CLITIC or low == "nt") and i > 0:
            host = texts[i - 1]
            if host.lower() in _HOST_REPAIR:
                texts[i - 1] = _match_case(_HOST_REPAIR[host.lower()], host)
        capitalise_next = i == 0 or texts[i][:1].isupper()
        if i > 0:  # the host keeps the removed token's spacing ("doesn't go" -> "does go", "not." -> ".")
            wss[i - 1] = "" if texts[i - 1].isspace() else wss[i]
        del texts[i], wss[i]
        if capitalise_next and i < len(texts) and texts[i][:1].islower():
            texts[i] = texts[i][:1].upper() + texts[i][1:]
    return "".join(t + w for t, w in zip(texts, wss, strict=True))


def _subtree_right_edge(toks: Sequence[Tok], node: int) -> int:
    right = node
    for k in range(node + 1, len(toks)):
        j, steps = k, 0
        while j != node and toks[j].head != j and steps < len(toks):
            j, steps = toks[j].head, steps + 1
        if j == node:
            right = k
    return right


def _lower_first(tok: Tok) -> str:
    """A sentence-initial word lower-cased where it is not a name, ``I`` or an acronym."""
    t = tok.text
    if t == "I" or tok.tag in ("NNP", "NNPS") or (len(t) > 1 and not t[1:].islower()):
        return t
    return t[:1].lower() + t[1:]


def negate_clause(toks: Sequence[Tok]) -> tuple[str, str]:
    """``(negation, branch)`` for a sentence without an existing negator (rules 2-5 of the module doc)."""
    texts = [t.text for t in toks]
    wss = [t.ws for t in toks]
    first_sent = toks[0].sent
    sent_idx = [i for i, t in enumerate(toks) if t.sent == first_sent]
    start = sent_idx[0]
    root = next((i for i in sent_idx if toks[i].dep in ROOT_LABELS), None)
    branch = "prefix_not"
    if root is not None:
        children = [j for j in sent_idx if toks[j].head == root and j != root]
        subj = next((j for j in children if toks[j].dep in SUBJ_LABELS), None)
        auxes = [j for j in children if toks[j].dep in AUX_LABELS | COP_LABELS and toks[j].tag != "TO"]
        f = auxes[0] if auxes else root
        last = next((i for i in reversed(sent_idx) if not texts[i].isspace()), root)
        inverted = subj is not None and subj > f and texts[last] == "?"
        ft = toks[f]
        if subj is None and ft.tag == "VB" and (f == root or ft.dep in COP_LABELS) and ft.lemma != "do":
            branch = "imperative"
            if f == start:
                texts[f] = "Do not " + _lower_first(ft)
            else:
                texts[f] = "do not " + texts[f]
        elif auxes or ft.lemma == "be" or ft.tag == "MD" or ft.pos == "AUX":
            if inverted:
                branch = "question"
                texts[_subtree_right_edge(toks, subj)] += " not"
            else:
                branch = "aux" if (auxes and ft.dep not in COP_LABELS) else "copula_modal"
                texts[f] += " not"
        elif ft.tag in FINITE_DO:
            branch = "do_support"
            do = FINITE_DO[ft.tag]
            if f == start and ft.text[:1].isupper():
                do = do.capitalize()
            lead = " " if f > 0 and wss[f - 1] == "" and texts[f - 1][-1:].isalnum() else ""
            texts[f] = f"{lead}{do} not {ft.lemma}"
    if branch == "prefix_not":
        texts[start] = "Not " + _lower_first(toks[start])
    return "".join(t + w for t, w in zip(texts, wss, strict=True)), branch


def improved_negation(toks: Sequence[Tok]) -> tuple[str, str]:
    """``(negation, branch)`` for one parsed, non-empty line."""
    if not toks:
        return "", "blank_skipped"
    texts = [t.text for t in toks]
    wss = [t.ws for t in toks]
    cue = find_cue(texts, wss, [t.dep for t in toks])
    if cue >= 0:
        return remove_cue(texts, wss, cue), "negation_removed"
    return negate_clause(toks)
