"""The output formats of ``sncse negate``: SNCSE's ``[sentence, negation]`` lines, or named columns.

``pairs`` lines are byte-identical to SNCSE's script (``json.dumps`` defaults). ``records`` (JSON
Lines) and ``parquet`` hold the same pairs as the named columns :data:`RECORD_COLUMNS`, which
``datasets.load_dataset("json" | "parquet", ...)`` reads straight into a sentence-transformers
training set (the positive is the sentence itself, unsupervised SimCSE's dropout positive).
"""

from __future__ import annotations

import json

#: what ``negate_file`` writes: SNCSE's ``[sentence, negation]`` lines, or named columns (JSON Lines, Parquet)
OUTPUT_FORMATS = ("pairs", "records", "parquet")
#: the named columns of the ``records`` and ``parquet`` formats, in sentence-transformers' column order
RECORD_COLUMNS = ("anchor", "positive", "soft_negative")


def format_pair(sentence: str, negation: str) -> str:
    """One output line, byte-identical to SNCSE's ``json.dumps([sentence, negation]) + "\\n"``."""
    return json.dumps([sentence, negation]) + "\n"


def format_record(sentence: str, negation: str) -> str:
    """One ``records`` line: ``{"anchor": sentence, "positive": sentence, "soft_negative": negation}``."""
    return json.dumps(dict(zip(RECORD_COLUMNS, (sentence, sentence, negation), strict=True))) + "\n"
