"""Dev evaluation during training is `sncse eval`'s scoring: the same encode path, the same function."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from sncse.data.senteval import load_sts
from sncse.encoders import SentenceEncoder
from sncse.errors import SncseError
from sncse.eval.sts import COSINE_DECIMALS, evaluate_sts
from sncse.train.dev_eval import DevEvaluator


@pytest.mark.parametrize("pooler", ["cls", "prompt"])
def test_dev_score_is_the_eval_dev_score(tiny_backbone, data_root, pooler) -> None:
    backbone, tok = tiny_backbone
    model = SentenceEncoder(backbone, tok, pooler=pooler, mlp="train").train()
    ev = DevEvaluator.from_sts("stsb", limit=300, batch_size=32)
    score = ev(model)
    assert model.training  # restored after evaluating
    assert ev.pairs == 300 and ev.name == "dev_stsb"
    # `sncse eval --mode dev` (STS-B dev and SICK-R trial, in one call): the very same number
    res = evaluate_sts(model, mode="dev", batch_size=32, limit=300, show_progress=False)
    assert list(res["tasks"]) == ["stsb", "sickr"]
    assert score == res["tasks"]["stsb"]["spearman"]


def test_any_scored_pairs_can_be_the_dev_set(tiny_backbone, data_root) -> None:
    """A user's own pairs: Spearman x100 of the rounded cosines of `encode` (eval mode), against gold."""
    backbone, tok = tiny_backbone
    model = SentenceEncoder(backbone, tok, pooler="mean", mlp="train").train()
    s1, s2, gold = load_sts("sickr", "dev").all_pairs()
    s1, s2, gold = s1[:150], s2[:150], gold[:150]
    ev = DevEvaluator(s1, s2, list(gold), name="dev_mine", batch_size=64)
    a = model.encode(s1, show_progress=False).astype(np.float64)  # no dropout, no training-only head
    b = model.encode(s2, show_progress=False).astype(np.float64)
    cos = np.round((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1), COSINE_DECIMALS)
    assert ev(model) == pytest.approx(spearmanr(cos, gold).statistic * 100, abs=1e-9)
    assert ev.name == "dev_mine" and ev.pairs == 150


def test_pairs_must_line_up() -> None:
    with pytest.raises(SncseError, match="equally many"):
        DevEvaluator(["a", "b"], ["c"], [1.0, 2.0])
    with pytest.raises(SncseError, match="at least 2 pairs"):
        DevEvaluator(["a"], ["b"], [1.0])
