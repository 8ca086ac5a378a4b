"""The training loop behind ``sncse train``: data, steps, logging, dev evaluation, checkpoints, resume.

Faithful to SimCSE / SNCSE training (Hugging Face Trainer defaults they used): AdamW, linear decay,
STS-B dev Spearman every ``train.eval_steps`` steps, the best checkpoint kept. What it adds:
exact resumption (``--resume``), multi-process training with gathered negatives (``torchrun``),
mixed precision, cached tokenization, and a step with no host synchronisation except at logging steps.

Run directory (``train.output_dir``)::

    config.yaml  run.json  metrics.jsonl  results.json  best/  last/ (+ trainer_state.pt)
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from ..config import Config, dump_yaml, load_config, to_dict
from ..config.loader import ENV_CONFIG
from ..data.batching import BatchSampler, Collator, Position, batches
from ..data.corpus import file_digest, read_training_file
from ..data.root import find_data_file
from ..data.tokenized import TokenizedData, cached_tokenize, load_tokenized, plan_views
from ..encoders.model import resolve_device
from ..errors import ConfigError, SncseError
from ..io import atomic_write, read_json, write_json
from ..progress import task
from ..runinfo import write_run_info
from .checkpoint import find_resume_dir, load_model_weights, load_trainer_state, save_checkpoint
from .distributed import DistContext, init_distributed
from .metrics import MetricsWriter, truncate_metrics
from .seed import rng_state, seed_everything, set_rng_state
from .step import TrainStep, build_loss, build_model, build_train_step

log = logging.getLogger(__name__)

RUN_FILES = ("config.yaml", "run.json", "metrics.jsonl", "results.json", "best", "last", "tensorboard",
             ".best.tmp", ".last.tmp", ".best.old", ".last.old")
#: test hook: SIGKILL the process right after this optimizer step (and its checkpoint, if any)
CRASH_ENV = "SNCSE_CRASH_AFTER_STEP"


# ------------------------------------------------------------------------------------ run directory
def resolve_train_config(config: str | Path | None = None, overrides: list[str] | None = None,
                         extra: dict[str, Any] | None = None, resume: bool = False) -> Config:
    """The config of a ``sncse train`` call: defaults <- file <- options <- ``--set``.

    With ``--resume`` and no config file, the run's own ``config.yaml`` is the file, so that
    ``sncse train -o RUN --resume`` continues with exactly the settings the run started with.
    """
    cfg = load_config(config, overrides, extra)
    if resume and not (config or os.environ.get(ENV_CONFIG)):
        saved = Path(cfg.train.output_dir) / "config.yaml"
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
        raise SncseError("--resume and --overwrite exclude each other")
    if out.is_dir() and any(out.iterdir()) and not (resume or overwrite):
        raise SncseError("output directory is not empty; pass --resume to continue the run in it, "
                         "--overwrite to replace it, or another --output-dir", path=out)
    if overwrite and out.is_dir() and any(out.iterdir()):
        foreign = [p.name for p in out.iterdir() if p.name not in RUN_FILES]
        if foreign:
            raise SncseError(f"--overwrite only replaces sncse run directories; it also holds {foreign[:3]}",
                             path=out)


def clear_run_dir(out: Path) -> None:
    for name in RUN_FILES:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


# ------------------------------------------------------------------------------------ trainer
class Trainer:
    """One training run. ``Trainer(cfg).run()`` is :func:`train`."""

    def __init__(self, cfg: Config, argv: list[str] | None = None, resume: bool = False, overwrite: bool = False):
        self.cfg, self.argv, self.resume, self.overwrite = cfg, argv, resume, overwrite
        self.out = Path(cfg.train.output_dir)
        self.dist = DistContext()
        self.step_fn: TrainStep | None = None
        self.step = 0
        self.position = Position()
        self.best_score: float | None = None
        self.best_step: int | None = None
        self.train_seconds = 0.0
        self.last_loss: float | None = None
        self.evaluator = None

    # -------------------------------------------------------------------- setup
    def _validate(self) -> None:
        cfg = self.cfg
        if cfg.data.batching not in ("shuffle", "bucket"):
            raise ConfigError(f"key 'data.batching': expected shuffle|bucket, got {cfg.data.batching!r}")
        for key, value in (("train.log_steps", cfg.train.log_steps), ("train.epochs", cfg.train.epochs)):
            if value <= 0:
                raise ConfigError(f"key '{key}': must be positive, got {value}")
        if cfg.train.eval_steps < 0:
            raise ConfigError(f"key 'train.eval_steps': must be >= 0, got {cfg.train.eval_steps}")
        if cfg.train.batch_size % self.dist.world_size:
            raise ConfigError(f"key 'train.batch_size': {cfg.train.batch_size} is not divisible by the "
                              f"{self.dist.world_size} processes (it is the global batch)")

    def _load_data(self, model, loss_views: tuple[str, ...]) -> tuple[TokenizedData, tuple[str, ...]]:
        cfg = self.cfg
        examples = read_training_file(cfg.data.train_file, cfg.data.format, cfg.data.limit,
                                      add_period=cfg.data.end_with_period)
        views = plan_views(loss_views, examples, cfg.loss.name)
        if len(examples) < cfg.train.batch_size:
            raise SncseError(f"{len(examples)} training examples are fewer than one batch of "
                             f"{cfg.train.batch_size}; lower train.batch_size", path=examples.source)
        cache_dir = Path(cfg.data.cache_dir) if cfg.data.cache_dir else self.out.resolve().parent / ".sncse_cache"
        options = {"format": examples.format, "limit": cfg.data.limit, "end_with_period": cfg.data.end_with_period}
        digest = file_digest(find_data_file(cfg.data.train_file))
        if self.dist.is_main:
            data = cached_tokenize(model, examples, views, cache_dir, digest, **options)
        self.dist.barrier()
        if not self.dist.is_main:
            from ..data.tokenized import cache_key

            key = cache_key(model, digest, views, **options)
            loaded = load_tokenized(cache_dir / f"tokens-{key[:24]}.npz", key)
            data = loaded if loaded is not None else cached_tokenize(model, examples, views, None, digest, **options)
        log.info("training data: %d examples, views %s", len(data), ", ".join(views))
        return data, views

    def setup(self) -> None:
        cfg = self.cfg
        self.dist, dist_device = init_distributed(cfg.train.device)
        self._validate()
        check_run_dir(self.out, self.resume, self.overwrite)
        self.device = dist_device or resolve_device(cfg.train.device)
        self.dist.barrier()
        if self.dist.is_main:
            if self.overwrite:
                clear_run_dir(self.out)
            self.out.mkdir(parents=True, exist_ok=True)
        self.dist.barrier()

        seed_everything(cfg.train.seed)
        loss_fn = build_loss(cfg.loss)  # cheap; fails early on a bad loss name / parameters
        loss_views = tuple(loss_fn.views)
        model = build_model(cfg, self.device)
        self.data, self.views = self._load_data(model, loss_views)
        self.sampler = BatchSampler(len(self.data), cfg.train.batch_size, seed=cfg.train.seed,
                                    mode=cfg.data.batching, lengths=self.data.lengths,
                                    rank=self.dist.rank, world_size=self.dist.world_size)
        steps_per_epoch = self.sampler.steps_per_epoch
        self.total_steps = cfg.train.max_steps if cfg.train.max_steps > 0 else cfg.train.epochs * steps_per_epoch
        self.step_fn = build_train_step(cfg, model, total_steps=self.total_steps, device=self.device,
                                        dist=self.dist, views=self.views)
        if self.dist.enabled:  # different dropout masks on each process
            torch.manual_seed(cfg.train.seed + 1_000_003 * self.dist.rank)
        cuda = self.device.type == "cuda"
        self.collator = Collator(self.data, pad_to_multiple_of=8 if cuda else None,
                                 fixed_length=cfg.model.max_length if cfg.train.compile else None)
        if cfg.train.eval_steps > 0 and self.dist.is_main:
            from .dev_eval import DevEvaluator

            self.evaluator = DevEvaluator(model, limit=cfg.train.eval_limit, batch_size=cfg.eval.batch_size,
                                          amp=cfg.train.amp)
        if self.resume:
            self._restore()
        elif self.dist.is_main:
            truncate_metrics(self.out / "metrics.jsonl", 0)
        if self.dist.is_main:
            with atomic_write(self.out / "config.yaml") as fh:
                fh.write(dump_yaml(cfg))
            extra: dict[str, Any] = {"world_size": self.dist.world_size, "device_used": str(self.device),
                                     "amp": self.step_fn.amp.name, "total_steps": self.total_steps}
            if self.step:
                extra["resumed_from_step"] = self.step
                prev = self.out / "run.json"
                if prev.exists():
                    extra["previous_run"] = read_json(prev)
            write_run_info(self.out, self.argv, extra)
        self.metrics = MetricsWriter(self.out, tensorboard=cfg.train.tensorboard, enabled=self.dist.is_main)

    def _restore(self) -> None:
        ckpt = find_resume_dir(self.out)
        if ckpt is None:
            log.warning("%s: no checkpoint to resume from; starting from step 0", self.out)
            if self.dist.is_main:
                truncate_metrics(self.out / "metrics.jsonl", 0)
            return
        saved_cfg = self.out / "config.yaml"
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
        rngs = state["rng"]
        if len(rngs) != self.dist.world_size:
            log.warning("checkpoint has RNG states of %d processes, this run has %d: dropout masks will differ "
                        "from an uninterrupted run", len(rngs), self.dist.world_size)
        set_rng_state(rngs[self.dist.rank % len(rngs)])
        self.step = int(state["step"])
        self.position = Position.from_dict(state["position"])
        self.best_score, self.best_step = state.get("best_score"), state.get("best_step")
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.last_loss = state.get("last_loss")
        if self.dist.is_main:
            truncate_metrics(self.out / "metrics.jsonl", self.step)
        log.info("resumed from %s at step %d", ckpt, self.step)

    # -------------------------------------------------------------------- checkpoints / eval
    def _state(self) -> dict[str, Any]:
        step_fn = self.step_fn
        assert step_fn is not None
        return {
            "step": self.step,
            "position": self.position.to_dict(),
            "optimizer": step_fn.optimizer.state_dict(),
            "scheduler": step_fn.scheduler.state_dict(),
            "scaler": step_fn.amp.scaler.state_dict() if step_fn.amp.scaler is not None else None,
            "rng": self.dist.gather_objects(rng_state()),
            "best_score": self.best_score,
            "best_step": self.best_step,
            "train_seconds": self.train_seconds,
            "last_loss": self.last_loss,
            "total_steps": self.total_steps,
        }

    def save_last(self) -> None:
        state = self._state()  # a collective in multi-process runs: every rank builds it
        if self.dist.is_main:
            save_checkpoint(self.step_fn.model, self.out, "last", state)
        self.dist.barrier()

    def evaluate(self) -> float | None:
        score = None
        if self.dist.is_main and self.evaluator is not None:
            score = self.evaluator(self.step_fn.model)
            self.metrics.write({"step": self.step, self.evaluator.name: round(score, 4)})
            improved = self.best_score is None or score > self.best_score
            log.info("step %d: %s %.2f%s", self.step, self.evaluator.name, score, " (best)" if improved else "")
            if improved:
                self.best_score, self.best_step = score, self.step
                save_checkpoint(self.step_fn.model, self.out, "best")
        self.best_score, self.best_step = self.dist.broadcast_object((self.best_score, self.best_step))
        return score

    # -------------------------------------------------------------------- loop
    def run(self) -> Path:
        wall_start = time.perf_counter()
        try:
            self.setup()
            self._loop()
            results = self._results(time.perf_counter() - wall_start)
            if self.dist.is_main:
                write_json(self.out / "results.json", results)
        finally:
            if hasattr(self, "metrics"):
                self.metrics.close()
            self.dist.close()
        return self.out

    def _loop(self) -> None:
        cfg, step_fn = self.cfg, self.step_fn
        assert step_fn is not None
        total = self.total_steps
        eval_steps = max(0, cfg.train.eval_steps)
        save_steps, log_steps = cfg.train.save_steps, cfg.train.log_steps
        crash_at = int(os.environ.get(CRASH_ENV, "0") or 0)
        steps_per_epoch = self.sampler.steps_per_epoch
        global_batch = cfg.train.batch_size
        cuda = self.device.type == "cuda"
        if self.step >= total:
            log.info("run already complete (%d steps)", self.step)
            return
        log.info("training %d steps (%d per epoch), batch %d on %s (%s), %d process(es)", total, steps_per_epoch,
                 global_batch, self.device, step_fn.amp.name, self.dist.world_size)
        stream = batches(self.sampler, self.collator, start=self.position, workers=cfg.train.num_workers,
                         pin_memory=cuda)
        acc_loss = torch.zeros((), device=self.device)
        acc_parts: dict[str, torch.Tensor] = {}
        acc_n = 0
        # timing: training time only (dev evaluation and checkpoint writing are left out)
        win_steps, win_time, t0 = 0, 0.0, time.perf_counter()

        def pause() -> None:
            nonlocal win_time
            if cuda:
                torch.cuda.synchronize(self.device)
            dt = time.perf_counter() - t0
            win_time += dt
            self.train_seconds += dt

        progress = task("training", total=total, unit="step") if self.dist.is_main else nullcontext(lambda n=1: None)
        evaluated_at = -1
        try:
            with progress as advance:
                if self.step:
                    advance(self.step)
                while self.step < total:
                    batch = next(stream).to(self.device)
                    out = step_fn(batch)
                    self.step += 1
                    self.position = batch.position or self.position
                    acc_loss += out.loss
                    for k, v in out.parts.items():
                        acc_parts[k] = acc_parts[k] + v if k in acc_parts else v.clone()
                    acc_n += 1
                    win_steps += 1
                    advance(1)
                    last = self.step == total
                    if self.step % log_steps == 0 or last:
                        loss = self.dist.mean(acc_loss / acc_n).item()  # the one host sync, at log steps
                        parts = {k: round(self.dist.mean(v / acc_n).item(), 6) for k, v in acc_parts.items()}
                        pause()
                        rate = win_steps * global_batch / win_time if win_time > 0 else 0.0
                        lr = step_fn.scheduler.get_last_lr()[0]
                        self.last_loss = loss
                        self.metrics.write({"step": self.step, "epoch": round(self.step / steps_per_epoch, 4),
                                            "lr": lr, "loss": round(loss, 6), "parts": parts,
                                            "sent_per_s": round(rate, 2)})
                        log.info("step %d/%d  loss %.4f  lr %.3g  %.0f sent/s", self.step, total, loss, lr, rate)
                        acc_loss = torch.zeros((), device=self.device)
                        acc_parts, acc_n, win_steps, win_time = {}, 0, 0, 0.0
                        t0 = time.perf_counter()
                    due_eval = bool(eval_steps) and (self.step % eval_steps == 0 or last)
                    due_save = not last and ((due_eval and save_steps == 0) or
                                             (save_steps > 0 and self.step % save_steps == 0))
                    if due_eval or due_save:
                        pause()
                        if due_eval:
                            self.evaluate()
                            evaluated_at = self.step
                        if due_save:
                            self.save_last()
                        t0 = time.perf_counter()
                    if crash_at and self.step == crash_at:
                        log.warning("%s=%d: killing the process (test hook)", CRASH_ENV, crash_at)
                        os.kill(os.getpid(), signal.SIGKILL)
        finally:
            if hasattr(stream, "close"):
                stream.close()
        if eval_steps and evaluated_at != self.step:
            self.evaluate()
        self.save_last()

    def _results(self, wall_seconds: float) -> dict[str, Any]:
        cfg = self.cfg
        sentences = self.step * cfg.train.batch_size
        return {
            "best_step": self.best_step,
            "best_dev_stsb": round(self.best_score, 4) if self.best_score is not None else None,
            "steps": self.step,
            "epochs": round(self.step / max(1, self.sampler.steps_per_epoch), 4),
            "examples": len(self.data),
            "batch_size": cfg.train.batch_size,
            "final_loss": self.last_loss,
            "train_seconds": round(self.train_seconds, 3),
            "wall_seconds": round(wall_seconds, 3),
            "sent_per_s": round(sentences / self.train_seconds, 2) if self.train_seconds > 0 else None,
            "loss": cfg.loss.name,
            "encoder": cfg.model.encoder,
            "pooler": cfg.model.pooler,
            "views": list(self.views),
            "device": str(self.device),
            "amp": self.step_fn.amp.name if self.step_fn else None,
            "world_size": self.dist.world_size,
            "output_dir": str(self.out),
        }


def train(cfg: Config, argv: list[str] | None = None, *, resume: bool = False, overwrite: bool = False) -> Path:
    """Train per ``cfg`` and return the run directory (see the module docstring for its layout)."""
    return Trainer(cfg, argv=argv, resume=resume, overwrite=overwrite).run()
