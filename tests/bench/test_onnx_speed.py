"""The ONNX CPU benchmark (bench/onnx_speed.py) end to end on tiny-bert and a few STS pairs: three
backends timed on the same sentences, scored from the timed vectors, and the JSON it writes. No
timing is asserted, only that the numbers exist and are consistent."""

from __future__ import annotations

import json


def test_onnx_speed_runs_and_writes_json(tmp_path, data_root, bench_module):
    out = tmp_path / "onnx.json"
    record = bench_module("onnx_speed").main(["--model", "tiny-bert", "--limit", "10", "--chunks", "2",
                                              "--threads", "1", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(record))
    rows = record["rows"]
    assert list(rows) == ["torch_fp32", "onnx_fp32", "onnx_int8"]
    n = record["distinct_sentences"]
    assert 0 < n < 26_083 and all(r["sentences"] == n and r["sentences_per_second"] > 0 for r in rows.values())
    assert all(set(r["scores"]) == {"sts12", "sts13", "sts14", "sts15", "sts16", "stsb", "sickr"} for r in rows.values())
    # the fp32 graph gives torch's vectors, so torch's scores
    assert abs(rows["onnx_fp32"]["avg_unrounded"] - rows["torch_fp32"]["avg_unrounded"]) < 0.01
    assert record["targets"]["onnx_fp32_same_scores"]["met"] is True
    assert record["exports"]["onnx_int8"]["graph"]["integer_matmuls"] > 0
    assert len(record["load_average_1min"]["per_chunk"]) == record["chunks"] + 1
    assert "| onnxruntime int8" in bench_module("onnx_speed").markdown(record)
