"""SNCSE ablation: the soft negative (negation) treated as a positive."""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .base import SIMCSE_CITATION, SNCSE_CITATION, ContrastiveLoss, LossOutput, cosine_matrix, cosine_rows

PLForm = Literal["code", "joint"]


class PositiveNegationLoss(ContrastiveLoss):
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
    views = ("positive", "negation")
    citations = (SNCSE_CITATION, SIMCSE_CITATION)
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
        b = anchor.shape[0]
        in_batch = cosine_matrix(anchor, positive) / self.temperature  # (B, N)
        labels = self._labels(b, label_offset, in_batch.device)  # (B,)
        if self.form == "code":
            infonce = F.cross_entropy(in_batch, labels)
            neg_logits = cosine_matrix(anchor, negation) / self.temperature  # (B, B)
            pl = F.cross_entropy(neg_logits, self._labels(b, 0, neg_logits.device))
            loss = infonce + pl
            return LossOutput(loss=loss, parts={"infonce": infonce.detach(), "pl": pl.detach()})
        own = cosine_rows(anchor, negation).unsqueeze(1) / self.temperature  # (B, 1)
        logits = torch.cat([in_batch, own], dim=1)  # (B, N + 1)
        rows = torch.arange(b, device=logits.device)
        numerator = torch.logaddexp(logits[rows, labels], logits[:, -1])  # (B,) log(e^{s(i,i+)} + e^{s(i,i#)})
        loss = (torch.logsumexp(logits, dim=1) - numerator).mean()
        return LossOutput(loss=loss, parts={"pl": loss.detach()})
