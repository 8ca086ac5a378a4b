"""Checkpoints: weights round-trip exactly, directories are swapped atomically, RNG state restores."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from sncse.encoders import SentenceEncoder
from sncse.encoders.builders import build_tiny_bert
from sncse.errors import SncseError
from sncse.train.checkpoint import (
    STATE_FILE,
    find_resume_dir,
    load_model_weights,
    load_trainer_state,
    save_checkpoint,
)
from sncse.train.seed import rng_state, seed_everything, set_rng_state


def _model(seed: int) -> SentenceEncoder:
    backbone, tok = build_tiny_bert()
    torch.manual_seed(seed)
    for p in backbone.parameters():
        p.data.normal_()
    return SentenceEncoder(backbone, tok, pooler="cls", mlp="train")


def test_weights_roundtrip_exactly(tmp_path: Path) -> None:
    a, b = _model(1), _model(2)
    save_checkpoint(a, tmp_path, "last", {"step": 3})
    load_model_weights(b, tmp_path / "last")
    for (n, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(p, q), n
    assert load_trainer_state(tmp_path / "last")["step"] == 3


def test_swap_keeps_one_directory_and_resume_dir(tmp_path: Path) -> None:
    m = _model(0)
    assert find_resume_dir(tmp_path) is None
    save_checkpoint(m, tmp_path, "last", {"step": 1})
    save_checkpoint(m, tmp_path, "last", {"step": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last"]
    assert find_resume_dir(tmp_path) == tmp_path / "last"
    (tmp_path / "last").rename(tmp_path / ".last.old")  # a crash between the two renames
    assert find_resume_dir(tmp_path) == tmp_path / ".last.old"
    (tmp_path / ".last.old" / STATE_FILE).write_bytes(b"broken")
    with pytest.raises(SncseError, match="training state"):
        load_trainer_state(tmp_path / ".last.old")


def test_rng_state_roundtrip_through_torch_save(tmp_path: Path) -> None:
    seed_everything(5)
    state = rng_state()
    torch.save({"rng": [state]}, tmp_path / "s.pt")
    first = (random.random(), np.random.rand(), torch.rand(3), torch.nn.functional.dropout(torch.ones(8), 0.5))
    set_rng_state(torch.load(tmp_path / "s.pt", weights_only=True)["rng"][0])
    again = (random.random(), np.random.rand(), torch.rand(3), torch.nn.functional.dropout(torch.ones(8), 0.5))
    assert first[0] == again[0] and first[1] == again[1]
    assert torch.equal(first[2], again[2]) and torch.equal(first[3], again[3])
