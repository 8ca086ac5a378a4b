"""What SNCSE's three objectives (BML, PL, NL) share: an anchor, its in-batch positives and its
negation (the soft negative), checked, with the InfoNCE logits and targets over the positives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .base import SIMCSE_CITATION, SNCSE_CITATION, ContrastiveLoss, LossOutput, cosine_matrix


@dataclass(frozen=True)
class SoftNegativeBatch:
    """One process's checked inputs of a soft-negative loss."""

    anchor: torch.Tensor  # (B, H): h_i
    positive: torch.Tensor  # (N, H), gathered: h+_j
    negation: torch.Tensor  # (B, H), local: h#_i
    label_offset: int
    in_batch: torch.Tensor  # (B, N): cos(h_i, h+_j) / tau, no negations in it
    labels: torch.Tensor  # (B,): anchor i's positive is column label_offset + i

    @property
    def size(self) -> int:
        """B, the anchors of this process."""
        return self.anchor.shape[0]

    @property
    def own_positive(self) -> torch.Tensor:
        """(B, H): h+_i, each anchor's own positive."""
        return self.positive[self.label_offset : self.label_offset + self.size]


class SoftNegativeLoss(ContrastiveLoss):
    """Base of the losses on (anchor, positive, negation): :meth:`forward` checks the inputs and
    builds a :class:`SoftNegativeBatch`; a subclass implements :meth:`soft_negative_loss` on it."""

    views: ClassVar[tuple[str, ...]] = ("positive", "negation")
    citations: ClassVar[tuple[str, ...]] = (SNCSE_CITATION, SIMCSE_CITATION)

    def forward(
        self,
        anchor: torch.Tensor,  # (B, H)
        positive: torch.Tensor,  # (N, H), gathered
        negation: torch.Tensor | None = None,  # (B, H), local
        hard_negative: torch.Tensor | None = None,  # unused
        label_offset: int = 0,
    ) -> LossOutput:
        self._check(anchor, positive, negation, hard_negative, label_offset)
        assert negation is not None
        in_batch = cosine_matrix(anchor, positive) / self.temperature  # (B, N)
        labels = self._labels(anchor.shape[0], label_offset, in_batch.device)  # (B,)
        return self.soft_negative_loss(SoftNegativeBatch(anchor, positive, negation, label_offset, in_batch, labels))

    def soft_negative_loss(self, batch: SoftNegativeBatch) -> LossOutput:
        raise NotImplementedError
