"""MixCSE: InfoNCE with extra negatives mixed from positives (and from anchors)."""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .base import MIXCSE_CITATION, SIMCSE_CITATION, ContrastiveLoss, LossOutput, cosine_matrix, to_fp32

MixMask = Literal["zero", "remove"]


class MixCSELoss(ContrastiveLoss):
    """MixCSE (Zhang et al., AAAI 2022): each anchor's in-batch row gets two blocks of logits against
    *mixed* negatives, built from the detached training outputs with weight ``lam`` (0.2)::

        m_j  = lam * z+_j + (1 - lam) * z+_{(j+1) mod N}     j = 0..N-1  (mixtures of positives)
        m'_i = lam * z_i  + (1 - lam) * z_{(i+1) mod B}      i = 0..B-1  (mixtures of anchors)

        row i = [ cos(z_i, z+_j)/tau ]_j  ++  [ cos(z_i, m_j)/tau ]_j  ++  [ cos(m'_i, z+_j)/tau ]_j   (B, 3N)

        L = CE(rows, targets label_offset + i)

    The mixtures carry no gradient (``.detach()``), so block 2 sends gradient to the anchors only and
    block 3 to the positives only. Cosine normalises, so mixing unnormalised vectors (as the original
    does) and mixing then normalising give the same logits.

    Masking. In block 2 the entry (i, c-1), c = label_offset + i (mod N), is ``m_{c-1} = lam z+_{c-1}
    + 0.8 z+_c``: mostly the anchor's *own* positive. In block 3 the entry (i, label_offset + (i+1 mod B))
    is ``m'_i`` (mostly ``z_{i+1}``) against ``z+_{i+1}``: mostly a positive pair. These would be false
    negatives:

    * ``mix_mask="zero"`` (default, the original): the logit is multiplied by 0, i.e. it becomes a
      logit of 0 that still counts in the softmax denominator (as e^0 = 1);
    * ``mix_mask="remove"``: the logit is set to -inf, removing it from the denominator.

    Confirmed against the authors' code (github.com/BDBC-KG-NLP/MixCSE_AAAI2022,
    ``mixcse/models_mix.py``, ``cl_forward``): ``z3 = cat([z2[1:], z2[:1]])``,
    ``z3 = (lam*z2 + (1-lam)*z3).detach()``, ``z1_z3_cos = sim(z1, z3^T)``, mask = identity shifted
    down one row (zeros (i, i-1)), multiplied in; ``z4 = cat([z1[1:], z1[:1]])``,
    ``z4 = (lam*z1 + (1-lam)*z4).detach()``, ``z4_z2_cos = sim(z4, z2^T)``, mask = identity shifted
    right one column (zeros (i, i+1)); ``Similarity`` is ``nn.CosineSimilarity / temp`` on the
    unnormalised vectors; CE with ``arange`` labels over the concatenation. The original also adds
    ``hard_negative_weight`` to the diagonal of both mixed blocks; that is 0 in unsupervised runs and is
    not applied here.

    Multi-process note: the original all-gathers anchors as well, so there ``m'_i`` of a process's last
    anchor mixes in the next process's first anchor. Here anchors are local, so ``m'`` wraps within the
    local batch; with one process the two are identical. Block 2 wraps over all N gathered positives,
    as the original.
    """

    name = "mixcse"
    views = ("positive",)
    citations = (MIXCSE_CITATION, SIMCSE_CITATION)
    title = short_title = "MixCSE"
    description = "MixCSE: InfoNCE with mixed hard negatives"
    parameter_titles = {"mix_lambda": "MixCSE lambda", "mix_mask": "MixCSE mask"}

    def __init__(self, temperature: float = 0.05, mix_lambda: float = 0.2, mix_mask: MixMask = "zero") -> None:
        super().__init__(temperature)
        if not 0.0 <= mix_lambda <= 1.0:
            raise ConfigError(f"loss 'mixcse': mix_lambda must be in [0, 1], got {mix_lambda}")
        if mix_mask not in get_args(MixMask):
            raise ConfigError(f"loss 'mixcse': mix_mask must be one of {'|'.join(get_args(MixMask))}, got {mix_mask!r}")
        self.mix_lambda = float(mix_lambda)
        self.mix_mask: MixMask = mix_mask

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, mix_lambda={self.mix_lambda}, mix_mask={self.mix_mask!r}"

    def _mask(self, logits: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        keep = torch.ones_like(logits, dtype=torch.bool)
        keep[rows, cols] = False
        if self.mix_mask == "zero":
            return logits * keep  # the original: multiply by 0 -> logit 0, still in the denominator
        return logits.masked_fill(~keep, float("-inf"))

    def forward(
        self,
        anchor: torch.Tensor,  # (B, H)
        positive: torch.Tensor,  # (N, H), gathered
        negation: torch.Tensor | None = None,  # unused
        hard_negative: torch.Tensor | None = None,  # unused
        label_offset: int = 0,
    ) -> LossOutput:
        self._check(anchor, positive, negation, hard_negative, label_offset)
        b, n = anchor.shape[0], positive.shape[0]
        lam = self.mix_lambda
        z, zp = to_fp32(anchor), to_fp32(positive)
        with torch.no_grad():
            mix_pos = lam * zp + (1.0 - lam) * torch.roll(zp, shifts=-1, dims=0)  # (N, H): m_j
            mix_anc = lam * z + (1.0 - lam) * torch.roll(z, shifts=-1, dims=0)  # (B, H): m'_i
        rows = torch.arange(b, device=anchor.device)  # (B,)
        labels = rows + label_offset  # (B,)
        in_batch = cosine_matrix(z, zp) / self.temperature  # (B, N)
        block2 = cosine_matrix(z, mix_pos) / self.temperature  # (B, N): cos(z_i, m_j)
        block3 = cosine_matrix(mix_anc, zp) / self.temperature  # (B, N): cos(m'_i, z+_j)
        block2 = self._mask(block2, rows, (labels - 1) % n)
        block3 = self._mask(block3, rows, label_offset + (rows + 1) % b)
        logits = torch.cat([in_batch, block2, block3], dim=1)  # (B, 3N)
        loss = F.cross_entropy(logits, labels)
        return LossOutput(loss=loss, parts={"mixcse": loss.detach()})
