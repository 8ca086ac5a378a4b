"""Deterministic line-range shards, so any scheduler can spread one corpus over many machines.

``--shard K/N`` (K = 1..N) gives shard K a contiguous range of input lines; the N outputs concatenated
in order K = 1..N equal the unsharded output byte for byte. That holds by construction, not by luck:
ranges are whole *blocks* of ``block`` lines counted from the first line of the file, and the commands
that shard (``sncse negate``, ``sncse encode``) process their input in exactly those blocks, sharded or
not. Every sentence therefore meets the same batch-mates (the same padding, the same summation order)
in a shard as in one run.

Shard K gets blocks ``floor((K-1) B / N)`` up to ``floor(K B / N)`` of the ``B = ceil(lines / block)``
blocks, so shards differ by at most one block; when N > B some shards are empty (and say so).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SncseError

log = logging.getLogger(__name__)

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise SncseError(f"shard must be K/N with 1 <= K <= N (K is 1-based), got {self.index}/{self.count}",
                             setting="shard")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def is_whole(self) -> bool:
        return self.count == 1

    def line_range(self, lines: int, block: int = 1) -> tuple[int, int]:
        """[start, stop) 0-based input lines of this shard, in whole blocks of ``block`` lines."""
        if block < 1:
            raise SncseError(f"shard block size must be at least 1, got {block}")
        blocks = -(-lines // block)
        first = (self.index - 1) * blocks // self.count
        last = self.index * blocks // self.count
        start, stop = min(first * block, lines), min(last * block, lines)
        if start == stop and lines:
            log.warning("shard %s is empty: %d line(s) make only %d block(s) of %d; use fewer shards or a "
                        "smaller chunk size", self, lines, blocks, block)
        return start, stop

    def output_path(self, path: str | Path) -> Path:
        """``emb.npy`` -> ``emb.shard-02-of-08.npy`` (zero-padded, so a shell glob lists shards in order);
        the whole file (1/1) keeps its name."""
        path = Path(path)
        if self.is_whole:
            return path
        width = len(str(self.count))
        name, dot, ext = path.name.rpartition(".")
        tag = f"shard-{self.index:0{width}d}-of-{self.count:0{width}d}"
        return path.with_name(f"{name}.{tag}{dot}{ext}" if dot else f"{path.name}.{tag}")


WHOLE = Shard(1, 1)


def parse_shard(spec: str | Shard | None) -> Shard:
    """``"2/8"`` -> ``Shard(2, 8)``; ``None`` -> the whole input (1/1)."""
    if spec is None:
        return WHOLE
    if isinstance(spec, Shard):
        return spec
    match = _SPEC.match(str(spec))
    if not match:
        raise SncseError(f"shard must look like K/N (e.g. 2/8, K counted from 1), got {spec!r}", setting="shard")
    return Shard(int(match.group(1)), int(match.group(2)))
