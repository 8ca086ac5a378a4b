"""Encoders: Hugging Face backbones, poolers, and the ``SentenceEncoder`` that joins them."""

from .model import SentenceEncoder, autocast_for, resolve_device

__all__ = ["SentenceEncoder", "autocast_for", "resolve_device"]
