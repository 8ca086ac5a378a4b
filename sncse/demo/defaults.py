"""The demo page's defaults (the CLI's are these)."""

from __future__ import annotations

MAX_CHARS = 1000
"""The longest sentence or paraphrase the page accepts (characters)."""
TOP_K = 5
"""Nearest corpus lines shown per model."""
