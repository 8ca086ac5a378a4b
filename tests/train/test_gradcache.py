"""The gradient cache (``train.mini_batch_size``): the loss and gradients of the full batch, from
forward passes of a few rows.

Both sides of "the same result as if the batch fit":

- dropout off: the cached step equals the plain step (one forward over the whole batch), for every
  loss and pooler, in float64 and, through the CLI, after three optimizer steps in fp32;
- dropout on: the chunks draw their own masks, so the reference is the full-batch loss
  back-propagated through the same chunks run with autograd (the same masks by construction); the
  cached step equals it, and stops equalling it when the random state is not replayed.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tolerances import assert_float64_equal, assert_fp32_within_floor, assert_within, largest

from sncse.config import load_config
from sncse.encoders.amp import AmpSettings
from sncse.train.builders import batch_from_sentences, build_model, build_train_step
from sncse.train.gradcache import CachedTrainStep, RngSnapshot, chunk_spans
from sncse.train.seed import seed_everything
from sncse.train.step import TrainStep, loss_on_views, split_views

REPO = Path(__file__).resolve().parents[2]
TINY = str(REPO / "configs" / "tiny.yaml")

# every loss, every pooler (prompt for the SNCSE losses), the training-only MLP head on (model.mlp: train)
CASES = [("infonce", "mean"), ("pl", "prompt"), ("nl", "prompt"), ("bml", "prompt"), ("mixcse", "avg_first_last"),
         ("sup", "cls"), ("infonce", "cls_before_pooler")]
BATCH, MINI = 16, 4


def _step(loss: str, pooler: str, mini: int, dtype: torch.dtype = torch.float64, dropout: float = 0.0,
          *extra: str) -> TrainStep:
    cfg = load_config(None, ["model.encoder=tiny-bert", f"model.dropout={dropout}", "train.device=cpu",
                             f"loss.name={loss}", f"model.pooler={pooler}", f"train.mini_batch_size={mini}", *extra])
    seed_everything(0)
    return build_train_step(cfg, model=build_model(cfg, "cpu").to(dtype), total_steps=10)


def _batch(step: TrainStep, wiki_lines: list[str], loss: str):
    s = wiki_lines[:BATCH]
    sup = loss == "sup"
    return batch_from_sentences(step.model, step.views, s, negations=["not " + x for x in s],
                                positives=wiki_lines[BATCH : 2 * BATCH] if sup else None,
                                hard_negatives=wiki_lines[2 * BATCH : 3 * BATCH] if sup else None)


def _grads(step: TrainStep) -> dict[str, torch.Tensor]:
    grads = {n: p.grad.detach().clone() for n, p in step.model.named_parameters() if p.grad is not None}
    step.optimizer.zero_grad(set_to_none=True)
    return grads


def _forward_backward(step: TrainStep, batch, seed: int = 5) -> tuple[float, dict[str, torch.Tensor]]:
    torch.manual_seed(seed)
    out = step.forward_backward(batch)
    return out.loss.item(), _grads(step)


def _same_chunks_with_autograd(step: TrainStep, batch, mini: int, seed: int = 5) -> tuple[float, dict[str, torch.Tensor]]:
    """The dropout-on reference: the chunks run once, WITH autograd (so each chunk's masks are drawn
    once and used by forward and backward alike), the full-batch loss back-propagated through them."""
    torch.manual_seed(seed)
    chunks = []
    for lo, hi in chunk_spans(batch.input_ids.shape[0], mini):
        with step.amp.autocast():  # one region per chunk, as the step: each its own bf16 copy of the weights
            chunks.append(step.forward_model(batch.input_ids[lo:hi], batch.attention_mask[lo:hi]))
    emb = torch.cat(chunks)
    out = loss_on_views(step.loss_fn, split_views(emb, batch), batch.size)
    step.backward(out.loss)
    return out.loss.item(), _grads(step)


# ------------------------------------------------------------------------------------------ dropout off
@pytest.mark.parametrize("loss,pooler", CASES)
def test_dropout_off_equals_the_plain_step(wiki_lines, loss, pooler) -> None:
    """float64: the loss to 1e-12, every gradient to 1e-12 of the largest (rounding: ~1e-16). fp32: the
    cached step is the plain step with its sums regrouped (chunked forwards, the parameter gradients
    added chunk by chunk), so its error against the float64 truth stays within the plain step's fp32
    floor (tests/train/tolerances.py)."""
    plain = _step(loss, pooler, 0)
    batch = _batch(plain, wiki_lines, loss)
    ref_loss, ref = _forward_backward(plain, batch)
    cached = _step(loss, pooler, MINI)
    assert isinstance(cached, CachedTrainStep)
    got_loss, got = _forward_backward(cached, batch)
    assert cached.chunks == len(cached.views) * BATCH // MINI
    assert got_loss == pytest.approx(ref_loss, rel=1e-12)
    assert_float64_equal(got, ref, f"{loss}/{pooler} float64")

    plain32, cached32 = _step(loss, pooler, 0, torch.float32), _step(loss, pooler, MINI, torch.float32)
    loss32, ref32 = _forward_backward(plain32, batch)
    got_loss32, got32 = _forward_backward(cached32, batch)
    assert got_loss32 == pytest.approx(ref_loss, rel=1e-5)  # a few hundred roundings of 6e-8
    assert_fp32_within_floor(got32, ref32, ref, f"{loss}/{pooler} float32")


# ------------------------------------------------------------------------------------------ dropout on
@pytest.mark.parametrize("loss,pooler", [("infonce", "cls"), ("bml", "prompt"), ("sup", "mean")])
def test_dropout_on_equals_the_full_batch_loss_through_the_same_chunks(wiki_lines, loss, pooler) -> None:
    cached = _step(loss, pooler, MINI, dropout=0.1)
    batch = _batch(cached, wiki_lines, loss)
    got_loss, got = _forward_backward(cached, batch)
    rng_after = torch.get_rng_state()
    ref_loss, ref = _same_chunks_with_autograd(cached, batch, MINI)
    assert got_loss == pytest.approx(ref_loss, rel=1e-12)
    assert_float64_equal(got, ref, f"{loss} dropout 0.1")
    # the step leaves the generator where one pass over the chunks leaves it: the next step (and a
    # resumed run) draws what an uninterrupted run draws
    assert torch.equal(rng_after, torch.get_rng_state())
    # and the masks were not those of one forward over the whole batch (both are valid draws)
    plain_loss, _ = _forward_backward(_step(loss, pooler, 0, dropout=0.1), batch)
    assert plain_loss != pytest.approx(got_loss, rel=1e-6)


def test_without_the_replay_the_gradients_are_wrong(wiki_lines, monkeypatch) -> None:
    """Take the replay away (the second pass draws fresh masks) and the gradients no longer belong to
    the loss: the test above would fail, so it tests the replay."""
    cached = _step("infonce", "cls", MINI, dropout=0.1)
    batch = _batch(cached, wiki_lines, "infonce")
    ref_loss, ref = _same_chunks_with_autograd(cached, batch, MINI)
    monkeypatch.setattr(RngSnapshot, "replay", lambda self: nullcontext())
    got_loss, got = _forward_backward(cached, batch)
    assert got_loss == pytest.approx(ref_loss, rel=1e-12)  # the first pass is untouched
    worst = max((got[n] - ref[n]).abs().max().item() for n in ref)
    assert worst > 1e-3 * largest(ref)  # not rounding: other embeddings were differentiated


def test_bf16_autocast_matches_the_same_chunks_with_autograd(wiki_lines) -> None:
    """bf16 on the CPU (fp32 weights): both run the same bf16 kernels on the same rows, and each chunk
    in its own autocast region (autocast caches one bf16 copy of each weight per region, whose gradient
    would otherwise be summed over the chunks in bf16), so they differ only by the order in which the
    fp32 parameter gradients add up over the chunks: a few fp32 roundings of the largest gradient."""
    cached = _step("bml", "prompt", MINI, torch.float32, 0.1, "train.amp=bf16")
    assert cached.amp.name == "bf16"
    batch = _batch(cached, wiki_lines, "bml")
    got_loss, got = _forward_backward(cached, batch)
    ref_loss, ref = _same_chunks_with_autograd(cached, batch, MINI)
    assert got_loss == pytest.approx(ref_loss, rel=1e-6)
    assert_within(got, ref, 1e-6, "bf16")


def test_the_loss_scale_reaches_the_parameter_gradients(wiki_lines) -> None:
    """fp16's gradient scaler multiplies the loss before the embedding gradients are taken, so the
    parameter gradients come out scaled, exactly as in the plain step (the scaler then unscales,
    checks for inf and steps). On the CPU with float64 weights and a scaler standing in for CUDA's."""
    cached = _step("infonce", "mean", MINI)
    batch = _batch(cached, wiki_lines, "infonce")
    _, unscaled = _forward_backward(cached, batch)
    cached.amp = AmpSettings(cached.amp.device, None, torch.amp.GradScaler("cpu", init_scale=1024.0))
    _, scaled = _forward_backward(cached, batch)
    assert_float64_equal({n: g / 1024.0 for n, g in scaled.items()}, unscaled, "scaled / 1024")


def test_a_batch_within_one_chunk_takes_the_plain_step(wiki_lines) -> None:
    cached = _step("infonce", "cls", 2 * BATCH, dropout=0.1)
    batch = _batch(cached, wiki_lines, "infonce")
    got_loss, got = _forward_backward(cached, batch)
    assert cached.chunks == 1
    plain_loss, plain = _forward_backward(_step("infonce", "cls", 0, dropout=0.1), batch)
    assert got_loss == plain_loss and all(torch.equal(got[n], plain[n]) for n in plain)


def test_optimizer_step_and_chunk_count(wiki_lines) -> None:
    cached = _step("bml", "prompt", 5, torch.float32, 0.1, "optim.lr=1e-3")
    batch = _batch(cached, wiki_lines, "bml")
    before = {n: p.detach().clone() for n, p in cached.model.named_parameters()}
    out = cached(batch)
    assert cached.chunks == 10  # 48 rows in chunks of 5: nine of 5, one of 3
    assert not out.loss.requires_grad and set(out.parts) == {"infonce", "bml"}
    assert all(p.grad is None for p in cached.model.parameters())
    assert any(not torch.equal(p, before[n]) for n, p in cached.model.named_parameters())


# ------------------------------------------------------------------------------------------ the CLI
def _weights(run: Path) -> dict[str, torch.Tensor]:
    w = load_file(str(run / "last" / "model.safetensors"))
    w.update({f"head.{k}": v for k, v in load_file(str(run / "last" / "sncse_head.safetensors")).items()})
    return w


@pytest.mark.parametrize("loss,pooler,data", [("bml", "prompt", "negations"), ("sup", "avg_first_last", "triplets")])
def test_three_cli_steps_end_in_the_plain_weights(runner, cli_app, tmp_path, sets, request, loss, pooler, data) -> None:
    """Dropout off, fp32 (the CLI trains in the weights' dtype; float64 is not available through it).

    Tolerance: 1e-2 x lr per weight. AdamW moves a weight by lr * m / (sqrt(v) + eps): about lr per step
    wherever |g| >> eps, whatever the size of g, so a real error (a missing chunk, a wrong mask, a
    gradient not scaled back) flips the direction of many updates and shows as differences of order
    lr. A rounding-level change delta of g changes the update by lr * delta * eps / (|g| + eps)^2,
    which is largest, lr * delta / (4 eps), where |g| ~ eps: on this model the fp32 gradient floor
    (tests/train/tolerances.py) keeps that below 1e-2 lr over three steps (measured: at most 3.7e-3 lr
    for bml and 1.8e-3 lr for sup, on word-embedding rows with near-zero gradients; 99.9 % of the
    weights differ by less than 2e-5 lr)."""
    data_file = request.getfixturevalue(f"{data}_file")
    lr = 1e-3
    runs = {}
    for name, extra in (("plain", ()), ("cached", ("--mini-batch-size", str(MINI)))):
        out = tmp_path / name
        res = runner.invoke(cli_app, ["-q", "train", "-c", TINY, "--loss", loss, "--pooler", pooler, "--data",
                                      str(data_file), "-o", str(out), *extra,
                                      *sets("model.dropout=0.0", f"optim.lr={lr}")])
        assert res.exit_code == 0, res.output
        runs[name] = out
    a, b = _weights(runs["plain"]), _weights(runs["cached"])
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=1e-2 * lr, msg=k)
    plain, cached = ([json.loads(x) for x in (runs[n] / "metrics.jsonl").read_text().splitlines()] for n in runs)
    assert [r["loss"] for r in cached] == pytest.approx([r["loss"] for r in plain], rel=1e-5)
    rows = 3 * 16  # three views (bml: anchor, positive, negation; sup: anchor, entailment, contradiction)
    assert [r["chunks"] for r in cached] == [rows // MINI] * 3 and "chunks" not in plain[0]
    results = json.loads((runs["cached"] / "results.json").read_text())
    assert results["mini_batch_size"] == MINI and results["chunks"] == rows // MINI


# ------------------------------------------------------------------------------------------ CUDA
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_cuda_replays_the_device_generator(wiki_lines, amp) -> None:
    """On CUDA the dropout masks come from the device's generator (and the attention kernels draw their
    own): the replay restores it per chunk. fp16 runs with its gradient scaler, both sides scaled alike.
    A mask that was not replayed moves gradients by ~1e-2 of the largest (see the CPU test); the
    tolerance, 1e-4 of the largest, leaves room for the order of atomic additions on the GPU."""
    cfg = load_config(None, ["model.encoder=tiny-bert", "model.dropout=0.1", "train.device=cuda", f"train.amp={amp}",
                             "loss.name=bml", "model.pooler=prompt", f"train.mini_batch_size={MINI}"])
    seed_everything(0)
    cached = build_train_step(cfg, model=build_model(cfg, "cuda"), total_steps=10)
    assert cached.amp.name == amp and (cached.amp.scaler is not None) == (amp == "fp16")
    batch = _batch(cached, wiki_lines, "bml").to("cuda")
    got_loss, got = _forward_backward(cached, batch)
    ref_loss, ref = _same_chunks_with_autograd(cached, batch, MINI)
    assert got_loss == pytest.approx(ref_loss, rel=1e-5)
    assert_within(got, ref, 1e-4, amp)
    out = cached(batch)  # a whole step: the scaler unscales, finds no inf, steps
    assert torch.isfinite(out.loss)
