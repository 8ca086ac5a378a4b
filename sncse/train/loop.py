"""The training loop behind ``sncse train``: data, steps, logging, dev evaluation, checkpoints, resume.

Faithful to SimCSE / SNCSE training (Hugging Face Trainer defaults they used): AdamW, linear decay,
STS-B dev Spearman (or that of ``train.dev_file``, own scored pairs) every ``train.eval_steps`` steps,
the best checkpoint kept. What it adds:
exact resumption (``--resume``), multi-process training with gathered negatives (``torchrun``),
mixed precision, cached tokenization, and a step with no host synchronisation except at logging steps.

Run directory (``train.output_dir``): its layout and file names are in :mod:`sncse.rundir`.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import registry
from ..config import Config, dump_yaml, load_config, to_dict
from ..config.loader import ENV_CONFIG
from ..data.batching import BatchSampler, Collator, Position, TrainBatch, batches, duplicate_groups
from ..data.corpus import file_digest, read_training_file
from ..data.root import find_data_file
from ..data.tokenized import TokenizedData, cached_tokenize, plan_views
from ..encoders.amp import precision
from ..encoders.model import SentenceEncoder, resolve_device
from ..encoders.resolve import read_model
from ..errors import ConfigError, SncseError
from ..io import atomic_write, read_json, write_json
from ..losses.base import LossOutput
from ..outputs import PathPlan
from ..progress import task
from ..rundir.files import (
    BEST,
    CHECKPOINTS,
    CONFIG_FILE,
    LAST,
    METRICS_FILE,
    RESULTS_FILE,
    RUN_INFO_FILE,
    TENSORBOARD_DIR,
    is_run_file,
)
from ..runinfo import write_run_info
from .builders import build_model, build_train_step
from .checkpoint import find_resume_dir, load_model_weights, load_trainer_state, save_checkpoint
from .dev_eval import DevEvaluator
from .distributed import DistContext, PeerFailure, init_distributed
from .metrics import MetricsWriter, truncate_metrics
from .seed import derived_seed, rng_state, seed_everything, set_rng_state
from .step import TrainStep

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------ run directory
def resolve_train_config(config: str | Path | None = None, overrides: list[str] | None = None,
                         extra: dict[str, Any] | None = None, resume: bool = False) -> Config:
    """The config of a ``sncse train`` call: defaults <- file <- options <- ``--set``.

    With ``--resume`` and no config file, the run's own config (``RUN/config.yaml``) is the file, so that
    ``sncse train -o RUN --resume`` continues with exactly the settings the run started with.
    """
    cfg = load_config(config, overrides, extra)
    if resume and not (config or os.environ.get(ENV_CONFIG)):
        saved = Path(cfg.train.output_dir) / CONFIG_FILE
        if saved.exists():
            cfg = load_config(saved, overrides, extra)
    return cfg


def _config_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            keys += _config_diff(va, vb, f"{prefix}{k}.")
        elif va != vb:
            keys.append(f"{prefix}{k}")
    return keys


def check_run_dir(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to write into a non-empty directory unless resuming or overwriting (read-only check)."""
    if out.exists() and not out.is_dir():
        raise SncseError("output path exists and is not a directory", path=out)
    if resume and overwrite:
        raise SncseError("resuming a run and overwriting it exclude each other", setting="resume")
    if out.is_dir() and any(out.iterdir()) and not (resume or overwrite):
        raise SncseError("output directory is not empty; resume the run in it, overwrite it, or choose another "
                         "output directory", path=out, setting="resume")
    if overwrite and out.is_dir() and any(out.iterdir()):
        foreign = [p.name for p in out.iterdir() if not is_run_file(p.name)]
        if foreign:
            raise SncseError(f"overwriting only replaces sncse run directories; it also holds {foreign[:3]}",
                             path=out, setting="overwrite")


def plan_paths(cfg: Config, paths: PathPlan | None = None) -> PathPlan:
    """What a run reads (the training file, the dev file, a local encoder) and writes (the run
    directory's files and checkpoints); resuming reads the run's own files, which are not inputs."""
    out = Path(cfg.train.output_dir)
    data = find_data_file(cfg.data.train_file)
    plan = (paths or PathPlan()).read(data, "the training data", folder=data.is_dir())
    read_model(plan.read(cfg.train.dev_file, "the dev file"), cfg.model.encoder, "the encoder")
    plan.write(out, "the run directory", folder=True)
    for name in (CONFIG_FILE, RUN_INFO_FILE, METRICS_FILE, RESULTS_FILE):
        plan.write(out / name, f"the run's {name}")
    for name in CHECKPOINTS:
        plan.write(out / name, f"the run's {name}/ checkpoint", replaced=True)
    if cfg.train.tensorboard:
        plan.write(out / TENSORBOARD_DIR, "the TensorBoard folder", folder=True)
    return plan.write(token_cache_dir(cfg), "the token cache", folder=True)


def token_cache_dir(cfg: Config) -> Path:
    """Where the tokenized training data is cached: ``data.cache_dir``, else ``.sncse_cache`` beside the run."""
    return Path(cfg.data.cache_dir) if cfg.data.cache_dir else Path(cfg.train.output_dir).resolve().parent / ".sncse_cache"


def clear_run_dir(out: Path) -> None:
    for p in list(out.iterdir()) if out.is_dir() else []:
        if not is_run_file(p.name):
            continue
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


# ------------------------------------------------------------------------------------ hooks
#: ``hook(trainer)``, called after every optimizer step once that step's logging, evaluation and
#: checkpoint are done; ``trainer.global_step`` is the step just taken.
StepHook = Callable[["Trainer"], None]
_STEP_HOOKS: list[StepHook] = []


def register_step_hook(hook: StepHook) -> Callable[[], None]:
    """Call ``hook`` after every step of every :class:`Trainer` in this process (as torch's
    ``register_module_forward_hook`` does for modules): the way to act on a run started by
    ``sncse train`` (early stopping, external logging; the resume test kills a CLI run with one).
    Returns a function that removes the hook."""
    _STEP_HOOKS.append(hook)
    return lambda: _STEP_HOOKS.remove(hook)


class TrainClock:
    """Seconds of training only: dev evaluation and checkpoint writing run while it is paused.

    On CUDA the device is synchronised when the clock stops, so queued kernels count where they ran.
    ``window`` is the time since the last :meth:`reset_window` (the rate of one log record).
    """

    def __init__(self, device: torch.device, total: float = 0.0):
        self.cuda = device.type == "cuda"
        self.device = device
        self.total, self.window = total, 0.0
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = time.perf_counter()

    def stop(self) -> None:
        if self._t0 is None:
            return
        if self.cuda:
            torch.cuda.synchronize(self.device)
        dt = time.perf_counter() - self._t0
        self.total += dt
        self.window += dt
        self._t0 = None

    def reset_window(self) -> None:
        self.window = 0.0

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()


class LossWindow:
    """Sums of the step losses (and their parts) since the last log record, kept on the device so
    that adding one costs no host synchronisation; :meth:`read` is the one sync, at log steps."""

    def __init__(self, device: torch.device):
        self.device = device
        self.reset()

    def reset(self) -> None:
        self.loss = torch.zeros((), device=self.device)
        self.parts: dict[str, torch.Tensor] = {}
        self.steps = 0

    def add(self, out: LossOutput) -> None:
        self.loss += out.loss
        for k, v in out.parts.items():
            self.parts[k] = self.parts[k] + v if k in self.parts else v.clone()
        self.steps += 1

    def read(self, dist: DistContext) -> tuple[float, dict[str, float]]:
        """Mean loss and parts over the window and over processes (a collective on every rank)."""
        n = max(1, self.steps)
        loss = dist.mean(self.loss / n).item()
        parts = {k: round(dist.mean(v / n).item(), 6) for k, v in self.parts.items()}
        return loss, parts


# ------------------------------------------------------------------------------------ trainer
class Trainer:
    """One training run. ``Trainer(cfg).run()`` is :func:`train`.

    ``run()`` is ``setup()``, then ``fit()`` (the loop), then ``results.json``. For code that drives
    the steps itself (benchmarks), ``setup()`` then :meth:`step` (or :meth:`next_batch` +
    ``step(batch)``) and :meth:`close`.
    """

    def __init__(self, cfg: Config, argv: list[str] | None = None, resume: bool = False, overwrite: bool = False,
                 hooks: Sequence[StepHook] = (), paths: PathPlan | None = None):
        self.cfg, self.argv, self.resume, self.overwrite = cfg, argv, resume, overwrite
        self.paths = paths  # the caller's plan of paths (its own outputs), checked with the run's
        self.out = Path(cfg.train.output_dir)
        self.dist = DistContext()
        self.step_fn: TrainStep | None = None
        self.global_step = 0  # optimizer steps taken
        self.position = Position()
        self.best_score: float | None = None
        self.best_step: int | None = None
        self.last_loss: float | None = None
        self.evaluator: DevEvaluator | None = None
        self.hooks: list[StepHook] = list(hooks)
        self._stream: Any = None
        self._train_seconds = 0.0  # from a resumed checkpoint, until the clock exists

    # -------------------------------------------------------------------- setup
    def _check_world_size(self) -> None:
        """What only the launch can tell; every other setting was checked when the config was loaded."""
        batch = self.cfg.train.batch_size
        if batch % self.dist.world_size:
            raise ConfigError(f"key 'train.batch_size': {batch} is not divisible by the "
                              f"{self.dist.world_size} processes (it is the global batch)")

    def _load_data(self, model: SentenceEncoder, loss_views: tuple[str, ...]) -> tuple[TokenizedData, tuple[str, ...]]:
        cfg = self.cfg
        examples = read_training_file(cfg.data.train_file, cfg.data.format, cfg.data.limit,
                                      add_period=cfg.data.end_with_period)
        views = plan_views(loss_views, examples, cfg.loss.name)
        if len(examples) < cfg.train.batch_size:
            raise SncseError(f"{len(examples)} training examples are fewer than one batch of "
                             f"{cfg.train.batch_size}; lower train.batch_size", path=examples.source)
        cache_dir = token_cache_dir(cfg)
        options = {"format": examples.format, "limit": cfg.data.limit, "end_with_period": cfg.data.end_with_period}
        digest = file_digest(find_data_file(cfg.data.train_file))
        # rank 0 tokenizes and writes the cache; the others then read it
        data = self.dist.on_main(lambda: cached_tokenize(model, examples, views, cache_dir, digest, **options),
                                 "tokenizing the training data")
        if not self.dist.is_main:
            data = cached_tokenize(model, examples, views, cache_dir, digest, write=False, **options)
        log.info("training data: %d examples, views %s", len(data), ", ".join(views))
        return data, views

    def setup(self) -> None:
        cfg = self.cfg
        self.dist, dist_device = init_distributed(cfg.train.device, timeout=cfg.train.dist_timeout)
        self._check_world_size()
        plan_paths(cfg, self.paths).check()
        check_run_dir(self.out, self.resume, self.overwrite)
        self.device = dist_device or resolve_device(cfg.train.device)
        self.dist.barrier()  # every rank has checked the directory before rank 0 changes it
        if cfg.train.eval_steps > 0:  # a bad dev file stops the run before the run directory is touched
            self.evaluator = self.dist.on_main(self._build_evaluator, "building the dev evaluator")
        self.dist.on_main(self._prepare_run_dir, "preparing the run directory")

        seed_everything(cfg.train.seed)
        # the views the loss class declares, read without building it (the step builds the loss)
        loss_views = tuple(registry.get_class("losses", cfg.loss.name).views)
        model = build_model(cfg, self.device)
        self.data, self.views = self._load_data(model, loss_views)
        self.sampler = BatchSampler(len(self.data), cfg.train.batch_size, seed=cfg.train.seed,
                                    mode=cfg.data.batching, lengths=self.data.lengths,
                                    rank=self.dist.rank, world_size=self.dist.world_size,
                                    groups=duplicate_groups(self.data) if cfg.data.dedup_batches else None)
        if cfg.data.dedup_batches and self.dist.is_main:
            self._log_dedup()
        steps_per_epoch = self.sampler.steps_per_epoch
        self.total_steps = cfg.train.max_steps if cfg.train.max_steps > 0 else cfg.train.epochs * steps_per_epoch
        self.step_fn = build_train_step(cfg, model, total_steps=self.total_steps, device=self.device,
                                        dist=self.dist, views=self.views)
        if self.dist.enabled:  # different dropout masks on each process
            torch.manual_seed(cfg.train.seed + 1_000_003 * self.dist.rank)
        cuda = self.device.type == "cuda"
        self.collator = Collator(self.data, pad_to_multiple_of=8 if cuda else None,
                                 fixed_length=cfg.model.max_length if cfg.train.compile else None)
        if self.resume:
            self._restore()
        self.clock = TrainClock(self.device, total=self._train_seconds)
        self.window = LossWindow(self.device)
        opened = self.dist.on_main(self._open_run_files, "writing the run files")
        self.metrics = opened if opened is not None else MetricsWriter(self.out, enabled=False)

    def _prepare_run_dir(self) -> None:
        if self.overwrite:
            clear_run_dir(self.out)
        self.out.mkdir(parents=True, exist_ok=True)

    def _build_evaluator(self) -> DevEvaluator:
        """The dev evaluation (rank 0): ``train.dev_file`` or STS-B dev, in the precision of ``eval.amp``."""
        cfg = self.cfg
        try:
            precision(self.device, cfg.eval.amp)  # fp16 on a CPU is refused now, not at the first evaluation
        except SncseError as exc:
            raise ConfigError(f"key 'eval.amp': {exc}") from None
        options = {"limit": cfg.train.eval_limit, "batch_size": cfg.eval.batch_size, "amp": cfg.eval.amp}
        if cfg.train.dev_file:
            return DevEvaluator.from_file(cfg.train.dev_file, columns=cfg.train.dev_columns, **options)
        return DevEvaluator.from_sts("stsb", **options)

    def _open_run_files(self) -> MetricsWriter:
        """``metrics.jsonl`` cut to the step the run starts from, ``config.yaml``, ``run.json`` (rank 0)."""
        truncate_metrics(self.out / METRICS_FILE, self.global_step)
        self._write_run_files()
        return MetricsWriter(self.out, tensorboard=self.cfg.train.tensorboard, enabled=True)

    def _log_dedup(self) -> None:
        groups = self.sampler.groups
        assert groups is not None
        dup = groups >= 0
        stats = self.sampler.dedup_stats(0)
        log.info("data.dedup_batches: %d examples share their anchor with another (%d distinct sentences); "
                 "epoch 0: %d of %d batches held a duplicate, %d examples moved, %d batches changed",
                 int(dup.sum()), len(np.unique(groups[dup])),
                 stats["batches_with_duplicates"], stats["batches"], stats["moved"], stats["batches_changed"])

    def _write_run_files(self) -> None:
        """``config.yaml`` (what ``--resume`` re-reads) and ``run.json`` (versions, device, command)."""
        with atomic_write(self.out / CONFIG_FILE) as fh:
            fh.write(dump_yaml(self.cfg))
        extra: dict[str, Any] = {"world_size": self.dist.world_size, "device_used": str(self.device),
                                 "amp": self.amp_name, "total_steps": self.total_steps}
        if self.global_step:
            extra["resumed_from_step"] = self.global_step
            prev = self.out / RUN_INFO_FILE
            if prev.exists():
                extra["previous_run"] = read_json(prev)
        write_run_info(self.out, self.argv, extra)

    def _restore(self) -> None:
        ckpt = find_resume_dir(self.out)
        if ckpt is None:
            log.warning("%s: no checkpoint to resume from; starting from step 0", self.out)
            return
        saved_cfg = self.out / CONFIG_FILE
        if saved_cfg.exists():
            diff = _config_diff(to_dict(load_config(saved_cfg)), to_dict(self.cfg))
            if diff:
                log.warning("resuming with settings that differ from the run's config.yaml: %s", ", ".join(diff))
        step_fn = self.step_fn
        assert step_fn is not None
        state = load_trainer_state(ckpt, map_location=self.device)
        load_model_weights(step_fn.model, ckpt)
        step_fn.optimizer.load_state_dict(state["optimizer"])
        step_fn.scheduler.load_state_dict(state["scheduler"])
        if step_fn.amp.scaler is not None and state.get("scaler"):
            step_fn.amp.scaler.load_state_dict(state["scaler"])
        self.global_step = int(state["step"])
        self._restore_rng(state["rng"])
        self.position = Position.from_dict(state["position"])
        self.best_score, self.best_step = state.get("best_score"), state.get("best_step")
        self._train_seconds = float(state.get("train_seconds", 0.0))
        self.last_loss = state.get("last_loss")
        log.info("resumed from %s at step %d", ckpt, self.global_step)

    def _restore_rng(self, saved: list[dict[str, Any]]) -> None:
        """Each process restores the generators it saved; where the number of processes changed, every
        process gets fresh ones of its own instead (one saved state shared by several processes would
        give them the same dropout masks)."""
        fresh = derived_seed(self.cfg.train.seed, self.global_step, self.dist.rank)
        if len(saved) == self.dist.world_size:
            set_rng_state(saved[self.dist.rank], self.device, fresh_seed=fresh)
            return
        if self.dist.is_main:
            log.warning("the checkpoint holds the random states of %d process(es), this run has %d: every process "
                        "gets fresh ones derived from the run's seed, the step and its rank (dropout masks differ "
                        "from an uninterrupted run)", len(saved), self.dist.world_size)
        seed_everything(fresh)

    @property
    def model(self) -> SentenceEncoder:
        """The bare encoder being trained (what checkpoints save and the dev evaluation encodes with)."""
        assert self.step_fn is not None, "call setup() first"
        return self.step_fn.model

    @property
    def amp_name(self) -> str | None:
        return self.step_fn.amp.name if self.step_fn is not None else None

    @property
    def train_seconds(self) -> float:
        return self.clock.total if hasattr(self, "clock") else self._train_seconds

    # -------------------------------------------------------------------- one step
    def next_batch(self) -> TrainBatch:
        """The next training batch, on the host; the data stream opens at the run's position on first use."""
        if self._stream is None:
            self._stream = batches(self.sampler, self.collator, start=self.position,
                                   workers=self.cfg.train.num_workers, pin_memory=self.device.type == "cuda")
        return next(self._stream)

    def step(self, batch: TrainBatch | None = None) -> LossOutput:
        """One optimizer step on ``batch`` (default: :meth:`next_batch`). No host synchronisation: the
        returned losses are detached device tensors."""
        assert self.step_fn is not None, "call setup() first"
        batch = batch if batch is not None else self.next_batch()
        out = self.step_fn(batch.to(self.device))
        self.global_step += 1
        self.position = batch.position or self.position
        return out

    def close(self) -> None:
        """Stop the data stream (its collation thread, when ``train.num_workers`` > 0)."""
        if self._stream is not None and hasattr(self._stream, "close"):
            self._stream.close()
        self._stream = None

    # -------------------------------------------------------------------- checkpoints / eval
    def _state(self) -> dict[str, Any]:
        step_fn = self.step_fn
        assert step_fn is not None
        return {
            "step": self.global_step,
            "position": self.position.to_dict(),
            "optimizer": step_fn.optimizer.state_dict(),
            "scheduler": step_fn.scheduler.state_dict(),
            "scaler": step_fn.amp.scaler.state_dict() if step_fn.amp.scaler is not None else None,
            "rng": self.dist.gather_objects(rng_state(self.device)),
            "best_score": self.best_score,
            "best_step": self.best_step,
            "train_seconds": self.train_seconds,
            "last_loss": self.last_loss,
            "total_steps": self.total_steps,
        }

    def save_last(self) -> None:
        state = self._state()  # a collective in multi-process runs: every rank builds it
        self.dist.on_main(lambda: save_checkpoint(self.model, self.out, LAST, state), f"saving {LAST}/")

    def evaluate(self) -> float | None:
        """Dev score on rank 0; ``best/`` is written when it improves. Every rank learns the best."""
        score, self.best_score, self.best_step = self.dist.on_main(self._evaluate_main, "evaluating on the dev set",
                                                                   share=True)
        return score

    def _evaluate_main(self) -> tuple[float | None, float | None, int | None]:
        if self.evaluator is None:
            return None, self.best_score, self.best_step
        score = self.evaluator(self.model)
        defined = math.isfinite(score)
        record: dict[str, Any] = {"step": self.global_step, self.evaluator.name: round(score, 4) if defined else None}
        if self.evaluator.source is not None:
            record["dev_file"] = self.evaluator.source  # which file the selection score came from
        self.metrics.write(record)
        improved = defined and (self.best_score is None or score > self.best_score)
        if defined:
            log.info("step %d: %s %.2f%s", self.global_step, self.evaluator.name, score, " (best)" if improved else "")
        else:  # a constant gold score or constant cosines: the correlation does not exist
            log.warning("step %d: %s is undefined (%s: the gold scores or the model's cosines are all equal); "
                        "no checkpoint is selected on it", self.global_step, self.evaluator.name, score)
        if improved:
            self.best_score, self.best_step = score, self.global_step
            save_checkpoint(self.model, self.out, BEST)
        return score, self.best_score, self.best_step

    # -------------------------------------------------------------------- the loop
    def run(self) -> Path:
        """Train; on an error in a multi-process run, log which process failed and leave the process group
        without waiting for the others (they fail at their next collective), then raise it."""
        wall_start = time.perf_counter()
        ok = False
        try:
            self.setup()
            self.fit()
            results = self._results(time.perf_counter() - wall_start)
            self.dist.on_main(lambda: write_json(self.out / RESULTS_FILE, results), f"writing {RESULTS_FILE}")
            ok = True
        except BaseException as exc:
            if self.dist.enabled and not isinstance(exc, PeerFailure):
                log.error("process %d of %d failed: %s: %s", self.dist.rank, self.dist.world_size,
                          type(exc).__name__, exc)
            raise
        finally:
            self.close()
            if hasattr(self, "metrics"):
                self.metrics.close()
            self.dist.close(ok=ok)
        return self.out

    def fit(self) -> None:
        """Step until ``total_steps``: log every ``log_steps``, evaluate every ``eval_steps`` and at the
        end, checkpoint as ``save_steps`` says and at the end."""
        if self.global_step >= self.total_steps:
            log.info("run already complete (%d steps)", self.global_step)
            return
        mini = self.cfg.train.mini_batch_size
        log.info("training %d steps (%d per epoch), batch %d%s on %s (%s), %d process(es)", self.total_steps,
                 self.sampler.steps_per_epoch, self.cfg.train.batch_size,
                 f" (gradient cache: forward passes of {mini} rows)" if mini else "", self.device, self.amp_name,
                 self.dist.world_size)
        progress = task("training", total=self.total_steps, unit="step") if self.dist.is_main else \
            nullcontext(lambda n=1: None)
        with progress as advance:
            if self.global_step:
                advance(self.global_step)  # resumed
            self.clock.start()
            while self.global_step < self.total_steps:
                self.window.add(self.step())
                advance(1)
                if self._due(self.cfg.train.log_steps):
                    self._log_window()
                self._evaluate_and_save()
                for hook in (*_STEP_HOOKS, *self.hooks):
                    hook(self)
            self.clock.stop()

    def _due(self, every: int) -> bool:
        """Whether this step is one of every ``every`` steps, or the last (``every`` > 0)."""
        return every > 0 and (self.global_step % every == 0 or self.global_step == self.total_steps)

    def _log_window(self) -> None:
        """One ``metrics.jsonl`` record: mean loss and parts over the window, rate, learning rate."""
        with self.clock.paused():
            loss, parts = self.window.read(self.dist)  # the one host sync of the loop
            rate = self.window.steps * self.cfg.train.batch_size / self.clock.window if self.clock.window > 0 else 0.0
            lr = self.step_fn.scheduler.get_last_lr()[0]
            self.last_loss = loss
            record = {"step": self.global_step, "epoch": round(self.global_step / self.sampler.steps_per_epoch, 4),
                      "lr": lr, "loss": round(loss, 6), "parts": parts, "sent_per_s": round(rate, 2)}
            if self.cfg.train.mini_batch_size:
                record["chunks"] = self.step_fn.chunks  # forward passes per step (gradient cache)
            self.metrics.write(record)
            log.info("step %d/%d  loss %.4f  lr %.3g  %.0f sent/s", self.global_step, self.total_steps, loss, lr, rate)
            self.window.reset()
            self.clock.reset_window()

    def _evaluate_and_save(self) -> None:
        """Dev evaluation every ``eval_steps`` and at the end; ``last/`` at the end, and before that at
        every evaluation (``save_steps: 0``) or every ``save_steps`` steps (``-1``: only at the end)."""
        t = self.cfg.train
        last = self.global_step == self.total_steps
        due_eval = self._due(t.eval_steps)
        due_save = last or (t.save_steps == 0 and due_eval) or (t.save_steps > 0 and self.global_step % t.save_steps == 0)
        if not (due_eval or due_save):
            return
        with self.clock.paused():
            if due_eval:
                self.evaluate()
            if due_save:
                self.save_last()

    def _results(self, wall_seconds: float) -> dict[str, Any]:
        cfg = self.cfg
        sentences = self.global_step * cfg.train.batch_size
        train_seconds = self.train_seconds
        return {
            "best_step": self.best_step,
            "best_dev_stsb": (round(self.best_score, 4) if self.best_score is not None and not cfg.train.dev_file
                              else None),
            "best_dev": round(self.best_score, 4) if self.best_score is not None else None,
            "dev_metric": self.evaluator.name if self.evaluator is not None else None,
            "dev_file": cfg.train.dev_file,
            "dev_precision": precision(self.device, cfg.eval.amp) if self.evaluator is not None else None,
            "steps": self.global_step,
            "epochs": round(self.global_step / max(1, self.sampler.steps_per_epoch), 4),
            "examples": len(self.data),
            "batch_size": cfg.train.batch_size,
            "mini_batch_size": cfg.train.mini_batch_size,
            "chunks": self.step_fn.chunks if self.step_fn is not None else None,
            "final_loss": self.last_loss,
            "train_seconds": round(train_seconds, 3),
            "wall_seconds": round(wall_seconds, 3),
            "sent_per_s": round(sentences / train_seconds, 2) if train_seconds > 0 else None,
            "loss": cfg.loss.name,
            "encoder": cfg.model.encoder,
            "pooler": cfg.model.pooler,
            "views": list(self.views),
            "device": str(self.device),
            "amp": self.amp_name,
            "world_size": self.dist.world_size,
            "output_dir": str(self.out),
        }


def train(cfg: Config, argv: list[str] | None = None, *, resume: bool = False, overwrite: bool = False,
          paths: PathPlan | None = None) -> Path:
    """Train per ``cfg`` and return the run directory (see the module docstring for its layout);
    ``paths``: the caller's plan of paths (its own outputs), checked with the run's before any work."""
    return Trainer(cfg, argv=argv, resume=resume, overwrite=overwrite, paths=paths).run()
