"""SNCSE: InfoNCE plus the bidirectional margin loss on soft negatives."""

from __future__ import annotations

import torch.nn.functional as F

from ..errors import ConfigError
from .base import LossOutput, cosine_rows
from .soft_negative import SoftNegativeBatch, SoftNegativeLoss


class BidirectionalMarginLoss(SoftNegativeLoss):
    """SNCSE's objective (Wang et al., 2022, arXiv:2201.05979): InfoNCE + lambda * BML.

    With ``h`` the anchor, ``h+`` its dropout positive and ``h#`` its negation (soft negative)::

        Delta_i = cos(h_i, h#_i) - cos(h_i, h+_i)
        BML     = mean_i [ ReLU(Delta_i + alpha) + ReLU(-Delta_i - beta) ]
        L       = InfoNCE(h, h+) + lambda * BML

    BML is zero iff ``-beta <= Delta_i <= -alpha``: the negation must be *less* similar to the anchor
    than the positive, by at least alpha and at most beta. The soft negatives are kept OUT of the
    InfoNCE denominator (InfoNCE is the plain SimCSE loss over (B, N) in-batch logits).
    Defaults: alpha 0.1, beta 0.3, lambda 1e-3 (BERT; 5e-4 for RoBERTa), tau 0.05.
    ``parts``: ``{"infonce", "bml"}`` (``bml`` unweighted).

    Confirmed against the authors' code (github.com/Sense-GVT/SNCSE, ``SNCSE/simcse/models.py``,
    ``cl_forward``): ``temp = cos(z1, z3) - cos(z1, z2)``;
    ``loss1 = mean(relu(temp + alpha) + relu(-temp - beta))``; ``loss += loss1 * lambda_`` where
    ``loss`` is the CE over ``sim(z1, z2^T)`` only; z1, z2, z3 are the training outputs (after the
    training-only MLP), and the mean is over the batch. Defaults from the same file (alpha 0.1,
    beta 0.3, lambda 1e-3 BERT / 5e-4 RoBERTa).
    """

    name = "bml"
    title = short_title = "SNCSE"
    description = "SNCSE: InfoNCE with soft negatives (negated sentences) plus the bidirectional margin loss (BML)"
    parameter_titles = {"alpha": "alpha (BML lower margin)", "beta": "beta (BML upper margin)",
                        "bml_weight": "lambda (BML weight)"}
    has_bml = True

    def __init__(
        self, temperature: float = 0.05, alpha: float = 0.1, beta: float = 0.3, bml_weight: float = 1e-3
    ) -> None:
        super().__init__(temperature)
        if alpha > beta:
            raise ConfigError(
                f"loss 'bml': alpha ({alpha}) must not exceed beta ({beta}); BML is zero only for "
                "-beta <= cos(h,h#) - cos(h,h+) <= -alpha"
            )
        if bml_weight < 0:
            raise ConfigError(f"loss 'bml': bml_weight must be >= 0, got {bml_weight}")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.bml_weight = float(bml_weight)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, alpha={self.alpha}, beta={self.beta}, bml_weight={self.bml_weight}"

    def part_weights(self) -> dict[str, float]:
        return {"infonce": 1.0, "bml": self.bml_weight}

    def soft_negative_loss(self, batch: SoftNegativeBatch) -> LossOutput:
        infonce = F.cross_entropy(batch.in_batch, batch.labels)
        delta = cosine_rows(batch.anchor, batch.negation) - cosine_rows(batch.anchor, batch.own_positive)  # (B,)
        bml = (F.relu(delta + self.alpha) + F.relu(-delta - self.beta)).mean()
        loss = infonce + self.bml_weight * bml
        return LossOutput(loss=loss, parts={"infonce": infonce.detach(), "bml": bml.detach()})
