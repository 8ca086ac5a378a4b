"""Soft negatives by rule-based negation (SNCSE, Wang et al., 2022, Sec. 3.1).

>>> from sncse import registry
>>> negator = registry.get("negators", "spacy")(mode="faithful")   # or "stanza", or a plugin
>>> negator.negate(["Tom and Jerry became good friends."])
['Tom and Jerry did not become good friends .']

Modules: :mod:`.base` (the :class:`Negator` protocol, branch names), :mod:`.rules_faithful` (SNCSE's
published rules), :mod:`.rules_improved`, :mod:`.spacy_backend` (:class:`SpacyNegator`),
:mod:`.parallel` (worker processes), :mod:`.driver` (``negate_file``: JSON Lines, resume, statistics),
:mod:`.formats` (the output formats).
Heavy imports (spaCy) happen only when a backend is built.
"""

from __future__ import annotations

from .base import (
    FAITHFUL_BRANCHES,
    IMPROVED_BRANCHES,
    MODES,
    PLAIN_BRANCH,
    SKIP_BRANCHES,
    BaseNegator,
    BranchingNegator,
    NegationResult,
    Negator,
    negate_with_branches,
)

__all__ = [
    "FAITHFUL_BRANCHES",
    "IMPROVED_BRANCHES",
    "MODES",
    "SKIP_BRANCHES",
    "PLAIN_BRANCH",
    "BaseNegator",
    "BranchingNegator",
    "NegationResult",
    "Negator",
    "negate_with_branches",
]
