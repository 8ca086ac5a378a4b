"""The result JSON and the MTEB export."""

from __future__ import annotations

import json
import math
from pathlib import Path

from sncse.eval.published import PUBLISHED_STS
from sncse.eval.results import MTEB_NAMES, build_result, mteb_task_result, write_mteb, write_result


def _sts() -> dict:
    row = {"spearman": 72.37, "pearson": 70.1, "mean": 70.0, "wmean": 71.0, "pairs": 3108, "split": "test",
           "subsets": {"MSRpar": {"spearman": 50.0, "pearson": float("nan"), "pairs": 750}}}
    return {"tasks": {"sts12": row, "sickr": dict(row, pairs=4927, subsets={})}, "avg": 72.37,
            "protocol": "p", "sentences": 10, "encode_seconds": 1.5, "limit": None}


def test_build_result_schema_and_nan_to_null(tmp_path: Path) -> None:
    res = build_result("minilm", "mean", "test", sts=_sts(), meta={"device": "cpu"})
    for key in ("model", "pooler", "protocol", "tasks", "avg", "meta", "published", "schema"):
        assert key in res
    assert res["tasks"]["sts12"]["subsets"]["MSRpar"]["pearson"] is None
    path = write_result(res, tmp_path / "sub" / "r.json")
    back = json.loads(path.read_text())
    assert back["tasks"]["sts12"]["spearman"] == 72.37 and back["meta"]["device"] == "cpu"


def test_mteb_export(tmp_path: Path) -> None:
    res = build_result("minilm", "mean", "test", sts=_sts())
    paths = write_mteb(res, tmp_path / "mteb")
    names = sorted(p.name for p in paths)
    assert names == ["SICK-R.json", "STS12.json", "model_meta.json"]
    sts12 = json.loads((tmp_path / "mteb" / "STS12.json").read_text())
    score = sts12["scores"]["test"][0]
    assert sts12["task_name"] == "STS12" and math.isclose(score["main_score"], 0.7237)
    assert score["cosine_spearman"] == score["main_score"] and score["languages"] == ["eng-Latn"]
    assert "9,927" in sts12["sncse_protocol_note"]  # MTEB's SICK-R is not SentEval's test split
    dev = mteb_task_result("stsb", {"spearman": 80.0, "pearson": 79.0, "split": "dev"})
    assert "validation" in dev["scores"] and set(MTEB_NAMES) >= {"stsb", "sickr"}


def test_published_rows_are_labelled_and_consistent() -> None:
    simcse = next(r for r in PUBLISHED_STS if r.name.startswith("SimCSE-BERT-base (unsup.)"))
    assert simcse.avg == 76.25 and "published" in simcse.label()
    assert round(sum(simcse.scores.values()) / 7, 2) == 76.25
    sncse = next(r for r in PUBLISHED_STS if r.name == "SNCSE-BERT-base")
    assert sncse.avg == 78.97
