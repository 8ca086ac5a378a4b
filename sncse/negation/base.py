"""The negator interface shared by every backend (spaCy built in, Stanza and third parties via plugins).

A negator turns sentences into their explicit negations, SNCSE's *soft negative samples*
(Wang et al., 2022, "SNCSE: Contrastive Learning for Unsupervised Sentence Embedding with Soft
Negative Samples", Sec. 3.1): "Tom and Jerry became good friends" -> "Tom and Jerry did not become good
friends". Two API levels:

* :class:`Negator` (a Protocol): ``negate(list[str]) -> list[str]``, what most callers need and all a
  third-party plugin has to implement.
* :class:`BranchingNegator`: also ``negate_with_branches(list[str]) -> list[NegationResult]``, the
  stripped sentence and the rule branch that fired (for statistics and tests), and which inputs were
  skipped. :func:`negate_with_branches` gives that view of any negator.

The built-in backends are constructed as ``cls(mode="faithful"|"improved", batch_size=..., max_chars=...)``;
the runner passes a plugin only the keyword arguments its constructor accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from ..errors import SncseError

MODES: tuple[str, ...] = ("faithful", "improved")

# Rule branches. Faithful mode uses the first block (one per branch of SNCSE's published script);
# improved mode the second. Both share the skip branches.
FAITHFUL_BRANCHES: tuple[str, ...] = (
    "not_deleted",    # the token "not" occurs: its first occurrence is deleted
    "aux",            # first aux/auxpass (before any ROOT): "<aux> not"
    "root_special",   # ROOT is one of am/is/was/are/were/can/could/will/would/shall/should/may/must/might
    "root_vbp",       # ROOT tagged VBP: "do not <lemma>"
    "root_vbz",       # ROOT tagged VBZ: "does not <lemma>"
    "root_vbd",       # ROOT tagged VBD: "did not <lemma>"
    "root_other",     # ROOT with any other tag: "Not" prepended
    "no_root",        # neither aux nor ROOT: "Not" prepended
    "blank",          # empty line: the original yields "Not" (faithful mode keeps it)
)
IMPROVED_BRANCHES: tuple[str, ...] = (
    "negation_removed",  # an existing negator (not, n't, never, no, nothing, nobody, ...) removed or flipped
    "aux",               # "not" after the main clause's first auxiliary / copula
    "copula_modal",      # the main verb is a copula or modal itself (found by lemma/POS): "<verb> not"
    "question",          # subject-auxiliary inversion in a question: "not" after the subject
    "do_support",        # a finite lexical verb: "do/does/did not <lemma>"
    "imperative",        # a subjectless base-form verb: "Do not <verb>"
    "prefix_not",        # no finite main verb found: "Not" prepended
)
SKIP_BRANCHES: frozenset[str] = frozenset({"blank_skipped", "too_long"})
"""Branches whose inputs are not written to the output (their negation is the empty string)."""


class NegationResult(NamedTuple):
    """One input's outcome: the stripped sentence, its negation and the rule branch that produced it."""

    sentence: str
    negation: str
    branch: str

    @property
    def skipped(self) -> bool:
        return self.branch in SKIP_BRANCHES


@runtime_checkable
class Negator(Protocol):
    """The minimal negator (what a third-party plugin must provide): the registry's ``negators``
    group hands out classes whose instances have ``negate``."""

    def negate(self, sentences: Sequence[str]) -> list[str]:
        """The negation of each sentence, in order ("" for a skipped input, see :data:`SKIP_BRANCHES`)."""
        ...


@runtime_checkable
class BranchingNegator(Negator, Protocol):
    """A negator that also reports which rule branch fired (the built-in backends)."""

    def negate_with_branches(self, sentences: Sequence[str]) -> list[NegationResult]:
        """Like :meth:`negate`, with the stripped sentence and the rule branch of each input."""
        ...


PLAIN_BRANCH = "negated"
"""Branch reported for negators that only implement ``negate``."""


def negate_with_branches(negator: Negator, sentences: Sequence[str]) -> list[NegationResult]:
    """``negator.negate_with_branches`` where it exists; else ``negate`` on the stripped sentences, with
    every result in branch :data:`PLAIN_BRANCH`."""
    if hasattr(negator, "negate_with_branches"):
        return negator.negate_with_branches(sentences)  # type: ignore[attr-defined]
    stripped = [s.strip() for s in sentences]
    negations = list(negator.negate(stripped))
    if len(negations) != len(stripped):
        raise SncseError(f"negator {type(negator).__name__} returned {len(negations)} negations for "
                         f"{len(stripped)} sentences")
    return [NegationResult(s, str(n), PLAIN_BRANCH) for s, n in zip(stripped, negations, strict=True)]


class BaseNegator:
    """Shared plumbing: mode validation and ``negate`` in terms of ``negate_with_branches``."""

    name: str = "base"
    mode: str

    def __init__(self, mode: str = "faithful") -> None:
        if mode not in MODES:
            raise SncseError(f"unknown negation mode '{mode}'; choose one of: {', '.join(MODES)}")
        self.mode = mode

    @property
    def branches(self) -> tuple[str, ...]:
        """The branch names this negator can report, in display order."""
        main = FAITHFUL_BRANCHES if self.mode == "faithful" else IMPROVED_BRANCHES
        return main + tuple(sorted(SKIP_BRANCHES))

    def describe(self) -> dict[str, str]:
        """Backend/model identification written into the stats and the resume metadata."""
        return {"backend": self.name, "mode": self.mode}

    def negate(self, sentences: Sequence[str]) -> list[str]:
        return [r.negation for r in self.negate_with_branches(sentences)]

    def negate_with_branches(self, sentences: Sequence[str]) -> list[NegationResult]:  # pragma: no cover
        raise NotImplementedError
