"""Mixed precision, one policy for training and encoding.

``train.amp`` (and ``eval.amp``, ``encode(amp=...)``): ``auto`` is bf16 autocast on a CUDA device with
native bf16 (compute capability 8.0 on: A100, H100, ...), fp16 on an older one (V100, T4: they only
emulate bf16, slowly), and fp32 on the CPU (where fp32 is faster); ``bf16`` and ``off`` are taken as
said on any device; ``fp16`` needs CUDA. bf16 keeps fp32's exponent range, so it needs no loss scaling;
fp16 does (Micikevicius et al., 2018), which :func:`resolve_amp` adds for training. Weights, optimizer
state and the loss stay fp32; only the encoder's forward runs in low precision.

:func:`autocast_dtype` is the one place that decides; ``SentenceEncoder.encode`` (and so evaluation,
the dev evaluation during training and ``sncse encode``) and the training step all use it, and
:func:`precision_name` is how results name what it decided (``fp32``, ``bf16``, ``fp16``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch

from ..config.schema import AmpMode, choices
from ..errors import ConfigError, SncseError


def autocast_dtype(device: torch.device, mode: AmpMode = "auto") -> torch.dtype | None:
    """The autocast dtype for ``device`` under ``mode``; None means fp32 (no autocast)."""
    if mode not in choices(AmpMode):
        raise SncseError(f"amp must be one of {'|'.join(choices(AmpMode))}, got {mode!r}", setting="amp")
    cuda = device.type == "cuda"
    if mode == "off" or (mode == "auto" and not cuda):
        return None
    if mode == "fp16":
        if not cuda:
            raise SncseError(f"fp16 needs CUDA (device is {device}); use bf16 or off", setting="amp")
        return torch.float16
    if mode == "auto" and not native_bf16(device):
        return torch.float16
    return torch.bfloat16


def native_bf16(device: torch.device) -> bool:
    """Whether the CUDA ``device`` computes in bf16 natively (not by emulation, which
    ``torch.cuda.is_bf16_supported()`` also counts)."""
    with torch.cuda.device(device) if device.index is not None else nullcontext():
        return torch.cuda.is_bf16_supported(including_emulation=False)


def precision_name(dtype: torch.dtype | None) -> str:
    """``fp32`` (no autocast), ``bf16`` or ``fp16``: how results record an autocast dtype."""
    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def precision(device: torch.device | str, mode: AmpMode = "auto") -> str:
    """The precision ``mode`` gives on ``device``, by name (:func:`precision_name`)."""
    return precision_name(autocast_dtype(torch.device(device), mode))


def autocast(device: torch.device, mode: AmpMode = "auto") -> AbstractContextManager:
    """The autocast region :func:`autocast_dtype` decides (a no-op for fp32)."""
    dtype = autocast_dtype(device, mode)
    return nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


@dataclass
class AmpSettings:
    """Training's precision: the autocast dtype and, for fp16, the gradient scaler."""

    device: torch.device
    dtype: torch.dtype | None  # None: fp32
    scaler: torch.amp.GradScaler | None = None

    def autocast(self) -> AbstractContextManager:
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    @property
    def name(self) -> str:
        return precision_name(self.dtype)


def resolve_amp(device: torch.device, mode: AmpMode = "auto") -> AmpSettings:
    """Training's precision for ``device`` from ``train.amp``: :func:`autocast_dtype`, plus a
    GradScaler for fp16."""
    try:
        dtype = autocast_dtype(device, mode)
    except SncseError as exc:
        raise ConfigError(f"key 'train.amp': {exc}") from None
    scaler = torch.amp.GradScaler("cuda") if dtype is torch.float16 else None
    return AmpSettings(device, dtype, scaler)
