"""Mixed precision: bf16 autocast on CUDA where supported, else fp16 with a gradient scaler; fp32 on CPU.

``train.amp``: ``auto`` (the rule above), ``bf16``, ``fp16`` (CUDA only, with a GradScaler) or ``off``.
bf16 keeps fp32's exponent range, so it needs no loss scaling; fp16 does (Micikevicius et al., 2018).
Weights, optimizer state and the loss stay fp32; only the encoder's forward runs in low precision.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch

from ..errors import ConfigError


@dataclass
class AmpSettings:
    device: torch.device
    dtype: torch.dtype | None  # None: fp32
    scaler: torch.amp.GradScaler | None = None

    def autocast(self) -> AbstractContextManager:
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    @property
    def name(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]


def resolve_amp(device: torch.device, mode: str = "auto") -> AmpSettings:
    """Pick the precision for ``device`` from ``train.amp``."""
    if mode not in ("auto", "bf16", "fp16", "off"):
        raise ConfigError(f"key 'train.amp': expected auto|bf16|fp16|off, got {mode!r}")
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        return AmpSettings(device, None)
    if device.type == "cuda":
        if mode == "bf16" or (mode == "auto" and torch.cuda.is_bf16_supported()):
            return AmpSettings(device, torch.bfloat16)
        return AmpSettings(device, torch.float16, torch.amp.GradScaler("cuda"))
    if mode == "fp16":
        raise ConfigError(f"key 'train.amp': fp16 needs CUDA (device is {device}); use bf16 or off")
    return AmpSettings(device, torch.bfloat16)  # explicit bf16 on CPU
