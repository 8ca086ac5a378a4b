"""SNCSE ablation: the soft negative (negation) as an extra negative of its own sentence."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import SIMCSE_CITATION, SNCSE_CITATION, ContrastiveLoss, LossOutput, cosine_matrix, cosine_rows


class NegativeNegationLoss(ContrastiveLoss):
    """"NL" of SNCSE (Wang et al., 2022, arXiv:2201.05979, Eq. 9): the negation ``h#_i`` of sentence i
    is one more negative for anchor i only (not for the other anchors)::

        l_i = -log  e^{s(i,i+)} / ( sum_{j=1..N} e^{s(i,j+)} + e^{s(i,i#)} ),   s(a,b) = cos(h_a, h_b) / tau

    Logits: the (B, N) in-batch matrix with one extra column holding ``cos(h_i, h#_i)/tau`` on row i,
    i.e. (B, N+1); cross-entropy with targets ``label_offset + i``. ``parts``: ``{"nl"}``.

    Confirmed against the authors' code (github.com/Sense-GVT/SNCSE, ``SNCSE/simcse/models.py``,
    ``cl_forward``, the commented block "Negative loss to take soft negative samples as pure negative
    samples"): ``cos_sim = cat([sim(z1, z2^T), sim(z1, z3).view(-1, 1)], 1)``, CE with ``arange``
    labels, and this loss *replaces* InfoNCE + BML (no BML term). The equation text of the paper
    itself could not be retrieved here.
    """

    name = "nl"
    views = ("positive", "negation")
    citations = (SNCSE_CITATION, SIMCSE_CITATION)
    title = "NL: negation as negative"
    short_title = "NL"
    description = "SNCSE ablation: the negated sentence as a hard negative (NL)"

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
        own_neg = cosine_rows(anchor, negation).unsqueeze(1) / self.temperature  # (B, 1)
        logits = torch.cat([in_batch, own_neg], dim=1)  # (B, N + 1)
        labels = self._labels(anchor.shape[0], label_offset, logits.device)  # (B,)
        loss = F.cross_entropy(logits, labels)
        return LossOutput(loss=loss, parts={"nl": loss.detach()})
