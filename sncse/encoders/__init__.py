"""Encoders: Hugging Face backbones, poolers, and the ``SentenceEncoder`` that joins them.

The names below are imported lazily, so reading a saved model's file names (``sncse.encoders.files``)
or resolving a path (``sncse.encoders.resolve``) does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["SentenceEncoder", "resolve_device"]

if TYPE_CHECKING:
    from .model import SentenceEncoder, resolve_device


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import model

        return getattr(model, name)
    raise AttributeError(name)
