"""SNCSE ablation: the soft negative (negation) treated as a positive."""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .base import LossOutput, cosine_matrix, cosine_rows
from .soft_negative import SoftNegativeBatch, SoftNegativeLoss

PLForm = Literal["code", "joint"]


class PositiveNegationLoss(SoftNegativeLoss):
    """"PL" of SNCSE (Wang et al., 2022, arXiv:2201.05979, Eq. 8): the negation ``h#_i`` of sentence i
    is taken as a (pure) positive of anchor i. With ``s(a,b) = cos(h_a, h_b) / tau``:

    ``form="code"`` (default; what the authors' code computes)::

        L = InfoNCE(h, h+) + InfoNCE(h, h#)
          = mean_i [ -log e^{s(i,i+)} / sum_{j=1..N} e^{s(i,j+)} ]
          + mean_i [ -log e^{s(i,i#)} / sum_{k=1..B} e^{s(i,k#)} ]

      The second term is an in-batch InfoNCE whose candidates are the B *local* negations (negations
      are never gathered across processes), targets ``i``. ``parts``: ``{"infonce", "pl"}``.

    ``form="joint"`` (one softmax with two positives in the numerator; the natural reading of
    "an extra positive")::

        l_i = -log ( e^{s(i,i+)} + e^{s(i,i#)} ) / ( sum_{j=1..N} e^{s(i,j+)} + e^{s(i,i#)} )

      ``parts``: ``{"pl"}``.

    Source: the authors' code (github.com/Sense-GVT/SNCSE, ``SNCSE/simcse/models.py``, ``cl_forward``,
    commented block "Positive loss to take soft negative samples as pure positive samples"):
    ``cos_sim = sim(z1, z3^T)``, CE with ``arange`` labels, ``loss += loss1`` on top of the InfoNCE of
    (z1, z2), without BML. That is ``form="code"``. The paper's Eq. 8 text could not be retrieved here,
    so ``form="joint"`` is offered for comparison (``loss.pl.form: joint``).
    """

    name = "pl"
    title = "PL: negation as positive"
    short_title = "PL"
    description = "SNCSE ablation: the negated sentence as a positive (PL)"

    def __init__(self, temperature: float = 0.05, form: PLForm = "code") -> None:
        super().__init__(temperature)
        if form not in get_args(PLForm):
            raise ConfigError(f"loss 'pl': form must be one of {'|'.join(get_args(PLForm))}, got {form!r}")
        self.form: PLForm = form

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, form={self.form!r}"

    def soft_negative_loss(self, batch: SoftNegativeBatch) -> LossOutput:
        if self.form == "code":
            infonce = F.cross_entropy(batch.in_batch, batch.labels)
            neg_logits = cosine_matrix(batch.anchor, batch.negation) / self.temperature  # (B, B)
            pl = F.cross_entropy(neg_logits, self._labels(batch.size, 0, neg_logits.device))
            loss = infonce + pl
            return LossOutput(loss=loss, parts={"infonce": infonce.detach(), "pl": pl.detach()})
        own = cosine_rows(batch.anchor, batch.negation).unsqueeze(1) / self.temperature  # (B, 1)
        logits = torch.cat([batch.in_batch, own], dim=1)  # (B, N + 1)
        rows = torch.arange(batch.size, device=logits.device)
        numerator = torch.logaddexp(logits[rows, batch.labels], logits[:, -1])  # (B,) log(e^{s(i,i+)} + e^{s(i,i#)})
        loss = (torch.logsumexp(logits, dim=1) - numerator).mean()
        return LossOutput(loss=loss, parts={"pl": loss.detach()})
