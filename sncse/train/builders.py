"""Building a training step from a config: the model, the loss, AdamW, the schedule, AMP, the DDP /
``torch.compile`` wrappers, and the plain step (:mod:`sncse.train.step`) or the gradient cache's
(:mod:`sncse.train.gradcache`); and a batch from raw strings.

For a benchmark, one step is::

    from sncse.train import build_train_step, batch_from_sentences
    step = build_train_step(cfg, total_steps=100)           # model, loss, AdamW (fused on CUDA), AMP
    batch = batch_from_sentences(step.model, step.views, sentences, negations=negations).to(step.device)
    out = step(batch)                                       # LossOutput of detached device tensors
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..config.schema import Config
from ..data.batching import Collator, TrainBatch
from ..data.corpus import TrainExamples
from ..data.tokenized import VIEW_ORDER, plan_views, tokenize_examples
from ..encoders.amp import resolve_amp
from ..encoders.model import SentenceEncoder, resolve_device
from ..losses import build_loss
from .distributed import DistContext
from .gradcache import CachedTrainStep
from .optim import build_optimizer, build_scheduler
from .step import TrainStep


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
    the DDP / ``torch.compile`` wrappers when the run asks for them, and the gradient cache
    (:class:`~sncse.train.gradcache.CachedTrainStep`) when ``train.mini_batch_size`` is set."""
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
    args = (model, loss_fn, optimizer, scheduler, amp)
    kwargs = {"max_grad_norm": cfg.optim.max_grad_norm, "dist": dist, "forward_model": forward, "views": tuple(views)}
    if cfg.train.mini_batch_size:
        return CachedTrainStep(*args, mini_batch_size=cfg.train.mini_batch_size, **kwargs)
    return TrainStep(*args, **kwargs)


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
