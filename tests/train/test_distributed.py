"""Multi-process training (torchrun, 2 CPU processes, gloo): with the candidates all-gathered, the loss
and the gradients equal those of one process on the concatenated batch; the processes stay in sync."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tolerances import assert_float64_equal, assert_fp32_within_floor

from sncse.config import load_config
from sncse.train.builders import batch_from_sentences, build_model, build_train_step
from sncse.train.seed import seed_everything
from sncse.train.step import compute_loss

# poolers whose outputs differ clearly between sentences of a random tiny BERT (its [CLS] barely does),
# so that the gradients are not a near-cancellation that float rounding dominates
LOSSES = [("infonce", "mean"), ("bml", "prompt"), ("sup", "avg_first_last")]

WORKER = r'''
import json, sys
import torch
from sncse.config import load_config
from sncse.train.distributed import init_distributed
from sncse.train.seed import seed_everything
from sncse.train.builders import batch_from_sentences, build_model, build_train_step

spec = json.load(open(sys.argv[1]))
out_dir = sys.argv[2]
dist, _ = init_distributed("cpu")
b = len(spec["sentences"]) // dist.world_size
lo, hi = dist.rank * b, (dist.rank + 1) * b
cut = lambda xs: xs[lo:hi]
for loss, pooler in spec["losses"]:
    for dtype in (torch.float64, torch.float32):
        cfg = load_config(None, spec["overrides"] + [f"loss.name={loss}", f"model.pooler={pooler}"])
        seed_everything(0)
        model = build_model(cfg, "cpu").to(dtype)
        step = build_train_step(cfg, model=model, total_steps=10, dist=dist)
        batch = batch_from_sentences(step.model, step.views, cut(spec["sentences"]), negations=cut(spec["negations"]),
                                     positives=cut(spec["positives"]) if loss == "sup" else None,
                                     hard_negatives=cut(spec["hard"]) if loss == "sup" else None)
        out = step.forward_backward(batch)  # DDP averages the gradients over the processes
        grads = {n: p.grad.clone() for n, p in step.model.named_parameters() if p.grad is not None}
        step.optimizer.zero_grad()
        step(batch)  # a full optimizer step under DDP
        flat = torch.cat([p.detach().flatten() for p in step.model.parameters()])
        everyone = [torch.zeros_like(flat) for _ in range(dist.world_size)]
        torch.distributed.all_gather(everyone, flat)
        loss_mean = dist.mean(out.loss.detach()).item()
        if dist.is_main:
            torch.save({"loss": loss_mean, "grads": grads, "chunks": step.chunks,
                        "ranks_in_sync": all(torch.equal(everyone[0], x) for x in everyone)},
                       f"{out_dir}/{loss}-{str(dtype).split('.')[-1]}.pt")
dist.close()
'''

OVERRIDES = ["model.encoder=tiny-bert", "model.dropout=0.0", "train.device=cpu", "optim.lr=1e-3"]


def _spec(wiki_lines: list[str], mini_batch_size: int = 0) -> dict:
    s = wiki_lines[:8]
    return {"sentences": s, "negations": ["not " + x for x in s], "positives": wiki_lines[8:16],
            "hard": wiki_lines[16:24], "losses": LOSSES,
            "overrides": OVERRIDES + [f"train.mini_batch_size={mini_batch_size}"]}


def _single(spec: dict, loss: str, pooler: str, dtype: torch.dtype) -> tuple[float, dict[str, torch.Tensor]]:
    """One process, the plain step, on the whole batch."""
    cfg = load_config(None, OVERRIDES + [f"loss.name={loss}", f"model.pooler={pooler}"])
    seed_everything(0)
    step = build_train_step(cfg, model=build_model(cfg, "cpu").to(dtype), total_steps=10)
    sup = loss == "sup"
    batch = batch_from_sentences(step.model, step.views, spec["sentences"], negations=spec["negations"],
                                 positives=spec["positives"] if sup else None, hard_negatives=spec["hard"] if sup else None)
    out = compute_loss(step.model, step.loss_fn, batch)
    out.loss.backward()
    return out.loss.item(), {n: p.grad.clone() for n, p in step.model.named_parameters() if p.grad is not None}


@pytest.mark.slow
@pytest.mark.parametrize("mini_batch_size", [0, 4], ids=["plain", "gradcache"])
def test_two_processes_match_one_process_on_the_concatenated_batch(tmp_path: Path, wiki_lines, child_env,
                                                                    mini_batch_size) -> None:
    """The identity (gathered candidates + averaged gradients == one process on the whole batch) is checked
    in float64, where rounding cannot decide it; the fp32 path against the float64 truth, within the fp32
    floor of the single process (tests/train/tolerances.py). ``gradcache``: each process embeds its 4
    examples (8 or 12 rows) in chunks of 4 rows, the chunk backwards but the last under ``no_sync``; the
    reference stays one plain process."""
    spec = _spec(wiki_lines, mini_batch_size)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "worker.py").write_text(WORKER)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(tmp_path / "worker.py"), str(tmp_path / "spec.json"), str(tmp_path)]
    res = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    for loss, pooler in LOSSES:
        ddp64 = torch.load(tmp_path / f"{loss}-float64.pt", weights_only=True)
        ref_loss, ref = _single(spec, loss, pooler, torch.float64)
        assert ddp64["loss"] == pytest.approx(ref_loss, rel=1e-12), loss
        assert_float64_equal(ddp64["grads"], ref, f"{loss} float64")
        assert ddp64["ranks_in_sync"], loss
        assert ddp64["chunks"] == (1 if not mini_batch_size else 3 if loss in ("bml", "sup") else 2), loss

        ddp32 = torch.load(tmp_path / f"{loss}-float32.pt", weights_only=True)
        _, single32 = _single(spec, loss, pooler, torch.float32)
        assert ddp32["loss"] == pytest.approx(ref_loss, rel=1e-5), loss  # ~100 roundings of 6e-8 each
        assert_fp32_within_floor(ddp32["grads"], single32, ref, f"{loss} float32")
        assert ddp32["ranks_in_sync"], loss


@pytest.mark.slow
def test_torchrun_cli_run(tmp_path: Path, negations_file: Path, child_env) -> None:
    """`torchrun -m sncse_cli.main train`: one run directory, written by rank 0, global batch split in two."""
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "sncse_cli.main", "-q", "train", "-c", str(repo / "configs" / "tiny.yaml"), "--loss", "bml",
           "--pooler", "prompt", "--data", str(negations_file), "-o", str(out)]
    for kv in ("train.batch_size=16", "train.max_steps=2", "train.eval_steps=2", "train.eval_limit=30",
               "train.log_steps=1", "data.limit=64"):
        cmd += ["--set", kv]
    res = subprocess.run(cmd, cwd=repo, env=child_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["world_size"] == 2 and results["steps"] == 2 and results["best_step"] == 2
    state = torch.load(out / "last" / "trainer_state.pt", weights_only=True)
    assert len(state["rng"]) == 2  # each process's generators, for an exact resume
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 2]
