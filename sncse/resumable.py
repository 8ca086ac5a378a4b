"""What the chunked, resumable commands (``sncse negate``, ``sncse encode``) share.

Both read their input in chunks of ``chunk_size`` lines counted from the first line of the file (the
blocks of :mod:`sncse.shards`), keep every finished chunk in a partial output beside the final one, and
continue a stopped run only when it was made with the same settings: a partial output of other
settings holds rows that the finished file must not mix with new ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .errors import SncseError

log = logging.getLogger(__name__)

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_same_settings(recorded: dict[str, Any], meta: dict[str, Any], path: Path) -> None:
    """Refuse to continue the partial output at ``path``, made with ``recorded``, under other settings."""
    for key, value in meta.items():
        if recorded.get(key) != value:
            raise SncseError(f"cannot resume: the partial output was made with {key}={recorded.get(key)!r}, this "
                             f"run has {key}={value!r}; rerun with the same settings or start again without "
                             "resuming", path=path, setting="resume")


def log_fresh_start(resume: bool, stale: bool, where: Path) -> None:
    """Say why a run starts from its first line: nothing to resume, or an earlier partial output replaced."""
    if resume:
        log.info("no partial output to resume in %s; starting from the first line", where)
    elif stale:
        log.info("discarding the partial output of an earlier run (resume to continue it)")
