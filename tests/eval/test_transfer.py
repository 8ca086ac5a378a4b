"""Transfer tasks: SentEval's classifiers on synthetic data, and real files through a tiny encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sncse.data.senteval import load_transfer
from sncse.eval.transfer import (
    evaluate_transfer,
    inner_kfold,
    kfold_then_test,
    split_classifier,
)


def _blobs(n: int, shift: float, seed: int, classes: int = 2):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(size=(n, 6)) + shift * np.eye(classes, 6)[y]
    return x, y


def test_classifiers_separate_easy_data_and_fail_on_noise() -> None:
    x, y = _blobs(200, 4.0, 0)
    assert inner_kfold(x, y, k=3)["acc"] > 95
    xr, yr = _blobs(200, 0.0, 1)
    assert 25 < inner_kfold(xr, yr, k=3)["acc"] < 75  # chance level on pure noise
    xt, yt = _blobs(90, 4.0, 2, classes=3)
    r = kfold_then_test(x[:, :6], y, xt, yt % 2, k=3)
    assert r["acc"] > 90 and r["C"] in [2.0**t for t in range(-1, 6)]
    s = split_classifier({"train": x, "dev": xt, "test": xt}, {"train": y, "dev": yt % 2, "test": yt % 2})
    assert s["acc"] > 90


def _lines(path: Path, encoding: str = "utf-8") -> int:
    return len(path.read_text(encoding=encoding).splitlines())


def test_loaders_follow_senteval_order_and_labels(data_root: Path, data_is_full: bool) -> None:
    base = data_root / "senteval" / "downstream"
    mr = load_transfer("mr").splits["all"]
    lengths = [len(s.split()) for s in mr.sent1]
    assert lengths == sorted(lengths) and set(mr.labels.tolist()) == {0, 1}
    assert mr.labels.sum() == _lines(base / "MR" / "rt-polarity.pos", "latin-1")
    trec = load_transfer("trec")
    assert len(trec.splits["train"]) == _lines(base / "TREC" / "train_5500.label", "latin-1")
    assert len(trec.splits["test"]) == _lines(base / "TREC" / "TREC_10.label", "latin-1")
    assert set(trec.splits["train"].labels.tolist()) == set(range(6))
    mrpc = load_transfer("mrpc")
    assert mrpc.splits["train"].sent2 is not None
    assert len(mrpc.splits["test"]) == _lines(base / "MRPC" / "msr_paraphrase_test.txt") - 1  # a header line
    if data_is_full:
        assert (len(trec.splits["train"]), len(trec.splits["test"]), len(mrpc.splits["test"])) == (5452, 500, 1725)


def test_tiny_encoder_on_real_transfer_slices(data_root: Path, tiny_encoder) -> None:
    embed = lambda s: tiny_encoder.encode(s, show_progress=False)  # noqa: E731
    result = evaluate_transfer(embed, "mr,sst2,trec,mrpc", kfold=3, limit=120, max_iter=200)
    assert set(result["tasks"]) == {"mr", "sst2", "trec", "mrpc"}
    for name, r in result["tasks"].items():
        assert 0 <= r["acc"] <= 100 and r["ntest"] > 0, name
    assert "f1" in result["tasks"]["mrpc"]
    assert result["avg"] == pytest.approx(np.mean([r["acc"] for r in result["tasks"].values()]), abs=0.01)
