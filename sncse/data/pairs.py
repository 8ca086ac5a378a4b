"""A user's own scored sentence pairs (TSV, CSV or JSON Lines) as an :class:`STSTask`.

The result scores exactly like the built-in STS-B: ``sncse.eval.sts.score_task`` takes it as it takes
``load_sts("stsb")`` (cosine, Spearman/Pearson x100), so a file's number and STS-B's are comparable.
Sentences get SentEval's whitespace normalisation (``" ".join(s.split())``), as every built-in set does.

Formats (chosen by the extension, after an optional ``.gz``; otherwise sniffed from the first line):

- ``.tsv``/``.tab``/``.txt``: tab-separated, a header line, fields taken literally (no quoting, as in
  GLUE's and SentEval's STS files). A CSV-quoted field (``"a ""quoted"" word"``) is reported with a warning:
  such a file should be saved as ``.csv``.
- ``.csv``: RFC 4180 (Python's ``csv`` module: quoted fields may hold commas, quotes, newlines).
- ``.jsonl``/``.ndjson``/``.json``: one JSON object per line; the columns are its keys.

Columns: ``sentence1,sentence2,score`` or ``s1,s2,score`` are found by themselves (case-insensitive);
other names are given as ``columns=("text_a", "text_b", "label")`` (or ``"text_a,text_b,label"``).
Three 1-based numbers (``"6,7,5"``) read a TSV/CSV without a header by position.

Bad rows (a missing column, a row with more fields than the header, a score that is not a finite
number, an empty sentence, a JSONL line that is not an object) raise ``DataError`` naming file and
line; with ``skip_bad_rows=True`` they are skipped, counted (``PairsTask.skipped_rows``) and logged.
Blank lines are not rows: they are skipped and counted in the log.

The reading itself (:func:`read_rows`) is shared with other three-column files: a :class:`RowLayout` says
which columns a row holds (``sncse.data.triplets`` reads anchor, positive, negative with it).
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..io import iter_lines, plain_name, plain_stem
from .senteval import STSSubset, STSTask

log = logging.getLogger(__name__)

#: column names recognised without being told, in this order
KNOWN_COLUMNS: tuple[tuple[str, str, str], ...] = (("sentence1", "sentence2", "score"), ("s1", "s2", "score"))
FORMATS = ("tsv", "csv", "jsonl")
_EXTENSIONS = {".tsv": "tsv", ".tab": "tsv", ".txt": "tsv", ".csv": "csv", ".jsonl": "jsonl",
               ".ndjson": "jsonl", ".json": "jsonl"}
#: the split recorded for a user's file (built-in tasks say "test" or "dev")
PAIRS_SPLIT = "file"


@dataclass
class PairsTask(STSTask):
    """An STS task read from a user's file: one subset named "all"."""

    path: str = ""
    skipped_rows: list[int] = field(default_factory=list)  # 1-based line numbers of the skipped bad rows


Columns = str | Sequence[str] | None


@dataclass(frozen=True)
class RowLayout:
    """What one row of a three-column file holds: the columns' roles, the header names found without
    being told, which columns are numbers (the others are sentences), and how to say so in a message."""

    roles: tuple[str, str, str]
    known: tuple[tuple[str, str, str], ...]
    numeric: tuple[bool, bool, bool]
    what: str  # "the two sentence columns and the score column"
    example: str  # "text_a,text_b,label"


PAIRS_LAYOUT = RowLayout(("sentence A", "sentence B", "score"), KNOWN_COLUMNS, (False, False, True),
                         "the two sentence columns and the score column", "text_a,text_b,label")


def pairs_task_name(path: str | Path) -> str:
    """The task name of a pairs file: its name without ``.gz`` and the extension (``dev.tsv`` -> ``dev``)."""
    return plain_stem(path)


def table_format(path: str | Path, first_line: str = "") -> str:
    """tsv | csv | jsonl, from the extension (``.gz`` aside) or else the first line."""
    suffix = Path(plain_name(path)).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if first_line.lstrip().startswith("{"):
        return "jsonl"
    return "tsv" if "\t" in first_line else "csv"


def parse_columns(columns: Columns, layout: RowLayout = PAIRS_LAYOUT) -> tuple[str, str, str] | None:
    """``"a,b,score"`` or ``("a", "b", "score")`` -> a 3-tuple of names (or 1-based positions)."""
    if columns is None:
        return None
    names = [c.strip() for c in (columns.split(",") if isinstance(columns, str) else columns)]
    if len(names) != 3 or not all(names):
        raise DataError(f"columns must name three columns ({', '.join(layout.roles)}), got {columns!r}",
                        setting="columns")
    positional = [n.isdigit() for n in names]
    if any(positional) and not all(positional):
        raise DataError(f"columns must be three names or three 1-based positions, not a mix: {columns!r}",
                        setting="columns")
    if all(positional) and min(int(n) for n in names) < 1:
        raise DataError(f"column positions are 1-based, got {columns!r}", setting="columns")
    return names[0], names[1], names[2]


class RowReader:
    """Collects the rows of a file, raising or counting bad ones: ``rows[i]`` is one row's three values
    (sentences whitespace-normalised, numbers as float), ``lines[i]`` its line number."""

    def __init__(self, path: Path, layout: RowLayout, skip_bad_rows: bool):
        self.path = path
        self.layout = layout
        self.skip_bad_rows = skip_bad_rows
        self.rows: list[tuple[Any, Any, Any]] = []
        self.lines: list[int] = []
        self.skipped: list[int] = []
        self.blank = 0
        self.csv_quoted = 0

    def bad(self, message: str, line: int) -> None:
        if not self.skip_bad_rows:
            raise DataError(message, path=self.path, line=line, setting="skip_bad_rows", remedy="skips such rows")
        self.skipped.append(line)

    def add(self, values: Sequence[Any], names: Sequence[str], line: int) -> None:
        """One row's three values, checked."""
        problem = _row_problem(values, names, self.layout)
        if problem:
            self.bad(problem, line)
            return
        row = [_number(v) if numeric else " ".join(v.split())
               for v, numeric in zip(values, self.layout.numeric, strict=True)]
        self.rows.append((row[0], row[1], row[2]))
        self.lines.append(line)

    def column(self, i: int) -> list[Any]:
        return [r[i] for r in self.rows]

    def log_counts(self) -> None:
        """Log the skipped bad rows, blank lines and CSV-quoted TSV fields of the file."""
        if self.skipped:
            shown = ", ".join(map(str, self.skipped[:10])) + (" ..." if len(self.skipped) > 10 else "")
            log.warning("%s: skipped %d bad row(s) (lines %s)", self.path, len(self.skipped), shown)
        if self.blank:
            log.info("%s: skipped %d blank line(s)", self.path, self.blank)
        if self.csv_quoted:
            log.warning("%s: %d row(s) hold CSV-quoted sentences; TSV fields are read literally (quotes kept): "
                        "save the file as .csv if it was written with CSV quoting", self.path, self.csv_quoted)


def _row_problem(values: Sequence[Any], names: Sequence[str], layout: RowLayout) -> str | None:
    """What is wrong with a row's three values, or None."""
    for value, name, numeric in zip(values, names, layout.numeric, strict=True):
        if numeric:
            continue
        if not isinstance(value, str):
            return f"column {name!r} is not a string: {value!r}"
        if not value.strip():
            return f"empty sentence in column {name!r}"
    for value, name, numeric in zip(values, names, layout.numeric, strict=True):
        if numeric and _number(value) is None:
            return f"score {value!r} in column {name!r} is not a number"
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _header_indexes(header: Sequence[str], wanted: tuple[str, str, str] | None, layout: RowLayout, path: Path,
                    line: int) -> tuple[list[int], list[str]]:
    """Positions and names of the layout's three columns in a header row."""
    found = [h.strip() for h in header]
    lowered = [h.lower() for h in found]
    candidates = [wanted] if wanted is not None else list(layout.known)
    for cols in candidates:
        idx = []
        for c in cols:
            if c in found:
                idx.append(found.index(c))
            elif c.lower() in lowered:
                idx.append(lowered.index(c.lower()))
        if len(idx) == 3:
            return idx, [found[i] for i in idx]
    shown = ", ".join(repr(h) for h in found[:12]) or "nothing"
    if wanted is not None:
        missing = [c for c in wanted if c.lower() not in lowered]
        raise DataError(f"the header has no column {', '.join(map(repr, missing))}; it has {shown}",
                        path=path, line=line, setting="columns")
    known = " or ".join(",".join(c) for c in layout.known)
    raise DataError(f"the header names none of {known}; it has {shown}. Name {layout.what} with the columns "
                    f"setting (e.g. {layout.example})", path=path, line=line, setting="columns")


def _lines(path: Path) -> Iterator[str]:
    """The file's lines, without a byte-order mark (spreadsheet exports write one)."""
    lines = iter_lines(path)
    for first in lines:
        yield first.removeprefix("\ufeff")
        break
    yield from lines


def _first_line(path: Path) -> str:
    lines = _lines(path)  # also: no such file / a directory -> DataError
    try:
        return next(lines, "")
    finally:
        lines.close()


def _delimited_rows(path: Path, fmt: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) per row; blank lines yield no fields."""
    if fmt == "tsv":
        for lineno, line in enumerate(_lines(path), start=1):
            yield lineno, line.split("\t") if line.strip() else []
        return
    # iter_lines names the line of invalid UTF-8; csv needs the line endings back for quoted newlines
    reader = csv.reader((line + "\n" for line in _lines(path)), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"malformed CSV: {exc}", path=path, line=start) from None
        yield start, row if any(f.strip() for f in row) else []


def _read_delimited(reader: RowReader, fmt: str, wanted: tuple[str, str, str] | None) -> None:
    positional = wanted is not None and all(c.isdigit() for c in wanted)
    idx: list[int] = [int(c) - 1 for c in wanted] if positional and wanted else []
    names: list[str] = [f"column {c}" for c in wanted] if positional and wanted else []
    width = None
    for line, fields in _delimited_rows(reader.path, fmt):
        if not fields:
            reader.blank += 1
            continue
        if not idx:  # the first row is the header
            idx, names = _header_indexes(fields, wanted, reader.layout, reader.path, line)
            width = len(fields)
            continue
        if len(fields) <= max(idx):
            missing = [n for i, n in zip(idx, names, strict=True) if i >= len(fields)]
            reader.bad(f"missing column {', '.join(map(repr, missing))} (the row has {len(fields)} field(s))", line)
            continue
        if width is not None and len(fields) > width:
            sep = "a tab" if fmt == "tsv" else "an unquoted comma"
            reader.bad(f"the row has {len(fields)} fields, the header {width} ({sep} inside a sentence?)", line)
            continue
        values = [fields[i] for i in idx]
        texts = [v for v, numeric in zip(values, reader.layout.numeric, strict=True) if not numeric]
        if fmt == "tsv" and any(len(v) > 1 and v[0] == v[-1] == '"' and '""' in v for v in texts):
            reader.csv_quoted += 1
        reader.add(values, names, line)
    if not idx:
        raise DataError("no header line (an empty file?)", path=reader.path)


def _read_jsonl(reader: RowReader, wanted: tuple[str, str, str] | None) -> None:
    if wanted is not None and all(c.isdigit() for c in wanted):
        raise DataError("JSON Lines columns are keys, not positions", path=reader.path, setting="columns")
    names: list[str] | None = None
    for line, text in enumerate(_lines(reader.path), start=1):
        if not text.strip():
            reader.blank += 1
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            reader.bad(f"not valid JSON ({exc.msg})", line)
            continue
        if not isinstance(obj, dict):
            reader.bad(f"expected a JSON object, got {type(obj).__name__}", line)
            continue
        if names is None:
            _, names = _header_indexes(list(obj), wanted, reader.layout, reader.path, line)
        missing = [n for n in names if n not in obj]
        if missing:
            reader.bad(f"missing column {', '.join(map(repr, missing))}", line)
            continue
        reader.add([obj[n] for n in names], names, line)


def read_rows(path: str | Path, layout: RowLayout, columns: Columns = None,
              skip_bad_rows: bool = False) -> RowReader:
    """Read a three-column file (TSV, CSV or JSON Lines, see the module docstring) -> its checked rows.

    ``columns``: the layout's three column names or 1-based positions; default: the first of the
    layout's known header names the file has. Skipped rows, blank lines and quoting are logged.
    """
    path = Path(path)
    fmt = table_format(path, _first_line(path))
    wanted = parse_columns(columns, layout)
    reader = RowReader(path, layout, skip_bad_rows)
    if fmt == "jsonl":
        _read_jsonl(reader, wanted)
    else:
        _read_delimited(reader, fmt, wanted)
    reader.log_counts()
    return reader


def load_pairs(path: str | Path, columns: Columns = None, skip_bad_rows: bool = False,
               name: str | None = None, limit: int | None = None) -> PairsTask:
    """Read a scored-pairs file -> a :class:`PairsTask` named after the file (``name`` overrides).

    ``columns``: the (sentence A, sentence B, score) column names or 1-based positions; default: the
    first of :data:`KNOWN_COLUMNS` the header has. ``limit`` keeps the first N pairs (smoke runs only).
    """
    path = Path(path)
    reader = read_rows(path, PAIRS_LAYOUT, columns, skip_bad_rows)
    if len(reader.rows) < 2:
        raise DataError(f"{len(reader.rows)} scored pair(s); a correlation needs at least 2", path=path)
    s1, s2, gold = reader.column(0)[:limit], reader.column(1)[:limit], reader.column(2)[:limit]
    subset = STSSubset("all", s1, s2, np.asarray(gold, dtype=np.float64))
    return PairsTask(task=name or pairs_task_name(path), split=PAIRS_SPLIT, subsets=[subset], path=str(path),
                     skipped_rows=reader.skipped)
