"""SNCSE inside sentence-transformers: its losses for ``SentenceTransformerTrainer`` and negations as a
``datasets.Dataset`` (``pip install 'sncse[st]'``; see ``docs/sentence_transformers.md``).

>>> from sncse.st import SNCSELoss, negation_dataset, sentence_transformer
>>> model = sentence_transformer("minilm", pooler="mean")          # a stock SentenceTransformer
>>> train = negation_dataset(["A man is playing a guitar."])       # anchor, positive, soft_negative
>>> loss = SNCSELoss(model)                                         # then SentenceTransformerTrainer(...)

Modules: :mod:`.losses` (:class:`RegisteredLoss` over the ``sncse.losses`` registry and the named
losses), :mod:`.negations` (:func:`negation_dataset`), :mod:`.models` (:func:`sentence_transformer`).
"""

from __future__ import annotations

from ..errors import SncseError

try:
    import datasets  # noqa: F401
    import sentence_transformers  # noqa: F401
except ImportError as exc:
    raise SncseError(f"sncse.st needs sentence-transformers with its training dependencies ({exc.name} is "
                     "missing): pip install 'sncse[st]'") from None

from .losses import (  # noqa: E402
    COLUMN_OF_VIEW,
    NAMED_LOSSES,
    InfoNCELoss,
    MixCSELoss,
    NegativeNegationLoss,
    PositiveNegationLoss,
    RegisteredLoss,
    SNCSELoss,
    SupervisedSimCSELoss,
)
from .models import sentence_transformer  # noqa: E402
from .negations import negation_dataset  # noqa: E402

__all__ = [
    "COLUMN_OF_VIEW", "NAMED_LOSSES", "RegisteredLoss", "SNCSELoss", "PositiveNegationLoss", "NegativeNegationLoss",
    "MixCSELoss", "InfoNCELoss", "SupervisedSimCSELoss", "negation_dataset", "sentence_transformer",
]
