"""Checkpoints of a run: ``best/`` (the model only) and ``last/`` (the model + ``trainer_state.pt``).

A checkpoint directory is written under a temporary name and renamed into place, the old one kept
aside until the new one is complete, so a crash at any moment leaves a readable ``last/`` (or, in the
instant between the two renames, ``.last.old/``, which :func:`find_resume_dir` also accepts).

``trainer_state.pt`` holds what exact resumption needs beyond the weights: optimizer, scheduler and
grad-scaler states, the random generators of every process (``sncse.train.seed``), the sampler position, the step, the
best dev score so far and the running counters. It loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from ..encoders.files import HEAD_FILE, load_weights
from ..encoders.model import SentenceEncoder
from ..errors import SncseError
from ..rundir.files import LAST, checkpoint_old, checkpoint_temp

log = logging.getLogger(__name__)

STATE_FILE = "trainer_state.pt"


def save_checkpoint(model: SentenceEncoder, run_dir: str | Path, name: str, state: dict[str, Any] | None = None) -> Path:
    """Write ``run_dir/name`` (the model, plus ``trainer_state.pt`` when ``state`` is given) atomically."""
    run_dir = Path(run_dir)
    final, tmp, old = run_dir / name, run_dir / checkpoint_temp(name), run_dir / checkpoint_old(name)
    if tmp.exists():
        shutil.rmtree(tmp)
    with _quiet_hf_progress():
        model.save(tmp)
    if state is not None:
        torch.save(state, tmp / STATE_FILE)
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old)
    return final


@contextmanager
def _quiet_hf_progress() -> Iterator[None]:
    """No "Writing model shards" bar from ``save_pretrained`` at every checkpoint."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def find_resume_dir(run_dir: str | Path) -> Path | None:
    """The checkpoint to resume from: ``last/``, else ``.last.old/`` (a crash mid-swap), else None."""
    for name in (LAST, checkpoint_old(LAST)):
        d = Path(run_dir) / name
        if (d / STATE_FILE).exists():
            return d
    return None


def load_trainer_state(directory: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """``trainer_state.pt``, its optimizer and scaler states on ``map_location`` (the training device) and
    its random-generator states on the CPU, whatever the device: the generators take CPU states only."""
    path = Path(directory) / STATE_FILE
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: the unpickler raises many kinds
        raise SncseError(f"cannot read the training state ({exc}); start the run again instead of resuming it", path=path,
                         setting="resume") from None
    device = torch.device(map_location)
    if device.type == "cpu":
        return state
    return {k: v if k == "rng" else _to_device(v, device) for k, v in state.items()}


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_device(v, device) for v in value)
    return value


def _backbone_state(directory: Path) -> dict[str, torch.Tensor]:
    files = sorted(p for p in directory.glob("*.safetensors") if p.name != HEAD_FILE)
    if not files:
        raise SncseError("no model weights (*.safetensors) in the checkpoint", path=directory)
    state: dict[str, torch.Tensor] = {}
    for f in files:
        state.update(load_weights(f))
    return state


def load_model_weights(model: SentenceEncoder, directory: str | Path) -> None:
    """Load a checkpoint's backbone and head weights into ``model`` (built from the same config)."""
    directory = Path(directory)
    state = _backbone_state(directory)
    own = model.backbone.state_dict()
    # save_pretrained may store keys with or without the base-model prefix
    prefix = getattr(model.backbone, "base_model_prefix", "")
    if prefix and not any(k in own for k in state) and all(k.startswith(prefix + ".") for k in state):
        state = {k[len(prefix) + 1 :]: v for k, v in state.items()}
    missing, unexpected = model.backbone.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if k in own and not k.endswith("position_ids")]:
        raise SncseError(f"checkpoint does not match the model: missing {missing[:5]}, unexpected {unexpected[:5]}",
                         path=directory)
    if model.head is not None:
        head = directory / HEAD_FILE
        if not head.exists():
            raise SncseError(f"{HEAD_FILE} missing from the checkpoint", path=directory)
        model.head.load_state_dict(load_weights(head))
