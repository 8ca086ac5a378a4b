"""Score a user's own pair files next to the built-in STS tasks, by the same code path.

Each file (``sncse.data.pairs.load_pairs``) becomes a task named after its stem; its sentences are
embedded once (``embed_unique``) and scored by ``score_task`` exactly as STS-B is, so
``tasks.<stem>.spearman`` means what ``tasks.stsb.spearman`` means. Own files are not part of the
result's ``avg``, which stays the papers' average over the built-in STS tasks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.pairs import Columns, PairsTask, load_pairs, pairs_task_name
from ..errors import SncseError
from .sts import Embedder, embed_unique, score_task

log = logging.getLogger(__name__)

PAIRS_PROTOCOL = "own pair files: cosine similarity, Spearman x100 over all pairs of each file"


def load_pair_files(paths: Sequence[str | Path], columns: Columns = None, skip_bad_rows: bool = False,
                    reserved: Sequence[str] = (), limit: int | None = None) -> list[PairsTask]:
    """Read every file (before any model is loaded, so a bad row fails fast); names must be unique
    and must not be one of the ``reserved`` (built-in) task names being evaluated."""
    seen: dict[str, str] = {}
    for p in paths:
        name = pairs_task_name(p)
        if name in seen:
            raise SncseError(f"two pair files would both be reported as task {name!r}: {seen[name]} and {p}; "
                             "rename one")
        if name in reserved:
            raise SncseError(f"pair file {p} would be reported as task {name!r}, which is also a built-in task "
                             "being evaluated; rename the file")
        seen[name] = str(p)
    return [load_pairs(p, columns=columns, skip_bad_rows=skip_bad_rows, limit=limit) for p in paths]


def evaluate_pairs(embed: Embedder, tasks: Sequence[PairsTask]) -> dict[str, Any]:
    """``{"tasks": {stem: score_task(...) + file, skipped_rows}, "sentences", "encode_seconds", "protocol"}``."""
    sentences = [s for t in tasks for s in t.sentences()]
    start = time.perf_counter()
    lookup = embed_unique(sentences, embed)
    seconds = time.perf_counter() - start
    results = {}
    for t in tasks:
        row = score_task(t, lookup)
        row.update(file=t.path, skipped_rows=len(t.skipped_rows))
        results[t.task] = row
    return {"tasks": results, "sentences": len(lookup), "encode_seconds": seconds, "protocol": PAIRS_PROTOCOL}


def merge_into_sts(sts: dict[str, Any] | None, own: dict[str, Any]) -> dict[str, Any]:
    """The STS part of the result with the own files' tasks added after the built-in ones (``avg`` kept)."""
    if sts is None:
        return {**own, "avg": None, "limit": None}
    return {**sts, "tasks": {**sts["tasks"], **own["tasks"]},
            "protocol": f"{sts['protocol']}; {own['protocol']}",
            "sentences": sts["sentences"] + own["sentences"],
            "encode_seconds": sts["encode_seconds"] + own["encode_seconds"]}
