"""Training: the loop behind ``sncse train`` and the pieces a benchmark needs for one step.

>>> from sncse.config import load_config
>>> from sncse.train import train
>>> run_dir = train(load_config("configs/tiny.yaml"))                     # doctest: +SKIP

One step, for benchmarks (no I/O, no host synchronisation)::

    from sncse.train import build_train_step, batch_from_sentences
    step = build_train_step(cfg, total_steps=n)
    batch = batch_from_sentences(step.model, step.views, sentences, negations=negs).to(step.device)
    out = step(batch)            # LossOutput(loss, parts): detached tensors on the device
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["train", "resolve_train_config", "Trainer", "TrainStep", "build_train_step", "build_model",
           "build_loss", "compute_loss", "encode_views", "batch_from_sentences"]

_LAZY = {
    "train": "loop", "resolve_train_config": "loop", "Trainer": "loop",
    "TrainStep": "step", "build_train_step": "step", "build_model": "step", "build_loss": "step",
    "compute_loss": "step", "encode_views": "step", "batch_from_sentences": "step",
}

if TYPE_CHECKING:
    from .loop import Trainer, resolve_train_config, train
    from .step import (
        TrainStep,
        batch_from_sentences,
        build_loss,
        build_model,
        build_train_step,
        compute_loss,
        encode_views,
    )


def __getattr__(name: str) -> Any:
    """Import lazily: ``import sncse.train`` stays cheap until something is used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
