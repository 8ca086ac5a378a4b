"""AdamW parameter groups and the linear schedule."""

from __future__ import annotations

import pickle

import pytest
import torch

from sncse.config import OptimConfig
from sncse.encoders import SentenceEncoder
from sncse.train.optim import LinearSchedule, build_optimizer, build_scheduler, parameter_groups


def test_linear_schedule_values() -> None:
    f = LinearSchedule(warmup_steps=10, total_steps=110)
    assert [f(s) for s in (0, 5, 10, 60, 110, 200)] == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0, 0.0])
    g = LinearSchedule(0, 4)
    assert [g(s) for s in range(5)] == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])
    assert pickle.loads(pickle.dumps(f))(60) == pytest.approx(0.5)


def test_no_decay_for_bias_and_layernorm(tiny_backbone) -> None:
    backbone, tok = tiny_backbone
    model = SentenceEncoder(backbone, tok, pooler="cls")
    groups = parameter_groups(model, weight_decay=0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in groups[0]["params"]}
    plain = {names[id(p)] for p in groups[1]["params"]}
    assert groups[0]["weight_decay"] == 0.01 and groups[1]["weight_decay"] == 0.0
    assert "head.dense.weight" in decayed and "head.dense.bias" in plain
    assert all("LayerNorm" not in n and not n.endswith("bias") for n in decayed)
    assert any("LayerNorm.weight" in n for n in plain)
    assert len(decayed) + len(plain) == sum(1 for _ in model.parameters())


def test_optimizer_and_scheduler_state_roundtrip(tiny_backbone) -> None:
    backbone, tok = tiny_backbone
    model = SentenceEncoder(backbone, tok, pooler="cls")
    opt = build_optimizer(model, OptimConfig(lr=1e-3), torch.device("cpu"))
    assert not opt.defaults.get("fused")
    sched = build_scheduler(opt, 1, 10)
    for _ in range(3):
        opt.step()
        sched.step()
    state = sched.state_dict()
    opt2 = build_optimizer(model, OptimConfig(lr=1e-3), torch.device("cpu"))
    sched2 = build_scheduler(opt2, 1, 10)
    sched2.load_state_dict(state)
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr())
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr())
