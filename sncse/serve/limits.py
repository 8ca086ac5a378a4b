"""The bounds of the embedding server (one fact each: the CLI's defaults are these)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SncseError


@dataclass(frozen=True)
class ServeLimits:
    """Bounds on one request: ``max_inputs`` texts of at most ``max_chars`` characters each; the
    batcher runs at most ``max_batch`` texts per model call (a larger request runs alone), waiting
    ``max_wait_ms`` for more after the first. A model call embeds its texts in length-sorted groups of
    ``encode_batch_size``: on a CPU, small groups of similar length pad less and run faster than one
    large group (measured in docs/benchmarks.md, "Serving")."""

    max_inputs: int = 256
    max_chars: int = 10_000
    max_batch: int = 64
    max_wait_ms: float = 0.0
    encode_batch_size: int = 8

    def __post_init__(self) -> None:
        for name in ("max_inputs", "max_chars", "max_batch", "encode_batch_size"):
            if getattr(self, name) < 1:
                raise SncseError(f"{name} must be at least 1, got {getattr(self, name)}", setting=name)
        if self.max_wait_ms < 0:
            raise SncseError(f"max_wait_ms must be >= 0, got {self.max_wait_ms}", setting="max_wait_ms")

    @property
    def max_body_bytes(self) -> int:
        """The largest request body accepted: every input at its limit (4 bytes a character, JSON
        escapes aside) plus room for the other fields."""
        return self.max_inputs * (self.max_chars * 4 + 16) + 64_000
