"""Training: the loop behind ``sncse train`` and the pieces a benchmark needs for one step.

>>> from sncse.config import load_config
>>> from sncse.train import train
>>> run_dir = train(load_config("configs/tiny.yaml"))                     # doctest: +SKIP

The run's own steps, driven by hand (what ``bench/train_throughput.py`` times)::

    trainer = Trainer(cfg, overwrite=True)
    trainer.setup()
    out = trainer.step()         # the loop's step on the run's next batch; trainer.close() at the end

A step hook (``register_step_hook`` for every trainer in the process, ``Trainer(hooks=...)`` for one)
runs after each step's logging, evaluation and checkpoint.

One step outside a run, for benchmarks (no I/O, no host synchronisation)::

    from sncse.train import build_train_step, batch_from_sentences
    step = build_train_step(cfg, total_steps=n)
    batch = batch_from_sentences(step.model, step.views, sentences, negations=negs).to(step.device)
    out = step(batch)            # LossOutput(loss, parts): detached tensors on the device

``build_train_step`` (``sncse/train/builders.py``) returns a :class:`TrainStep` (``sncse/train/step.py``),
or with ``train.mini_batch_size`` set a :class:`CachedTrainStep` (the gradient cache,
``sncse/train/gradcache.py``): the same call, forward passes of a few rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["train", "resolve_train_config", "Trainer", "register_step_hook", "TrainStep", "CachedTrainStep",
           "build_train_step",
           "build_model", "build_loss", "compute_loss", "encode_views", "batch_from_sentences"]

_LAZY = {
    "train": "loop", "resolve_train_config": "loop", "Trainer": "loop", "register_step_hook": "loop",
    "TrainStep": "step", "CachedTrainStep": "gradcache", "compute_loss": "step", "encode_views": "step",
    "build_train_step": "builders", "build_model": "builders", "build_loss": "builders",
    "batch_from_sentences": "builders",
}

if TYPE_CHECKING:
    from .builders import batch_from_sentences, build_loss, build_model, build_train_step
    from .gradcache import CachedTrainStep
    from .loop import Trainer, register_step_hook, resolve_train_config, train
    from .step import TrainStep, compute_loss, encode_views


def __getattr__(name: str) -> Any:
    """Import lazily: ``import sncse.train`` stays cheap until something is used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
