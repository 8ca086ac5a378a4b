"""Encoders: Hugging Face backbones, poolers, and the ``SentenceEncoder`` that joins them."""

from .model import SentenceEncoder, resolve_device

__all__ = ["SentenceEncoder", "resolve_device"]
