"""Gradients: torch.autograd.gradcheck in float64, and agreement with the loop references."""

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


def _tiny(rows: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, 4, generator=g, dtype=torch.float64).requires_grad_()


def _check(fn, *inputs):
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=True)


def test_gradcheck_infonce_gathered():
    a, p = _tiny(3, 0), _tiny(6, 1)
    loss = InfoNCELoss(temperature=0.1)
    _check(lambda a, p: loss(a, p, label_offset=3).loss, a, p)


@pytest.mark.parametrize("cls", [NegativeNegationLoss, PositiveNegationLoss])
def test_gradcheck_nl_pl(cls):
    a, p, g = _tiny(3, 0), _tiny(6, 1), _tiny(3, 2)
    loss = cls(temperature=0.1)
    _check(lambda a, p, g: loss(a, p, negation=g, label_offset=3).loss, a, p, g)


def test_gradcheck_pl_joint():
    a, p, g = _tiny(3, 0), _tiny(3, 1), _tiny(3, 2)
    loss = PositiveNegationLoss(temperature=0.1, form="joint")
    _check(lambda a, p, g: loss(a, p, negation=g).loss, a, p, g)


def test_gradcheck_bml():
    a, p, g = _tiny(3, 0), _tiny(6, 1), _tiny(3, 2)
    loss = BidirectionalMarginLoss(temperature=0.1, bml_weight=0.5)  # large weight: BML gradient matters
    _check(lambda a, p, g: loss(a, p, negation=g, label_offset=3).loss, a, p, g)


def test_gradcheck_sup():
    a, p, hn = _tiny(3, 0), _tiny(6, 1), _tiny(6, 2)
    loss = SupervisedSimCSELoss(temperature=0.1, hard_negative_weight=0.7)
    _check(lambda a, p, hn: loss(a, p, hard_negative=hn, label_offset=3).loss, a, p, hn)


def _grads(fn, *tensors):
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    fn(*leaves).backward()
    return [t.grad for t in leaves]


@pytest.mark.parametrize("name", ["infonce", "nl", "pl", "bml", "sup", "mixcse-zero", "mixcse-remove"])
def test_gradients_match_loop_reference(batch, name):
    a, p, g, hn, off = (batch[k] for k in ("anchor", "positive", "negation", "hard_negative", "offset"))
    tau = 0.05
    impl, want = {
        "infonce": (lambda a, p, g, h: InfoNCELoss(tau)(a, p, label_offset=off).loss,
                    lambda a, p, g, h: ref.infonce(a, p, tau, off)),
        "nl": (lambda a, p, g, h: NegativeNegationLoss(tau)(a, p, negation=g, label_offset=off).loss,
               lambda a, p, g, h: ref.nl(a, p, g, tau, off)),
        "pl": (lambda a, p, g, h: PositiveNegationLoss(tau)(a, p, negation=g, label_offset=off).loss,
               lambda a, p, g, h: ref.pl_code(a, p, g, tau, off)),
        "bml": (lambda a, p, g, h: BidirectionalMarginLoss(tau, bml_weight=0.3)(a, p, negation=g, label_offset=off).loss,
                lambda a, p, g, h: ref.bml(a, p, g, tau, 0.1, 0.3, 0.3, off)),
        "sup": (lambda a, p, g, h: SupervisedSimCSELoss(tau, 0.5)(a, p, hard_negative=h, label_offset=off).loss,
                lambda a, p, g, h: ref.sup(a, p, h, tau, 0.5, off)),
        "mixcse-zero": (lambda a, p, g, h: MixCSELoss(tau, 0.2, "zero")(a, p, label_offset=off).loss,
                        lambda a, p, g, h: ref.mixcse(a, p, tau, 0.2, "zero", off)),
        "mixcse-remove": (lambda a, p, g, h: MixCSELoss(tau, 0.2, "remove")(a, p, label_offset=off).loss,
                          lambda a, p, g, h: ref.mixcse(a, p, tau, 0.2, "remove", off)),
    }[name]
    got = _grads(impl, a, p, g, hn)
    exp = _grads(want, a, p, g, hn)
    for x, y in zip(got, exp, strict=True):
        if y is None:
            assert x is None or torch.count_nonzero(x) == 0
        else:
            torch.testing.assert_close(x, y, rtol=1e-8, atol=1e-10)
