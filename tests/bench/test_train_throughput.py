"""The training-throughput benchmark (bench/train_throughput.py) on its CPU path, and its FLOP counts.

The end-to-end test runs the real benchmark with tiny sizes (tiny-bert, batch 8, a few steps, one
thread): our trainer's step for SNCSE and SimCSE plus the sentence-transformers baseline in the same
run, and checks the JSON it writes. No timing is asserted, only that the numbers exist and are sane.
"""

from __future__ import annotations

import json
import math

import pytest
import torch


@pytest.fixture(scope="module")
def flops(bench_module):
    return bench_module("flops")


@pytest.fixture(scope="module")
def bench(bench_module):
    return bench_module("train_throughput")


@pytest.fixture(scope="module")
def common(bench_module):
    return bench_module("common")


def test_analytic_flops_equal_torch_flop_counter(flops, tiny_backbone):
    """Forward and forward+backward FLOPs of a real BERT match torch's own FLOP counter exactly."""
    from torch.utils.flop_counter import FlopCounterMode

    backbone, _ = tiny_backbone
    backbone.train()
    shape = flops.EncoderShape.from_config(backbone.config)
    ids = torch.randint(5, 2000, (6, 20))
    mask = torch.ones_like(ids)
    with FlopCounterMode(display=False) as counter:
        backbone(input_ids=ids, attention_mask=mask)
    assert counter.get_total_flops() == flops.forward_flops(shape, [20] * 6, head=False)
    with FlopCounterMode(display=False) as counter:
        backbone(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0].sum().backward()
    assert counter.get_total_flops() == flops.train_step_flops(shape, [20] * 6, head=False)
    backbone.zero_grad(set_to_none=True)


def test_bert_base_flops_by_hand(flops):
    from sncse.encoders.builders import BERT_BASE_CONFIG

    shape = flops.EncoderShape(BERT_BASE_CONFIG["num_hidden_layers"], BERT_BASE_CONFIG["hidden_size"],
                               BERT_BASE_CONFIG["intermediate_size"])
    assert shape.matmul_params == 12 * (4 * 768**2 + 2 * 768 * 3072) == 84_934_656
    per_seq = 2 * 84_934_656 * 32 + 4 * 12 * 32**2 * 768  # weights + attention, no head
    assert flops.forward_flops(shape, [32], head=False) == per_seq
    assert flops.train_step_flops(shape, [32, 10], head=True) == 3 * (
        per_seq + 2 * 84_934_656 * 10 + 4 * 12 * 10**2 * 768 + 2 * 2 * 768**2)
    assert flops.mfu(1e12, 2.0, 1e12) == 0.5
    assert math.isnan(flops.mfu(1.0, 0.0, 1.0))


def test_synthetic_negation_adds_not(common):
    assert common.synthetic_negation("The cat is on the mat .") == "The cat is not on the mat ."
    assert common.synthetic_negation("Paris hosts the games") == "Paris not hosts the games"
    assert common.synthetic_negation("one") == "one not"


def test_projected_epoch_counts_steps_evaluations_and_checkpoints(bench):
    args = bench.parse_args(["--batch-size", "256", "--eval-steps", "125"])
    proj = bench.projected_epoch(args, step_s=0.1, eval_s=0.5, eval_pairs=750, ckpt_s=2.0)
    assert proj["epoch_steps"] == 3906
    assert proj["evaluations"] == 32  # 31 every 125 steps + the one after the last step
    assert proj["eval_full_s"] == pytest.approx(1.0)  # timed on half of STS-B dev's 1,500 pairs
    assert proj["projected_1m_epoch_s"] == pytest.approx(390.6 + 32 * 3.0)


def test_cpu_run_writes_complete_json(bench, flops, data_root, tmp_path):
    out = tmp_path / "train_throughput_cpu_test.json"
    argv = ["--device", "cpu", "--models", "tiny-bert", "--batch-size", "8", "--steps", "2", "--warmup", "1",
            "--eval-limit", "16", "--eval-repeats", "1", "--threads", "1", "--matmul-size", "256", "--quiet",
            "--work-dir", str(tmp_path / "work"), "--out", str(out)]
    doc = bench.run(argv)
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["rows"] == json.loads(json.dumps(doc["rows"]))
    assert "bench/train_throughput.py --device cpu" in saved["command"]
    assert saved["versions"]["torch"] and saved["versions"]["sentence-transformers"]
    assert saved["matmul_peak"]["tflops"] > 0 and saved["matmul_peak"]["dtype"] == "float32"
    assert saved["max_rss_gb"] > 0

    rows = {r["method"]: r for r in saved["rows"]}
    assert set(rows) == {"sncse", "simcse"}
    assert rows["sncse"]["views"] == ["anchor", "positive", "negation"] and rows["sncse"]["pooler"] == "prompt"
    assert rows["simcse"]["views"] == ["anchor", "positive"] and rows["simcse"]["loss"] == "infonce"
    baseline = saved["baselines"]["tiny-bert"]
    assert baseline["sent_per_s"] > 0 and math.isfinite(baseline["mean_loss"])
    for r in rows.values():
        for key in bench.REQUIRED_FIELDS:
            assert key in r, key
        assert r["device"].startswith("cpu") and r["model"] == "tiny-bert"
        assert r["sent_per_s"] > 0 and r["st_sent_per_s"] == baseline["sent_per_s"]  # measured in this same run
        assert 0 < r["mfu"] < 3 and 0 < r["st_mfu"] < 3  # a unit slip would be off by 1e3
        assert r["hfu"] >= r["mfu"]  # padded tokens cost at least the real ones
        assert r["peak_mem_gb"] is None  # GPU memory only
        assert r["eval_pairs"] == 16 and r["eval_s"] > 0
        assert r["epoch_steps"] == 1_000_000 // 8 and r["evaluations"] == 1000
        assert 1 <= r["mean_tokens_per_sequence"] <= r["mean_padded_length"] <= 32

    # What was timed is the trainer's own step: the same config, stepped here by `Trainer.step`, gives
    # the benchmark's losses; and the FLOPs behind MFU/HFU are what that step computes by torch's count.
    from torch.utils.flop_counter import FlopCounterMode

    from sncse.train import Trainer

    args, work = bench.parse_args(argv), tmp_path / "work"
    for method, data in (("sncse", "corpus.negations.jsonl"), ("simcse", "corpus.txt")):
        cfg = bench.make_config(args, work / "model-tiny-bert", method, work / data, tmp_path / f"again-{method}",
                                torch.device("cpu"), workers=0)
        trainer = Trainer(cfg, overwrite=True)
        trainer.setup()
        losses = [trainer.step().loss.item() for _ in range(args.warmup + args.steps)]
        assert rows[method]["mean_loss"] == pytest.approx(sum(losses) / len(losses), rel=1e-5)
        batch = trainer.next_batch()
        with FlopCounterMode(display=False) as counter:
            trainer.step(batch)
        trainer.close()
        shape = flops.EncoderShape.from_config(trainer.model.backbone.config)
        rows_, length = batch.attention_mask.shape
        analytic = flops.train_step_flops(shape, [length] * rows_, head=True)
        # the analytic count leaves out only the loss's B x N similarity products (well under 1% here)
        assert analytic <= counter.get_total_flops() <= 1.01 * analytic


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_run_uses_the_fast_path(bench, data_root, tmp_path):
    out = tmp_path / "train_throughput_cuda_test.json"
    doc = bench.run(["--device", "cuda", "--models", "tiny-bert", "--batch-size", "16", "--steps", "3",
                     "--warmup", "2", "--eval-limit", "32", "--eval-repeats", "1", "--quiet",
                     "--work-dir", str(tmp_path / "work"), "--out", str(out)])
    assert doc["matmul_peak"]["dtype"] == "bfloat16" and doc["matmul_peak"]["tflops"] > 1
    for r in doc["rows"]:
        assert r["amp"] == "bf16" and r["fused_adamw"] is True
        assert r["peak_mem_gb"] > 0 and r["st_peak_mem_gb"] > 0
        assert r["sent_per_s"] > 0 and r["st_sent_per_s"] > 0 and 0 < r["mfu"] < 1
