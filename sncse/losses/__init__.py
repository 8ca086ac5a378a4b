"""Contrastive objectives: SimCSE InfoNCE, SNCSE (PL, NL, BML), MixCSE and supervised SimCSE.

Every loss is a :class:`ContrastiveLoss` registered in the ``sncse.losses`` entry-point group;
:func:`build_loss` builds one from the ``loss`` section of the config. See ``docs/losses.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import ContrastiveLoss, LossOutput, cosine_matrix, cosine_rows
from .bml import BidirectionalMarginLoss
from .infonce import InfoNCELoss
from .mixcse import MixCSELoss
from .nl import NegativeNegationLoss
from .pl import PositiveNegationLoss
from .sup import SupervisedSimCSELoss

if TYPE_CHECKING:
    from ..config import LossConfig

__all__ = [
    "ContrastiveLoss", "LossOutput", "cosine_matrix", "cosine_rows", "build_loss",
    "InfoNCELoss", "PositiveNegationLoss", "NegativeNegationLoss", "BidirectionalMarginLoss",
    "MixCSELoss", "SupervisedSimCSELoss",
]


def build_loss(cfg: LossConfig) -> ContrastiveLoss:
    """Look ``cfg.name`` up in the ``losses`` registry (``bml`` -> latest ``bml.vN``) and build it."""
    from .. import registry
    from ..errors import RegistryError

    cls = registry.get("losses", cfg.name)
    if not (isinstance(cls, type) and issubclass(cls, ContrastiveLoss)):
        raise RegistryError(f"loss '{cfg.name}' is registered as {cls!r}, which is not a ContrastiveLoss")
    return cls.from_config(cfg)
