"""Contrastive objectives: SimCSE InfoNCE, SNCSE (PL, NL, BML), MixCSE and supervised SimCSE.

Every loss is a :class:`ContrastiveLoss` registered in the ``sncse.losses`` entry-point group;
:func:`build_loss` builds one from the ``loss`` section of the config. See ``docs/losses.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import registry
from .base import ContrastiveLoss, LossOutput, cosine_matrix, cosine_rows
from .bml import BidirectionalMarginLoss
from .infonce import InfoNCELoss
from .mixcse import MixCSELoss
from .nl import NegativeNegationLoss
from .pl import PositiveNegationLoss
from .sup import SupervisedSimCSELoss

if TYPE_CHECKING:
    from ..config.schema import LossConfig

__all__ = [
    "ContrastiveLoss", "LossOutput", "cosine_matrix", "cosine_rows", "build_loss",
    "InfoNCELoss", "PositiveNegationLoss", "NegativeNegationLoss", "BidirectionalMarginLoss",
    "MixCSELoss", "SupervisedSimCSELoss",
]


def build_loss(cfg: LossConfig) -> ContrastiveLoss:
    """Look ``cfg.name`` up in the ``losses`` registry (``bml`` -> latest ``bml.vN``) and build it."""
    return registry.get_class("losses", cfg.name).from_config(cfg)
