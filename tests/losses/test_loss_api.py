"""Interface: registry, config, missing views, layout for gathered batches, fp32 under bf16."""

from __future__ import annotations

import loss_reference as ref
import pytest
import torch

from sncse import registry
from sncse.config import LossConfig
from sncse.errors import ConfigError, RegistryError, SncseError
from sncse.losses import (
    BidirectionalMarginLoss,
    ContrastiveLoss,
    InfoNCELoss,
    LossOutput,
    MixCSELoss,
    NegativeNegationLoss,
    PositiveNegationLoss,
    SupervisedSimCSELoss,
    build_loss,
)

CLASSES = {
    "infonce": InfoNCELoss, "pl": PositiveNegationLoss, "nl": NegativeNegationLoss,
    "bml": BidirectionalMarginLoss, "mixcse": MixCSELoss, "sup": SupervisedSimCSELoss,
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_registry_lookup(name):
    assert registry.get("losses", name) is CLASSES[name]
    assert registry.get("losses", f"{name}.v1") is CLASSES[name]
    loss = build_loss(LossConfig(name=name))
    assert isinstance(loss, ContrastiveLoss) and loss.name == name
    assert "positive" in loss.views
    assert loss.citation.lstrip().startswith("@") and "year" in loss.citation


def test_unknown_loss_lists_names():
    with pytest.raises(RegistryError, match="bml"):
        build_loss(LossConfig(name="nope"))


def test_from_config_reads_the_loss_own_section():
    cfg = LossConfig(name="bml", temperature=0.1, params={"bml": {"alpha": 0.05, "beta": 0.4, "bml_weight": 5e-4},
                                                          "mixcse": {"mix_lambda": 0.9}})
    loss = build_loss(cfg)
    assert (loss.temperature, loss.alpha, loss.beta, loss.bml_weight) == (0.1, 0.05, 0.4, 5e-4)
    mix = build_loss(LossConfig(name="mixcse.v1", params={"mixcse": {"mix_lambda": 0.3, "mix_mask": "remove"}}))
    assert (mix.mix_lambda, mix.mix_mask) == (0.3, "remove")
    sup = build_loss(LossConfig(name="sup", params={"sup": {"hard_negative_weight": 1.0}}))
    assert sup.hard_negative_weight == 1.0
    pl = build_loss(LossConfig(name="pl", params={"pl": {"form": "joint"}}))
    assert pl.form == "joint"
    assert build_loss(LossConfig(name="pl")).form == "code"  # the class's default
    assert "SNCSE" in BidirectionalMarginLoss.from_config(cfg).citation


def test_parameters_are_the_init_signature():
    from inspect import Parameter

    from sncse.losses import InfoNCELoss, MixCSELoss, PositiveNegationLoss
    from sncse.losses.mixcse import MixMask
    from sncse.losses.pl import PLForm

    bml = BidirectionalMarginLoss.parameters()
    assert list(bml) == ["alpha", "beta", "bml_weight"]  # temperature is loss.temperature
    assert (bml["alpha"].annotation, bml["alpha"].default) == (float, 0.1)
    assert MixCSELoss.parameters()["mix_mask"].annotation == MixMask
    assert PositiveNegationLoss.parameters()["form"].annotation == PLForm
    assert InfoNCELoss.parameters() == {}

    class Margin(ContrastiveLoss):
        name = "margin"

        def __init__(self, margin: float, temperature: float = 0.05, scale: int = 2, **extra):
            super().__init__(temperature)
            self.margin, self.scale = margin, scale

    params = Margin.parameters()
    assert list(params) == ["margin", "scale"] and params["margin"].default is Parameter.empty
    built = Margin.from_config(LossConfig(name="margin", temperature=0.2, params={"margin": {"margin": 0.4}}))
    assert (built.margin, built.scale, built.temperature) == (0.4, 2, 0.2)


@pytest.mark.parametrize(
    "cfg",
    [LossConfig(name="mixcse", params={"mixcse": {"mix_mask": "drop"}}),
     LossConfig(name="mixcse", params={"mixcse": {"mix_lambda": 1.5}}),
     LossConfig(name="bml", params={"bml": {"alpha": 0.5, "beta": 0.1}}),
     LossConfig(name="pl", params={"pl": {"form": "both"}}), LossConfig(name="infonce", temperature=0.0)],
)
def test_bad_config_is_user_error(cfg):
    with pytest.raises(SncseError):
        build_loss(cfg)
    assert issubclass(ConfigError, SncseError)


@pytest.mark.parametrize("name", ["pl", "nl", "bml"])
def test_missing_negation_fails_clearly(name):
    loss = build_loss(LossConfig(name=name))
    a = torch.randn(4, 8)
    with pytest.raises(SncseError, match=rf"loss '{name}' needs soft negatives.*sncse negate"):
        loss(a, a.clone())


def test_missing_hard_negative_fails_clearly():
    a = torch.randn(4, 8)
    with pytest.raises(SncseError, match="loss 'sup' needs hard negatives"):
        SupervisedSimCSELoss()(a, a.clone())


def test_bad_layout_is_reported():
    a = torch.randn(4, 8)
    with pytest.raises(ValueError, match="label_offset"):
        InfoNCELoss()(a, torch.randn(6, 8), label_offset=4)
    with pytest.raises(ValueError, match="negation shape"):
        BidirectionalMarginLoss()(a, a, negation=torch.randn(3, 8))


@pytest.mark.parametrize("name", ["infonce", "nl", "bml", "sup"])
def test_gathered_equals_concatenated_batch(name):
    """Rows are independent: the mean over ranks of per-rank losses (local anchors, gathered candidates,
    label_offset = rank * B) equals the one-process loss on the concatenated batch. This is what a
    multi-process run must reproduce (mixcse and pl form="code" are not row-independent; see docs)."""
    b, world, h = 3, 2, 5
    g = torch.Generator().manual_seed(7)
    a, p, neg, hn = (torch.randn(b * world, h, generator=g, dtype=torch.float64) for _ in range(4))
    loss = build_loss(LossConfig(name=name, params={"bml": {"bml_weight": 0.5}}))
    full = loss(a, p, negation=neg, hard_negative=hn).loss
    per_rank = [
        loss(a[r * b : (r + 1) * b], p, negation=neg[r * b : (r + 1) * b], hard_negative=hn, label_offset=r * b).loss
        for r in range(world)
    ]
    assert torch.stack(per_rank).mean().item() == pytest.approx(full.item(), rel=1e-12)


def test_pl_joint_is_row_independent_too():
    b, world = 3, 2
    a, p, neg = (torch.randn(b * world, 5, dtype=torch.float64) for _ in range(3))
    loss = PositiveNegationLoss(form="joint")
    full = loss(a, p, negation=neg).loss
    parts = [loss(a[r * b : (r + 1) * b], p, negation=neg[r * b : (r + 1) * b], label_offset=r * b).loss
             for r in range(world)]
    assert torch.stack(parts).mean().item() == pytest.approx(full.item(), rel=1e-12)
    assert full.item() == pytest.approx(ref.pl_joint(a, p, neg, 0.05).item(), rel=1e-10)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_fp32_for_bf16_inputs(name):
    g = torch.Generator().manual_seed(3)
    a, p, neg, hn = (torch.randn(4, 16, generator=g).to(torch.bfloat16) for _ in range(4))
    loss = build_loss(LossConfig(name=name))
    out = loss(a, p, negation=neg, hard_negative=hn)
    assert isinstance(out, LossOutput)
    assert out.loss.dtype == torch.float32 and out.loss.dim() == 0
    assert all(v.dtype == torch.float32 and not v.requires_grad for v in out.parts.values())
    # same value as the fp32 computation on the same (bf16-representable) numbers ...
    want = loss(a.float(), p.float(), negation=neg.float(), hard_negative=hn.float()).loss
    assert out.loss.item() == pytest.approx(want.item(), rel=1e-6)
    # ... and autocast to bf16 around the loss does not lower the precision of the similarities
    with torch.autocast("cpu", dtype=torch.bfloat16):
        auto = loss(a.float(), p.float(), negation=neg.float(), hard_negative=hn.float()).loss
    assert auto.dtype == torch.float32
    assert auto.item() == pytest.approx(want.item(), rel=1e-6)


def test_loss_output_backward_through_bf16_leaves():
    a = torch.randn(4, 8).to(torch.bfloat16).requires_grad_()
    p = torch.randn(4, 8).to(torch.bfloat16).requires_grad_()
    InfoNCELoss()(a, p).loss.backward()
    assert a.grad is not None and a.grad.dtype == torch.bfloat16 and torch.isfinite(a.grad.float()).all()


@pytest.mark.parametrize("params", [{"pl": {"form": "joint"}}, {"bml": {"bml_weight": 0.3}}, {}],
                         ids=["pl-joint", "bml-weight", "defaults"])
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_weighted_parts_add_up_to_the_loss(name, params):
    """``part_weights``: sum(weight * part) is the loss, for every loss (what sentence-transformers logs)."""
    g = torch.Generator().manual_seed(5)
    a, p, neg, hn = (torch.randn(4, 8, generator=g, dtype=torch.float64) for _ in range(4))
    loss = build_loss(LossConfig(name=name, params=params))
    out = loss(a, p, negation=neg, hard_negative=hn)
    weights = loss.part_weights()
    assert set(weights) <= set(out.parts)
    total = sum(weights.get(k, 1.0) * v for k, v in out.parts.items())
    assert total.item() == pytest.approx(out.loss.item(), rel=1e-12)
