"""The lines of a corpus to embed or search: plain text, or the JSON Lines of ``sncse negate``.

One row per input line, always: line N of the file is row N-1 of the array, so a search hit's row
gives back its line. The text of a line is the line with surrounding whitespace removed; for the
``negations`` format (``["sentence", "negation"]`` per line, read by
``sncse.data.corpus.iter_negation_pairs``) it is the first column.

An empty line has no sentence to embed. Skipping it would shift every later row against its line,
so it is an error by default; ``empty_lines="zero"`` writes a zero vector for it instead (counted and
logged; a zero vector has cosine 0 with everything, so search ranks it last).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..data.corpus import detect_format, file_digest, iter_negation_pairs
from ..errors import DataError
from ..io import iter_lines

log = logging.getLogger(__name__)

CORPUS_FORMATS = ("auto", "text", "negations")
EMPTY_LINES = ("error", "zero")


def resolve_format(path: str | Path, fmt: str = "auto") -> str:
    """text | negations (``auto``: negations when the first line is a ``[sentence, negation]`` list)."""
    if fmt not in CORPUS_FORMATS:
        raise DataError(f"unknown corpus format {fmt!r}; choose one of: {', '.join(CORPUS_FORMATS)}", setting="fmt")
    if fmt != "auto":
        return fmt
    return "negations" if detect_format(path) == "negations" else "text"


def read_corpus_lines(path: str | Path, fmt: str = "text", start: int = 0,
                      stop: int | None = None) -> Iterator[str]:
    """The text of input lines ``start`` .. ``stop - 1`` (0-based; "" for an empty line)."""
    path = Path(path)
    texts = (s for _, s, _ in iter_negation_pairs(path)) if fmt == "negations" else iter_lines(path)
    for i, text in enumerate(texts):
        if stop is not None and i >= stop:
            return
        if i >= start:
            yield text.strip()


@dataclass
class CorpusScan:
    """What one pass over the whole corpus found, before any model is loaded."""

    path: Path
    format: str
    lines: int
    sha256: str
    empty: list[int] = field(default_factory=list)  # 1-based line numbers of empty lines


def scan_corpus(path: str | Path, fmt: str = "auto", empty_lines: str = "error") -> CorpusScan:
    """Count the lines, check every one (UTF-8, JSON), hash the file; refuse empty lines unless
    ``empty_lines="zero"``. The same whole-file check in every shard makes all shards fail alike."""
    path = Path(path)
    if empty_lines not in EMPTY_LINES:
        raise DataError(f"empty_lines must be one of {', '.join(EMPTY_LINES)}, got {empty_lines!r}",
                        setting="empty_lines")
    fmt = resolve_format(path, fmt)
    empty: list[int] = []
    n = 0
    for n, text in enumerate(read_corpus_lines(path, fmt), start=1):
        if not text:
            empty.append(n)
    if empty and empty_lines == "error":
        more = f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""
        raise DataError(f"empty line{more}: every line becomes one row of the output, so remove empty lines "
                        "or write a zero vector for them (empty_lines='zero')", path=path, line=empty[0],
                        setting="empty_lines")
    if empty:
        log.warning("%s: %d empty line(s) get a zero vector (first: line %d)", path, len(empty), empty[0])
    return CorpusScan(path, fmt, n, file_digest(path), empty)
