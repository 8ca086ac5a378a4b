"""One training step, free of I/O: used by the training loop and by the benchmarks alike.

:func:`compute_loss` is the pure part (forward + loss): all views of a batch (anchor, positive,
soft negative / hard negative) go through the encoder in ONE forward pass, stacked along the batch
axis, as SimCSE's ``cl_forward`` does; in a multi-process run the candidates are all-gathered with
gradients before the loss. :class:`TrainStep` adds the backward pass, gradient clipping, the
optimizer and scheduler steps, and loss scaling for fp16. Neither calls ``.item()`` or otherwise
waits for the device: the returned losses are device tensors, read by the loop at logging steps only.

A step is built from a config by :mod:`sncse.train.builders` (``build_train_step``), which picks
this step or the gradient cache's (:mod:`sncse.train.gradcache`).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

import torch
from torch import nn

from ..data.batching import TrainBatch
from ..encoders.amp import AmpSettings
from ..encoders.model import SentenceEncoder
from ..losses.base import ContrastiveLoss, LossOutput
from .distributed import DistContext

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------- forward
def split_views(emb: torch.Tensor, batch: TrainBatch) -> dict[str, torch.Tensor]:
    """``(V * B, H)`` rows in the batch's stacked order -> ``{view: (B, H)}``."""
    b = batch.size
    return {view: emb[k * b : (k + 1) * b] for k, view in enumerate(batch.views)}


def encode_views(model: nn.Module, batch: TrainBatch, amp: AmpSettings | None = None) -> dict[str, torch.Tensor]:
    """One forward pass over the stacked views -> ``{view: (B, H)}``."""
    with amp.autocast() if amp is not None else nullcontext():
        emb = model(batch.input_ids, batch.attention_mask)  # (V * B, H)
    return split_views(emb, batch)


def loss_on_views(loss_fn: ContrastiveLoss, views: dict[str, torch.Tensor], local_batch: int,
                  dist: DistContext | None = None) -> LossOutput:
    """The loss on this process's view embeddings, with the candidates (positives, hard negatives)
    all-gathered across processes with gradients first in a multi-process run."""
    anchor, positive = views["anchor"], views["positive"]
    hard = views.get("hard_negative")
    offset = 0
    if dist is not None and dist.enabled:
        if hard is not None:  # one collective for both candidate sets
            both = dist.all_gather_with_grad(torch.cat([positive, hard], dim=1))
            positive, hard = both.split(positive.shape[1], dim=1)
        else:
            positive = dist.all_gather_with_grad(positive)
        offset = dist.label_offset(local_batch)
    return loss_fn(anchor, positive, negation=views.get("negation"), hard_negative=hard, label_offset=offset)


def compute_loss(model: nn.Module, loss_fn: ContrastiveLoss, batch: TrainBatch, *,
                 amp: AmpSettings | None = None, dist: DistContext | None = None) -> LossOutput:
    """Forward all views in one pass, gather candidates across processes, apply the loss.

    ``model`` is the :class:`SentenceEncoder` (or its DDP / compiled wrapper) in training mode. The
    loss runs outside autocast, in fp32 (LOSS_API: similarities in fp32).
    """
    return loss_on_views(loss_fn, encode_views(model, batch, amp), batch.size, dist)


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

    #: forward passes of the last step (the gradient cache runs several)
    chunks: int = 1

    def __call__(self, batch: TrainBatch) -> LossOutput:
        out = self.forward_backward(batch)
        self.optimizer_step()
        return LossOutput(out.loss.detach(), {k: v.detach() for k, v in out.parts.items()})

    def forward_backward(self, batch: TrainBatch) -> LossOutput:
        """The loss of ``batch`` and its gradients in ``.grad`` (scaled, under fp16)."""
        out = compute_loss(self.forward_model, self.loss_fn, batch, amp=self.amp, dist=self.dist)
        self.backward(out.loss)
        return out

    def backward(self, loss: torch.Tensor) -> None:
        """``loss.backward()``, through the gradient scaler under fp16."""
        scaler = self.amp.scaler
        (scaler.scale(loss) if scaler is not None else loss).backward()

    def optimizer_step(self) -> None:
        """(Unscale and) clip, step the optimizer (skipped by the scaler on inf/nan) and the schedule."""
        scaler = self.amp.scaler
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
