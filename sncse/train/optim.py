"""AdamW with a linear learning-rate schedule (warm-up, then decay to zero), as Hugging Face's Trainer
that SimCSE and SNCSE trained with (``get_linear_schedule_with_warmup``).

Bias and LayerNorm weights get no weight decay (the Trainer's rule; the papers use decay 0 anyway).
On CUDA the fused AdamW kernel is used (``optim.fused: auto``): one kernel for all parameters.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from ..config.schema import FusedMode, OptimConfig, choices
from ..errors import ConfigError

log = logging.getLogger(__name__)


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Trainable parameters split into decayed and non-decayed (bias, LayerNorm) groups."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name or "norm." in name.lower():
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def build_optimizer(model: nn.Module, cfg: OptimConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW over :func:`parameter_groups`; ``optim.fused`` (checked by the config loader) picks the kernel."""
    assert cfg.fused in choices(FusedMode), cfg.fused
    fused = cfg.fused == "true" or (cfg.fused == "auto" and device.type == "cuda")
    kwargs = {"fused": True} if fused else {}
    return torch.optim.AdamW(parameter_groups(model, cfg.weight_decay), lr=cfg.lr, betas=tuple(cfg.betas),
                             eps=cfg.eps, **kwargs)


class LinearSchedule:
    """lr multiplier: ``step / warmup`` during warm-up, then ``(total - step) / (total - warmup)``.

    A picklable callable (a lambda would not survive ``LambdaLR.state_dict``).
    """

    def __init__(self, warmup_steps: int, total_steps: int):
        self.warmup_steps, self.total_steps = int(warmup_steps), int(total_steps)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return step / max(1, self.warmup_steps)
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - self.warmup_steps))


def build_scheduler(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int
                    ) -> torch.optim.lr_scheduler.LambdaLR:
    if warmup_steps < 0:
        raise ConfigError(f"key 'optim.warmup_steps': must be >= 0, got {warmup_steps}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, LinearSchedule(warmup_steps, total_steps))
