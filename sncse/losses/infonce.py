"""In-batch InfoNCE of unsupervised SimCSE."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import SIMCSE_CITATION, ContrastiveLoss, LossOutput, cosine_matrix


class InfoNCELoss(ContrastiveLoss):
    """SimCSE's unsupervised objective (Gao et al., EMNLP 2021, Eq. 1).

    The positive of a sentence is a second forward pass with a different dropout mask; every other
    sentence's positive in the (gathered) batch is a negative::

        l_i = -log  exp(cos(h_i, h+_i) / tau) / sum_{j=1..N} exp(cos(h_i, h+_j) / tau)

    i.e. cross-entropy over the (B, N) matrix of cos / tau with targets ``label_offset + i``, averaged
    over the local batch. Default tau = 0.05. ``parts``: ``{"infonce"}``.
    """

    name = "infonce"
    views = ("positive",)
    citations = (SIMCSE_CITATION,)
    title = "SimCSE unsup."
    short_title = "InfoNCE"
    description = "unsupervised SimCSE: InfoNCE over dropout views"

    def forward(
        self,
        anchor: torch.Tensor,  # (B, H)
        positive: torch.Tensor,  # (N, H)
        negation: torch.Tensor | None = None,  # unused
        hard_negative: torch.Tensor | None = None,  # unused
        label_offset: int = 0,
    ) -> LossOutput:
        self._check(anchor, positive, negation, hard_negative, label_offset)
        logits = cosine_matrix(anchor, positive) / self.temperature  # (B, N) fp32
        labels = self._labels(anchor.shape[0], label_offset, logits.device)  # (B,)
        loss = F.cross_entropy(logits, labels)
        return LossOutput(loss=loss, parts={"infonce": loss.detach()})
