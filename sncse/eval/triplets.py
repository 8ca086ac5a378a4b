"""Triplet evaluation: is the positive closer to the anchor than the negative?

For every row (anchor a, positive p, negative n) the cosines ``cos(a, p)`` and ``cos(a, n)`` are computed
as the STS evaluation computes a pair's (``sncse.eval.sts.cosine_rows``: float64, a zero vector scores 0,
rounded to 6 decimals), and a set of rows is reported as

    accuracy = 100 x the share of rows with cos(a, p) > cos(a, n)      (a tie counts as wrong)
    margin   = mean of cos(a, p) - cos(a, n)
    cos_pos, cos_neg = mean cos(a, p), mean cos(a, n);  rows = the number of rows

which is sentence-transformers' ``TripletEvaluator`` with the cosine and margin 0 (its accuracy is a
fraction; here it is x100, like every other score). Each distinct sentence is embedded once. The per-row
cosines can be kept (``keep_rows``) for a paired bootstrap between systems (``sncse.eval.compare``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.pairs import Columns, pairs_task_name
from ..data.triplets import Triplets, read_triplets
from ..errors import SncseError
from .sts import Embedder, cosine_rows, embed_unique

TRIPLET_PROTOCOL = ("triplets: cosine, accuracy x100 = share of rows with cos(anchor, positive) > "
                    "cos(anchor, negative), margin = mean of their difference")


def accuracy(cos_pos: np.ndarray, cos_neg: np.ndarray) -> float:
    """100 x the share of rows whose positive scores strictly above their negative."""
    return float(100.0 * np.mean(np.asarray(cos_pos) > np.asarray(cos_neg))) if len(cos_pos) else float("nan")


def score_triplets(triplets: Triplets, lookup: dict[str, np.ndarray], keep_rows: bool = False) -> dict[str, Any]:
    """One set's figures (see the module docstring) from a sentence -> vector dict; ``keep_rows`` adds
    ``row_scores``: the arrays ``cos_pos`` and ``cos_neg`` the figures were computed from."""
    def stack(sentences: list[str]) -> np.ndarray:
        return np.stack([lookup[s] for s in sentences])

    a = stack(triplets.anchors)
    cos_pos = cosine_rows(a, stack(triplets.positives))
    cos_neg = cosine_rows(a, stack(triplets.negatives))
    out: dict[str, Any] = {
        "accuracy": accuracy(cos_pos, cos_neg),
        "margin": float(np.mean(cos_pos - cos_neg)),
        "cos_pos": float(np.mean(cos_pos)),
        "cos_neg": float(np.mean(cos_neg)),
        "rows": len(triplets),
        "source": triplets.source,
    }
    if triplets.skipped_rows:
        out["skipped_rows"] = len(triplets.skipped_rows)
    if keep_rows:
        out["row_scores"] = {"cos_pos": cos_pos, "cos_neg": cos_neg}
    return out


def load_triplet_files(paths: Sequence[str | Path], columns: Columns = None, skip_bad_rows: bool = False,
                       reserved: Sequence[str] = ()) -> list[Triplets]:
    """Read every triplet file (before any model is loaded, so a bad row fails fast); each is named after
    its stem, names must be unique and must not be a built-in triplet task being evaluated."""
    seen: dict[str, str] = {}
    for p in paths:
        name = pairs_task_name(p)
        if name in seen:
            raise SncseError(f"two triplet files would both be reported as {name!r}: {seen[name]} and {p}; rename one")
        if name in reserved:
            raise SncseError(f"triplet file {p} would be reported as {name!r}, which is also a built-in task being "
                             "evaluated; rename the file")
        seen[name] = str(p)
    return [read_triplets(p, columns=columns, skip_bad_rows=skip_bad_rows) for p in paths]


def evaluate_triplets(embed: Embedder, sets: Sequence[Triplets], keep_rows: bool = False) -> dict[str, Any]:
    """``{"tasks": {name: score_triplets(...)}, "protocol", "sentences", "encode_seconds"}`` for sets with
    distinct names (a built-in task's name, or a file's stem)."""
    start = time.perf_counter()
    lookup = embed_unique([s for t in sets for s in t.sentences()], embed)
    seconds = time.perf_counter() - start
    return {"tasks": {t.name: score_triplets(t, lookup, keep_rows) for t in sets}, "protocol": TRIPLET_PROTOCOL,
            "sentences": len(lookup), "encode_seconds": seconds}
