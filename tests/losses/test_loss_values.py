"""Each loss against an independent float64 loop implementation (tests/losses/loss_reference.py)."""

from __future__ import annotations

import loss_reference as ref
import pytest
import torch

from sncse.losses import (
    BidirectionalMarginLoss,
    InfoNCELoss,
    MixCSELoss,
    NegativeNegationLoss,
    PositiveNegationLoss,
    SupervisedSimCSELoss,
)

TAUS = [0.05, 0.1]


def _close(got: torch.Tensor, want: torch.Tensor, dtype: torch.dtype) -> None:
    tol = 1e-10 if dtype == torch.float64 else 2e-5
    assert got.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
    assert got.item() == pytest.approx(want.item(), rel=tol, abs=tol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("tau", TAUS)
@pytest.mark.parametrize("gathered", [False, True])
def test_infonce(batch, dtype, tau, gathered):
    a, p, off = batch["anchor"], batch["positive"], batch["offset"]
    if not gathered:
        p, off = p[off : off + a.shape[0]], 0
    out = InfoNCELoss(temperature=tau)(a.to(dtype), p.to(dtype), label_offset=off)
    want = ref.infonce(a, p, tau, off)
    _close(out.loss, want, dtype)
    assert set(out.parts) == {"infonce"}
    assert not out.parts["infonce"].requires_grad


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("tau", TAUS)
def test_nl(batch, dtype, tau):
    a, p, g, off = batch["anchor"], batch["positive"], batch["negation"], batch["offset"]
    out = NegativeNegationLoss(temperature=tau)(a.to(dtype), p.to(dtype), negation=g.to(dtype), label_offset=off)
    _close(out.loss, ref.nl(a, p, g, tau, off), dtype)
    # the extra negative makes the loss strictly larger than plain InfoNCE
    assert out.loss.item() > ref.infonce(a, p, tau, off).item()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("form", ["code", "joint"])
def test_pl(batch, dtype, form):
    a, p, g, off = batch["anchor"], batch["positive"], batch["negation"], batch["offset"]
    tau = 0.05
    out = PositiveNegationLoss(temperature=tau, form=form)(
        a.to(dtype), p.to(dtype), negation=g.to(dtype), label_offset=off
    )
    want = ref.pl_code(a, p, g, tau, off) if form == "code" else ref.pl_joint(a, p, g, tau, off)
    _close(out.loss, want, dtype)
    if form == "code":
        assert set(out.parts) == {"infonce", "pl"}
        assert out.parts["infonce"].item() == pytest.approx(ref.infonce(a, p, tau, off).item(), rel=2e-5)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("alpha,beta,weight", [(0.1, 0.3, 1e-3), (0.0, 0.5, 0.5), (0.2, 0.2, 1.0)])
def test_bml(batch, dtype, alpha, beta, weight):
    a, p, g, off = batch["anchor"], batch["positive"], batch["negation"], batch["offset"]
    tau = 0.05
    loss = BidirectionalMarginLoss(temperature=tau, alpha=alpha, beta=beta, bml_weight=weight)
    out = loss(a.to(dtype), p.to(dtype), negation=g.to(dtype), label_offset=off)
    _close(out.loss, ref.bml(a, p, g, tau, alpha, beta, weight, off), dtype)
    assert out.parts["bml"].item() == pytest.approx(ref.bml_part(a, p, g, alpha, beta, off).item(), rel=1e-5)
    # soft negatives stay out of the InfoNCE denominator
    assert out.parts["infonce"].item() == pytest.approx(ref.infonce(a, p, tau, off).item(), rel=1e-5)


def test_bml_margins_by_hand():
    """Delta = cos(h,h#) - cos(h,h+); BML is zero iff -beta <= Delta <= -alpha."""
    anchor = torch.tensor([[1.0, 0.0]])
    positive = torch.tensor([[1.0, 0.0]])  # cos = 1
    loss = BidirectionalMarginLoss(alpha=0.1, beta=0.3, bml_weight=1.0)

    def bml_for(cos_neg: float) -> float:
        neg = torch.tensor([[cos_neg, (1 - cos_neg**2) ** 0.5]])
        return loss(anchor, positive, negation=neg).parts["bml"].item()

    assert bml_for(0.8) == pytest.approx(0.0, abs=1e-6)  # Delta = -0.2: inside the band
    assert bml_for(1.0) == pytest.approx(0.1, abs=1e-6)  # Delta = 0: ReLU(0 + 0.1)
    assert bml_for(0.5) == pytest.approx(0.2, abs=1e-6)  # Delta = -0.5: ReLU(0.5 - 0.3)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("w", [0.0, 1.5])
def test_sup(batch, dtype, w):
    a, p, hn, off = batch["anchor"], batch["positive"], batch["hard_negative"], batch["offset"]
    out = SupervisedSimCSELoss(temperature=0.05, hard_negative_weight=w)(
        a.to(dtype), p.to(dtype), hard_negative=hn.to(dtype), label_offset=off
    )
    _close(out.loss, ref.sup(a, p, hn, 0.05, w, off), dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("mask", ["zero", "remove"])
@pytest.mark.parametrize("gathered", [False, True])
def test_mixcse(batch, dtype, mask, gathered):
    a, p, off = batch["anchor"], batch["positive"], batch["offset"]
    if not gathered:
        p, off = p[off : off + a.shape[0]], 0
    out = MixCSELoss(temperature=0.05, mix_lambda=0.2, mix_mask=mask)(a.to(dtype), p.to(dtype), label_offset=off)
    _close(out.loss, ref.mixcse(a, p, 0.05, 0.2, mask, off), dtype)


def test_mixcse_zero_and_remove_differ(batch):
    a, p = batch["anchor"], batch["positive"][:4]
    zero = MixCSELoss(mix_mask="zero")(a, p).loss.item()
    remove = MixCSELoss(mix_mask="remove")(a, p).loss.item()
    assert zero != pytest.approx(remove, rel=1e-6)
    assert zero == pytest.approx(ref.mixcse(a, p, 0.05, 0.2, "zero").item(), rel=1e-10)
    assert remove == pytest.approx(ref.mixcse(a, p, 0.05, 0.2, "remove").item(), rel=1e-10)


def test_mixcse_matches_transcription_of_original(batch):
    """Single process: a line-by-line transcription of BDBC-KG-NLP/MixCSE_AAAI2022 models_mix.py."""
    z1, z2 = batch["anchor"], batch["positive"][:4]
    lam, temp = 0.2, 0.05
    sim = torch.nn.CosineSimilarity(dim=-1)
    cos_sim = sim(z1.unsqueeze(1), z2.unsqueeze(0)) / temp
    z3 = torch.cat([z2[1:], z2[:1]], dim=0)
    z3 = (lam * z2 + (1 - lam) * z3).detach()
    z1_z3 = sim(z1.unsqueeze(1), z3.unsqueeze(0)) / temp
    m = torch.eye(4, dtype=z1.dtype)
    z1_z3 = (1 - torch.cat([m[-1:], m[:-1]])) * z1_z3
    z4 = torch.cat([z1[1:], z1[:1]], dim=0)
    z4 = (lam * z1 + (1 - lam) * z4).detach()
    z4_z2 = sim(z4.unsqueeze(1), z2.unsqueeze(0)) / temp
    z4_z2 = (1 - torch.cat([m[:, -1:], m[:, :-1]], dim=1)) * z4_z2
    logits = torch.cat([cos_sim, z1_z3, z4_z2], 1)
    want = torch.nn.functional.cross_entropy(logits, torch.arange(4))
    got = MixCSELoss(temperature=temp, mix_lambda=lam, mix_mask="zero")(z1, z2).loss
    assert got.item() == pytest.approx(want.item(), rel=1e-10)


def test_mixcse_mixtures_carry_no_gradient():
    """Block 2 only trains the anchors, block 3 only the positives (mixtures are detached)."""
    a = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    p = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    MixCSELoss(mix_lambda=0.0)(a, p).loss.backward()  # lam = 0: m_j = p_{j+1}, m'_i = a_{i+1}
    ga, gp = a.grad.clone(), p.grad.clone()
    a2, p2 = a.detach().clone().requires_grad_(), p.detach().clone().requires_grad_()
    ref.mixcse(a2, p2, 0.05, 0.0, "zero").backward()
    torch.testing.assert_close(ga, a2.grad)
    torch.testing.assert_close(gp, p2.grad)
