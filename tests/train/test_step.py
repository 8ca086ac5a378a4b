"""The training step: the fast path (all views in one padded forward, cached tokens) gives the same
loss and gradients as the plain path (one forward per view, tokenizing on the fly), on CPU in fp32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sncse.config import load_config
from sncse.data.batching import Collator
from sncse.data.corpus import TrainExamples
from sncse.data.tokenized import plan_views, tokenize_examples
from sncse.encoders.amp import autocast_dtype, resolve_amp
from sncse.errors import ConfigError
from sncse.train.builders import batch_from_sentences, build_loss, build_model, build_train_step
from sncse.train.seed import seed_everything
from sncse.train.step import compute_loss


def _cfg(loss: str, pooler: str, *extra: str):
    return load_config(None, [f"loss.name={loss}", "model.encoder=tiny-bert", f"model.pooler={pooler}",
                              "model.dropout=0.0", "train.device=cpu", *extra])


def _examples(wiki_lines, kind: str) -> TrainExamples:
    s = wiki_lines[:12]
    if kind == "negations":
        return TrainExamples("negations", s, negation=["not " + x for x in s])
    if kind == "nli":
        return TrainExamples("nli", s, positive=wiki_lines[12:24], hard_negative=wiki_lines[24:36])
    return TrainExamples("text", s)


def _plain_loss(model, loss_fn, ex: TrainExamples, views):
    """Reference: one forward pass per view on separately tokenized and padded inputs."""
    from sncse.data.tokenized import VIEW_TEMPLATE, _sentences_for

    emb = {}
    for v in views:
        batch = model.collate(model.tokenize(_sentences_for(v, ex), view=VIEW_TEMPLATE[v]))
        emb[v] = model(batch["input_ids"], batch["attention_mask"])
    return loss_fn(emb["anchor"], emb["positive"], negation=emb.get("negation"), hard_negative=emb.get("hard_negative"))


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("loss,pooler,kind", [
    ("bml", "prompt", "negations"), ("infonce", "cls", "text"), ("sup", "cls", "nli"),
    ("nl", "avg_first_last", "negations"), ("mixcse", "mean", "text"),
])
def test_fast_path_equals_plain_path(wiki_lines, loss, pooler, kind) -> None:
    """In float64, where padding and summation order cannot decide the comparison."""
    cfg = _cfg(loss, pooler)
    seed_everything(0)
    model = build_model(cfg, "cpu").double()
    loss_fn = build_loss(cfg.loss)
    ex = _examples(wiki_lines, kind)
    views = plan_views(loss_fn.views, ex, loss)
    plain = _plain_loss(model, loss_fn, ex, views)
    plain.loss.backward()
    g_plain = _grads(model)
    model.zero_grad(set_to_none=True)

    data = tokenize_examples(model, ex, views)  # what the cache stores
    batch = Collator(data, pad_to_multiple_of=8)(np.arange(len(ex)))  # one (V*B, L) forward, extra padding
    assert batch.input_ids.shape[0] == len(views) * len(ex)
    fast = compute_loss(model, loss_fn, batch)
    fast.loss.backward()
    g_fast = _grads(model)
    assert fast.loss.dtype == torch.float64
    assert fast.loss.item() == pytest.approx(plain.loss.item(), rel=1e-12, abs=1e-14)
    for k in plain.parts:
        assert fast.parts[k].item() == pytest.approx(plain.parts[k].item(), rel=1e-12, abs=1e-14)
    assert g_plain.keys() == g_fast.keys()
    scale = max(g.abs().max().item() for g in g_plain.values())  # some true gradients are 0: absolute noise
    for n in g_plain:
        torch.testing.assert_close(g_fast[n], g_plain[n], rtol=1e-9, atol=1e-12 * scale, msg=n)

    # the on-the-fly helper the benchmarks use builds the very same tensors
    other = batch_from_sentences(model, views, ex.anchor, negations=ex.negation, positives=ex.positive,
                                 hard_negatives=ex.hard_negative, pad_to_multiple_of=8)
    assert torch.equal(other.input_ids, batch.input_ids)


def test_bf16_autocast_loss_is_close(wiki_lines) -> None:
    cfg = _cfg("bml", "prompt")
    seed_everything(0)
    model = build_model(cfg, "cpu")
    loss_fn = build_loss(cfg.loss)
    ex = _examples(wiki_lines, "negations")
    batch = batch_from_sentences(model, ("anchor", "positive", "negation"), ex.anchor, negations=ex.negation)
    fp32 = compute_loss(model, loss_fn, batch).loss.item()
    bf16 = compute_loss(model, loss_fn, batch, amp=resolve_amp(torch.device("cpu"), "bf16")).loss.item()
    assert bf16 == pytest.approx(fp32, rel=3e-2)


def test_amp_resolution_on_cpu() -> None:
    cpu = torch.device("cpu")
    assert resolve_amp(cpu, "auto").dtype is None and resolve_amp(cpu, "auto").scaler is None
    assert resolve_amp(cpu, "off").name == "fp32"
    assert resolve_amp(cpu, "bf16").dtype is torch.bfloat16
    with pytest.raises(ConfigError, match="fp16 needs CUDA"):
        resolve_amp(cpu, "fp16")


def test_encode_follows_the_same_precision_policy(tiny_backbone) -> None:
    """One policy: encode(amp=...) runs in the dtype autocast_dtype picks, as the training step does."""
    from sncse.encoders import SentenceEncoder
    from sncse.errors import SncseError

    cpu = torch.device("cpu")
    assert autocast_dtype(cpu, "auto") is None and autocast_dtype(cpu, "bf16") is torch.bfloat16
    assert resolve_amp(cpu, "bf16").dtype is autocast_dtype(cpu, "bf16")
    backbone, tok = tiny_backbone
    model = SentenceEncoder(backbone, tok, pooler="cls", mlp="none")
    sentences = ["a cat sat on the mat", "two dogs run through a field"]
    fp32 = model.encode(sentences, show_progress=False)
    assert np.array_equal(fp32, model.encode(sentences, amp="off", show_progress=False))
    bf16 = model.encode(sentences, amp="bf16", show_progress=False)
    assert not np.array_equal(bf16, fp32) and np.allclose(bf16, fp32, atol=0.1)  # bf16 ran, and is close
    with pytest.raises(SncseError, match="fp16 needs CUDA"):
        model.encode(sentences, amp="fp16", show_progress=False)


def test_train_step_updates_and_returns_detached(wiki_lines) -> None:
    cfg = _cfg("infonce", "cls", "optim.lr=1e-3", "optim.warmup_steps=2", "optim.max_grad_norm=1.0")
    seed_everything(0)
    step = build_train_step(cfg, total_steps=4)
    assert step.views == ("anchor", "positive")
    assert step.model.training and step.amp.name == "fp32"
    before = {n: p.detach().clone() for n, p in step.model.named_parameters()}
    batch = batch_from_sentences(step.model, step.views, wiki_lines[:8])
    lrs = []
    for _ in range(4):
        out = step(batch)
        lrs.append(step.scheduler.get_last_lr()[0])
        assert not out.loss.requires_grad and out.loss.dim() == 0 and "infonce" in out.parts
        assert all(p.grad is None for p in step.model.parameters())
    # linear warm-up over 2 steps, then linear decay to 0 at step 4 (Hugging Face's schedule)
    assert lrs == pytest.approx([5e-4, 1e-3, 5e-4, 0.0])
    changed = [n for n, p in step.model.named_parameters() if not torch.equal(p, before[n])]
    assert "head.dense.weight" in changed and any(n.startswith("backbone.encoder") for n in changed)
