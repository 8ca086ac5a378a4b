"""Seeding and the random-number-generator state a resumed run must restore.

The state covers Python's ``random``, numpy's global generator, torch's CPU generator and the
generator of the CUDA device the process trains on (only that one: which devices are visible, and
how many, may differ when the run resumes); dropout masks come from the torch generators, so
restoring them is what makes a resumed run draw the same masks as an uninterrupted one. The state is
stored as CPU tensors and plain lists so that it loads with ``torch.load(weights_only=True)``.

Where a saved state cannot be restored as it was (the number of processes changed, or the checkpoint
holds no state for this device), :func:`derived_seed` gives every process a fresh seed of its own, from
the run's seed, the step and the process's rank: reproducible, and different on every process, so
that no two processes draw the same dropout masks.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and all CUDA devices)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def derived_seed(seed: int, step: int, rank: int) -> int:
    """A seed for process ``rank`` at ``step`` of a run seeded with ``seed``: the same for the same three,
    unrelated for any other (numpy's ``SeedSequence`` mixes them)."""
    words = [int(x) % (2**32) for x in (seed, seed >> 32, step, rank)]
    return int(np.random.SeedSequence(words).generate_state(1, dtype=np.uint64)[0] % (2**63))


def _cuda_index(device: torch.device | None) -> int | None:
    """The index of the CUDA device the process uses, or None when it uses none."""
    if device is None or device.type != "cuda" or not torch.cuda.is_available():
        return None
    return device.index if device.index is not None else torch.cuda.current_device()


def rng_state(device: torch.device | None = None) -> dict[str, Any]:
    """Every generator's state, in a form ``torch.load(weights_only=True)`` accepts; ``cuda``: the state of
    ``device``'s generator when it is a CUDA device."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": {"kind": kind, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    index = _cuda_index(device)
    if index is not None:
        state["cuda"] = torch.cuda.get_rng_state(index)
    return state


def _saved_cuda_state(state: dict[str, Any], index: int) -> torch.Tensor | None:
    """The saved state for CUDA device ``index``: the one state this module saves, or (in checkpoints
    that saved every visible device's) the entry of that index, if there was one."""
    saved = state.get("cuda")
    if isinstance(saved, list | tuple):
        return saved[index] if index < len(saved) else None
    return saved


def set_rng_state(state: dict[str, Any], device: torch.device | None = None, fresh_seed: int | None = None) -> None:
    """Restore what :func:`rng_state` returned. A CUDA ``device`` whose state the checkpoint lacks is
    seeded with ``fresh_seed`` (and that is logged); without one it is left as it is."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state((np_state["kind"], np_state["keys"].cpu().numpy().astype(np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    index = _cuda_index(device)
    if index is None:
        return
    saved = _saved_cuda_state(state, index)
    if saved is not None:
        torch.cuda.set_rng_state(saved.cpu(), index)
    elif fresh_seed is not None:
        log.warning("the checkpoint holds no random state for CUDA device %d; it gets a fresh seed derived from "
                    "the run's seed, step and rank (dropout masks differ from an uninterrupted run)", index)
        with torch.cuda.device(index):
            torch.cuda.manual_seed(fresh_seed)
