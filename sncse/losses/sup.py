"""Supervised SimCSE on NLI triplets with the contradiction as a hard negative."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import SIMCSE_CITATION, ContrastiveLoss, LossOutput, cosine_matrix


class SupervisedSimCSELoss(ContrastiveLoss):
    """Supervised SimCSE (Gao et al., EMNLP 2021, Eq. 5): (premise, entailment, contradiction) triplets;
    every entailment ``h+_j`` and every contradiction ``h-_j`` of the (gathered) batch is a candidate::

        l_i = -log  e^{s(i,i+)} / sum_{j=1..N} ( e^{s(i,j+)} + e^{s(i,j-) + w * 1[j = i]} )

    with ``s(a,b) = cos(h_a, h_b) / tau`` and ``w = hard_negative_weight`` (a log-weight added to
    each anchor's own contradiction; SimCSE's ``hard_negative_weight``, default 0). Logits (B, 2N) =
    ``[cos(h_i, h+_j)/tau]_j ++ [cos(h_i, h-_j)/tau + w 1(j = label_offset + i)]_j``, cross-entropy with
    targets ``label_offset + i``. ``parts``: ``{"sup"}``.

    Matches SimCSE's ``cl_forward`` (princeton-nlp/SimCSE ``simcse/models.py``; the same block is in
    BDBC-KG-NLP/MixCSE_AAAI2022 ``mixcse/models_mix.py``): ``cat([sim(z1, z2), sim(z1, z3)], 1)`` plus
    the ``z3_weight`` on the diagonal of the second block.
    """

    name = "sup"
    views = ("positive", "hard_negative")
    citations = (SIMCSE_CITATION,)
    title = short_title = "SimCSE sup."
    description = "supervised SimCSE: NLI entailment positives and contradiction hard negatives"
    parameter_titles = {"hard_negative_weight": "hard negative weight"}

    def __init__(self, temperature: float = 0.05, hard_negative_weight: float = 0.0) -> None:
        super().__init__(temperature)
        self.hard_negative_weight = float(hard_negative_weight)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, hard_negative_weight={self.hard_negative_weight}"

    def forward(
        self,
        anchor: torch.Tensor,  # (B, H)
        positive: torch.Tensor,  # (N, H), gathered
        negation: torch.Tensor | None = None,  # unused
        hard_negative: torch.Tensor | None = None,  # (N, H), gathered like positive
        label_offset: int = 0,
    ) -> LossOutput:
        self._check(anchor, positive, negation, hard_negative, label_offset)
        assert hard_negative is not None
        b = anchor.shape[0]
        pos_logits = cosine_matrix(anchor, positive) / self.temperature  # (B, N)
        neg_logits = cosine_matrix(anchor, hard_negative) / self.temperature  # (B, N)
        labels = self._labels(b, label_offset, pos_logits.device)  # (B,)
        if self.hard_negative_weight != 0.0:
            weight = torch.zeros_like(neg_logits)
            weight[torch.arange(b, device=weight.device), labels] = self.hard_negative_weight
            neg_logits = neg_logits + weight
        logits = torch.cat([pos_logits, neg_logits], dim=1)  # (B, 2N)
        loss = F.cross_entropy(logits, labels)
        return LossOutput(loss=loss, parts={"sup": loss.detach()})
