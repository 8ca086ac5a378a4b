"""SNCSE ablation: the soft negative (negation) as an extra negative of its own sentence."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import LossOutput, cosine_rows
from .soft_negative import SoftNegativeBatch, SoftNegativeLoss


class NegativeNegationLoss(SoftNegativeLoss):
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
    title = "NL: negation as negative"
    short_title = "NL"
    description = "SNCSE ablation: the negated sentence as a hard negative (NL)"

    def soft_negative_loss(self, batch: SoftNegativeBatch) -> LossOutput:
        own_neg = cosine_rows(batch.anchor, batch.negation).unsqueeze(1) / self.temperature  # (B, 1)
        logits = torch.cat([batch.in_batch, own_neg], dim=1)  # (B, N + 1)
        loss = F.cross_entropy(logits, batch.labels)
        return LossOutput(loss=loss, parts={"nl": loss.detach()})
