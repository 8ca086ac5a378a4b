"""One training step, free of I/O: used by the training loop and by the benchmarks alike.

:func:`compute_loss` is the pure part (forward + loss): all views of a batch (anchor, positive,
soft negative / hard negative) go through the encoder in ONE forward pass, stacked along the batch
axis, as SimCSE's ``cl_forward`` does; in a multi-process run the candidates are all-gathered with
gradients before the loss. :class:`TrainStep` adds the backward pass, gradient clipping, the
optimizer and scheduler steps, and loss scaling for fp16. Neither calls ``.item()`` or otherwise
waits for the device: the returned losses are device tensors, read by the loop at logging steps only.

For a benchmark, one step is::

    from sncse.train import build_train_step, batch_from_sentences
    step = build_train_step(cfg, total_steps=100)           # model, loss, AdamW (fused on CUDA), AMP
    batch = batch_from_sentences(step.model, step.views, sentences, negations=negations).to(step.device)
    out = step(batch)                                       # LossOutput of detached device tensors
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from ..amp import AmpSettings, resolve_amp
from ..config.schema import Config
from ..data.batching import Collator, TrainBatch
from ..data.corpus import TrainExamples
from ..data.tokenized import VIEW_ORDER, plan_views, tokenize_examples
from ..encoders.model import SentenceEncoder, resolve_device
from ..losses import build_loss
from ..losses.base import ContrastiveLoss, LossOutput
from .distributed import DistContext
from .optim import build_optimizer, build_scheduler

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------- forward
def encode_views(model: nn.Module, batch: TrainBatch, amp: AmpSettings | None = None) -> dict[str, torch.Tensor]:
    """One forward pass over the stacked views -> ``{view: (B, H)}``."""
    with amp.autocast() if amp is not None else nullcontext():
        emb = model(batch.input_ids, batch.attention_mask)  # (V * B, H)
    b = batch.size
    return {view: emb[k * b : (k + 1) * b] for k, view in enumerate(batch.views)}


def compute_loss(model: nn.Module, loss_fn: ContrastiveLoss, batch: TrainBatch, *,
                 amp: AmpSettings | None = None, dist: DistContext | None = None) -> LossOutput:
    """Forward all views in one pass, gather candidates across processes, apply the loss.

    ``model`` is the :class:`SentenceEncoder` (or its DDP / compiled wrapper) in training mode. The
    loss runs outside autocast, in fp32 (LOSS_API: similarities in fp32).
    """
    views = encode_views(model, batch, amp)
    anchor, positive = views["anchor"], views["positive"]
    hard = views.get("hard_negative")
    offset = 0
    if dist is not None and dist.enabled:
        if hard is not None:  # one collective for both candidate sets
            both = dist.all_gather_with_grad(torch.cat([positive, hard], dim=1))
            positive, hard = both.split(positive.shape[1], dim=1)
        else:
            positive = dist.all_gather_with_grad(positive)
        offset = dist.label_offset(batch.size)
    return loss_fn(anchor, positive, negation=views.get("negation"), hard_negative=hard, label_offset=offset)


# ---------------------------------------------------------------------------------------- step
class TrainStep:
    """forward + backward + (clip) + optimizer + scheduler, with no host synchronisation.

    ``model`` is the bare :class:`SentenceEncoder` (what is saved); ``forward_model`` what runs the
    forward (the same module, or its DDP / ``torch.compile`` wrapper).
    """

    def __init__(self, model: SentenceEncoder, loss_fn: ContrastiveLoss, optimizer: torch.optim.Optimizer,
                 scheduler: torch.optim.lr_scheduler.LRScheduler, amp: AmpSettings,
                 max_grad_norm: float | None = None, dist: DistContext | None = None,
                 forward_model: nn.Module | None = None, views: tuple[str, ...] = ("anchor", "positive")):
        self.model, self.loss_fn, self.optimizer, self.scheduler = model, loss_fn, optimizer, scheduler
        self.amp, self.max_grad_norm = amp, max_grad_norm
        self.dist = dist or DistContext()
        self.forward_model = forward_model if forward_model is not None else model
        self.views = views
        self._params = [p for p in model.parameters() if p.requires_grad]

    @property
    def device(self) -> torch.device:
        return self.amp.device

    def __call__(self, batch: TrainBatch) -> LossOutput:
        out = compute_loss(self.forward_model, self.loss_fn, batch, amp=self.amp, dist=self.dist)
        scaler = self.amp.scaler
        if scaler is not None:
            scaler.scale(out.loss).backward()
        else:
            out.loss.backward()
        if self.max_grad_norm:
            if scaler is not None:
                scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self._params, self.max_grad_norm)
        if scaler is not None:
            scaler.step(self.optimizer)
            scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return LossOutput(out.loss.detach(), {k: v.detach() for k, v in out.parts.items()})


# ---------------------------------------------------------------------------------------- building
def build_model(cfg: Config, device: torch.device | str | None = None) -> SentenceEncoder:
    """The encoder of ``cfg.model`` on ``device``, in training mode.

    The backbone's own pooler layer (BERT's dense+tanh over [CLS]), when it has one, is used by none
    of our poolers: it is frozen so that no gradient or optimizer state is spent on it and DDP does not
    wait for its gradients.
    """
    model = SentenceEncoder.from_config(cfg.model)
    inner_pooler = getattr(model.backbone, "pooler", None)
    if isinstance(inner_pooler, nn.Module):
        inner_pooler.requires_grad_(False)
    return model.to(resolve_device(device or cfg.train.device)).train()


def build_train_step(cfg: Config, model: SentenceEncoder | None = None, total_steps: int = 1000,
                     device: torch.device | str | None = None, dist: DistContext | None = None,
                     views: Sequence[str] | None = None) -> TrainStep:
    """Everything one step needs, from a config: model (unless given), loss, AdamW, schedule, AMP,
    and the DDP / ``torch.compile`` wrappers when the run asks for them."""
    device = resolve_device(device or (model.device if model is not None else cfg.train.device))
    model = model if model is not None else build_model(cfg, device)
    model.train()
    loss_fn = build_loss(cfg.loss).to(device)
    optimizer = build_optimizer(model, cfg.optim, device)
    scheduler = build_scheduler(optimizer, cfg.optim.warmup_steps, total_steps)
    amp = resolve_amp(device, cfg.train.amp)
    dist = dist or DistContext()
    forward: nn.Module = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        # the encoders' buffers (position / token-type ids) are constants: no broadcast before each forward
        forward = DDP(model, device_ids=[device.index] if device.type == "cuda" else None,
                      broadcast_buffers=False, gradient_as_bucket_view=True)
    if cfg.train.compile:
        forward = torch.compile(forward)
    if views is None:
        views = ("anchor",) + tuple(v for v in VIEW_ORDER[1:] if v in loss_fn.views)
    return TrainStep(model, loss_fn, optimizer, scheduler, amp, max_grad_norm=cfg.optim.max_grad_norm,
                     dist=dist, forward_model=forward, views=tuple(views))


def batch_from_sentences(model: SentenceEncoder, views: Sequence[str], sentences: Sequence[str],
                         negations: Sequence[str] | None = None, positives: Sequence[str] | None = None,
                         hard_negatives: Sequence[str] | None = None,
                         pad_to_multiple_of: int | None = None) -> TrainBatch:
    """Tokenize raw strings into one :class:`TrainBatch` (on the CPU; call ``.to(device)``).

    This is the on-the-fly path (tokenizing every step); training reads pre-tokenized cached data
    through the same :class:`~sncse.data.batching.Collator`, so both give identical tensors.
    """
    fmt = "nli" if positives is not None else ("negations" if negations is not None else "text")
    examples = TrainExamples(fmt, list(sentences), positive=list(positives) if positives is not None else None,
                             negation=list(negations) if negations is not None else None,
                             hard_negative=list(hard_negatives) if hard_negatives is not None else None)
    loss_views = tuple(v for v in views if v != "anchor")
    planned = plan_views(loss_views, examples)
    data = tokenize_examples(model, examples, planned)
    return Collator(data, pad_to_multiple_of=pad_to_multiple_of)(np.arange(len(examples)))
