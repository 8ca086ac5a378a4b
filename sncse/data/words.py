"""Words of a sentence, as the negation-triplet builder and the word-overlap breakdown count them.

A sentence's words are its lower-cased runs of letters and digits (Unicode ``\\w`` without ``_``),
an apostrophe joining two runs (``isn't``, ``o'clock``) and the Moses clitic ``n't`` as words of their
own; everything else (punctuation, spaces) separates words. So ``"A man isn't playing."`` has the words
``a man isn't playing``, and SentEval's tokenized ``"a man is n't playing ."`` has ``a man is n't playing``.

Explicit negation cues (:data:`NEGATION_CUES`) are the words of sentential negation: ``not`` and the
clitic ``n't`` (alone or ending a word: ``isn't``, ``can't``), ``no``, ``never``, ``nobody``, ``none``,
``nothing``, ``nowhere``, ``neither``, ``nor``, ``cannot``. Lexical negation (``unhappy``), negative
verbs (``deny``) and ``without`` are not cues.
"""

from __future__ import annotations

import re

WORD = re.compile(r"n't|[^\W_]+(?:'[^\W_]+)*")
CLITIC = "n't"
NEGATION_CUES: frozenset[str] = frozenset({"not", CLITIC, "no", "never", "nobody", "none", "nothing", "nowhere",
                                           "neither", "nor", "cannot"})


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (see the module docstring), in order."""
    return WORD.findall(text.lower())


def negation_cues(text: str) -> list[str]:
    """The explicit negation cues among the words of ``text``, in order (``[]`` when it has none)."""
    return [w for w in words(text) if w in NEGATION_CUES or w.endswith(CLITIC)]
