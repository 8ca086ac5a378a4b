"""STS-B dev evaluation during training equals an independent computation with `encode` + scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from sncse.data.senteval import load_sts
from sncse.encoders import SentenceEncoder
from sncse.train.dev_eval import DevEvaluator


@pytest.mark.parametrize("pooler", ["cls", "prompt"])
def test_dev_score_matches_encode(tiny_backbone, data_root, pooler) -> None:
    backbone, tok = tiny_backbone
    model = SentenceEncoder(backbone, tok, pooler=pooler, mlp="train").train()
    ev = DevEvaluator(model, limit=120, batch_size=32)
    score = ev(model)
    assert model.training  # restored after evaluating
    assert ev.pairs == 120 and ev.name == "dev_stsb"
    s1, s2, gold = load_sts("stsb", "dev").all_pairs()
    a = model.encode(s1[:120], show_progress=False)  # eval mode: no dropout, no training-only head
    b = model.encode(s2[:120], show_progress=False)
    emb = ev.embeddings(model).numpy()
    index = {s: i for i, s in enumerate(dict.fromkeys(s1[:120] + s2[:120]))}
    np.testing.assert_allclose(emb[[index[s] for s in s1[:120]]], a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(emb[[index[s] for s in s2[:120]]], b, rtol=1e-4, atol=1e-5)
    # the score is Spearman x 100 of the pairs' cosines (from the evaluator's embeddings, in float64:
    # a random tiny model gives near-tied cosines whose ranks fp32 rounding could swap)
    e1 = emb[[index[s] for s in s1[:120]]].astype(np.float64)
    e2 = emb[[index[s] for s in s2[:120]]].astype(np.float64)
    cos = (e1 * e2).sum(1) / np.linalg.norm(e1, axis=1) / np.linalg.norm(e2, axis=1)
    assert score == pytest.approx(spearmanr(cos, gold[:120]).statistic * 100, abs=1e-3)
