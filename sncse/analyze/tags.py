"""Heuristic tags for a sentence pair: the textual phenomena SNCSE (Section 5) links to feature suppression.

These are **heuristics** on surface tokens, meant to sort the worst pairs of an error analysis into
rough groups, not linguistic annotations:

- ``negation``: a negation cue (``not``, ``n't``, ``no``, ``never``, ``nothing``, ``nobody``, ``none``,
  ``neither``, ``nor``, ``nowhere``, ``cannot``, ``without``) on one side only. Double negation and a
  cue swapped for another one are not caught.
- ``word_order``: the same multiset of tokens in a different order ("a dog bites a man" / "a man bites a dog").
- ``low_overlap``: token-set Jaccard similarity ``|A & B| / |A | B|`` below 0.2.
- ``typo``: a token with no exact match on the other side lies within edit distance 2 (optimal string
  alignment: insertions, deletions, substitutions, adjacent transpositions) of a token of the other
  side that also has no exact match. Short English words are often one or two letters apart
  (``there``/``their``, ``talking``/``walking``), so the rule is narrowed: both tokens alphabetic, at
  least 4 letters, the same first letter, distance at most 1 when the shorter one has fewer than 8
  letters (2 from 8 letters on), and not an inflection: one stem a prefix of the other after stripping
  a common suffix (-s, -es, -ed, -ing, -er, -ly: ``plays``/``played``, ``run``/``running``), or
  man/men (``woman``/``women``). It still fires on some real word pairs (``than``/``that``).

Tokens: the text lower-cased, ``n't`` split off (``don't`` -> ``do n't``, as the Moses-tokenized STS
files already have it), then runs of letters and digits (punctuation is dropped).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

TAGS = ("negation", "word_order", "low_overlap", "typo")
NEGATION_CUES = frozenset({"not", "n't", "no", "never", "nothing", "nobody", "none", "neither", "nor",
                           "nowhere", "cannot", "without"})
LOW_OVERLAP = 0.2
MAX_TYPO_DISTANCE = 2
MIN_TYPO_LENGTH = 4
LONG_WORD = 8  # from this length on, distance 2 is allowed
_SUFFIXES = ("ing", "es", "ed", "er", "ly", "s")
_NT = re.compile(r"(?<=\w)n't\b")
_TOKEN = re.compile(r"n't|[^\W_]+")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens with ``n't`` split off; punctuation dropped."""
    return _TOKEN.findall(_NT.sub(" n't", text.lower()))


def has_negation(toks: list[str]) -> bool:
    return any(t in NEGATION_CUES for t in toks)


def jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = set(a), set(b)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 1.0


@lru_cache(maxsize=200_000)
def edit_distance(a: str, b: str, limit: int = MAX_TYPO_DISTANCE) -> int:
    """Optimal string alignment distance, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def is_inflection(a: str, b: str) -> bool:
    """Crude: same stem up to a prefix relation (play/plays/played/playing, run/running), or man/men."""
    sa, sb = _stem(a), _stem(b)
    if sa.startswith(sb) or sb.startswith(sa):
        return True
    return (a.endswith("man") and b == a[:-3] + "men") or (b.endswith("man") and a == b[:-3] + "men")


def typo_pairs(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    """Token pairs (from a, from b) that look like a misspelling of one another (see module docstring)."""
    sa, sb = set(a), set(b)
    ua = sorted(t for t in sa - sb if t.isalpha() and len(t) >= MIN_TYPO_LENGTH)
    ub = sorted(t for t in sb - sa if t.isalpha() and len(t) >= MIN_TYPO_LENGTH)
    out = []
    for x in ua:
        for y in ub:
            if x[0] != y[0]:
                continue
            limit = MAX_TYPO_DISTANCE if min(len(x), len(y)) >= LONG_WORD else 1
            if edit_distance(x, y) <= limit and not is_inflection(x, y):
                out.append((x, y))
    return out


def tag_pair(sentence1: str, sentence2: str) -> list[str]:
    """The heuristic tags of a pair, in ``TAGS`` order."""
    a, b = tokens(sentence1), tokens(sentence2)
    out: list[str] = []
    if has_negation(a) != has_negation(b):
        out.append("negation")
    if a != b and len(a) > 1 and Counter(a) == Counter(b):
        out.append("word_order")
    if (a or b) and jaccard(a, b) < LOW_OVERLAP:
        out.append("low_overlap")
    if typo_pairs(a, b):
        out.append("typo")
    return out
