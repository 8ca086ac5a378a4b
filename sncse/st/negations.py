"""Soft negatives as a Hugging Face ``datasets.Dataset``: the training set of :class:`~sncse.st.SNCSELoss`.

``negation_dataset(source)`` gives the columns ``anchor``, ``positive`` (the anchor again: unsupervised
SimCSE's dropout positive) and ``soft_negative`` (the anchor's negation by SNCSE's rules), from

- sentences: a list of strings, or a text file with one sentence per line (gzip too), negated here by
  ``sncse negate``'s driver (:func:`sncse.negation.driver.negate_file`: worker processes, progress, and with
  ``output`` set a kept, resumable negation file);
- an existing ``sncse negate`` output: ``[sentence, negation]`` JSON Lines, ``records`` JSON Lines or
  a ``parquet`` table, read as they are.

Every source is read the way ``sncse train`` reads its negations (:func:`sncse.data.corpus.read_negations`):
whitespace collapsed, blank pairs skipped and counted, a half-empty pair an error naming its line.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..data.corpus import TrainExamples, clean, detect_format, negation_examples, read_negations
from ..errors import DataError, SncseError
from ..io import atomic_write
from ..negation.driver import negate_file
from ..negation.formats import RECORD_COLUMNS

if TYPE_CHECKING:
    from datasets import Dataset

log = logging.getLogger(__name__)


def negation_dataset(source: str | Path | Sequence[str], mode: str = "faithful", workers: int = 1, *,
                     backend: str = "spacy", batch_size: int = 256, output: str | Path | None = None) -> Dataset:
    """``anchor``, ``positive``, ``soft_negative`` columns from sentences or a ``sncse negate`` output.

    ``mode`` (faithful: SNCSE's rules; improved), ``workers``, ``backend`` and ``batch_size`` are those of
    ``sncse negate`` and apply when sentences are negated; ``output`` keeps that negation file (``[sentence,
    negation]`` JSON Lines, resumed if a run was interrupted) instead of a temporary one.
    """
    from datasets import Dataset

    if isinstance(source, str | Path):
        examples = _read_source(Path(source), mode, workers, backend, batch_size, output)
    elif isinstance(source, Sequence) and all(isinstance(s, str) for s in source):
        examples = _negate_sentences(list(source), mode, workers, backend, batch_size, output)
    else:
        raise SncseError("source must be a file name or a list of sentences", setting="source")
    if not len(examples):
        raise DataError("no sentences to train on", path=examples.source)
    if examples.skipped:
        log.info("%s: skipped %d blank line(s)", examples.source, examples.skipped)
    anchor, positive, soft_negative = RECORD_COLUMNS
    return Dataset.from_dict({anchor: examples.anchor, positive: list(examples.anchor),
                              soft_negative: examples.negation})


def _read_source(path: Path, mode: str, workers: int, backend: str, batch_size: int,
                 output: str | Path | None) -> TrainExamples:
    if not path.exists():
        raise DataError("no such file", path=path, setting="source")
    if path.is_dir():
        raise DataError("is a directory, expected a text file or a `sncse negate` output", path=path,
                        setting="source")
    if path.suffix == ".parquet":
        return _read_parquet(path)
    kind = detect_format(path)
    if kind == "negations":
        return read_negations(path)
    if kind == "nli":
        raise DataError("holds NLI triplets (sent0,sent1,hard_neg), not sentences or negations", path=path,
                        setting="source")
    return _negate_file(path, mode, workers, backend, batch_size, output)


def _negate_sentences(sentences: list[str], mode: str, workers: int, backend: str, batch_size: int,
                      output: str | Path | None) -> TrainExamples:
    """The sentences (each on one line, whitespace collapsed) through ``sncse negate``'s driver."""
    with tempfile.TemporaryDirectory(prefix="sncse-negate-") as tmp:
        text = Path(tmp) / "sentences.txt"
        with atomic_write(text) as fh:
            fh.writelines(clean(s) + "\n" for s in sentences)
        return _negate_file(text, mode, workers, backend, batch_size, output, resume=False)


def _negate_file(path: Path, mode: str, workers: int, backend: str, batch_size: int,
                 output: str | Path | None, resume: bool = True) -> TrainExamples:
    """``path`` negated into ``output`` (continuing an interrupted run of the same file when ``resume``)
    or into a temporary file, read back."""
    with tempfile.TemporaryDirectory(prefix="sncse-negate-") as tmp:
        target = Path(output) if output is not None else Path(tmp) / "negations.jsonl"
        negate_file(path, target, backend=backend, mode=mode, workers=workers, batch_size=batch_size,
                    resume=resume and output is not None)
        return read_negations(target)


def _read_parquet(path: Path) -> TrainExamples:
    """A ``sncse negate --format parquet`` table (the rows numbered from 1 in errors)."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a damaged or foreign file
        raise DataError(f"unreadable parquet file ({exc})", path=path) from None
    missing = [c for c in RECORD_COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"expected the columns {', '.join(RECORD_COLUMNS)}, found {', '.join(table.column_names)}",
                        path=path)
    anchor, positive, negation = (table.column(c).to_pylist() for c in RECORD_COLUMNS)
    for row, (a, p) in enumerate(zip(anchor, positive, strict=True), start=1):
        if a != p:
            raise DataError(f"row {row}: {RECORD_COLUMNS[1]} differs from {RECORD_COLUMNS[0]}: soft-negative data "
                            "holds the sentence itself as the positive", path=path)
    rows = ((i, a or "", n or "") for i, (a, n) in enumerate(zip(anchor, negation, strict=True), start=1))
    return negation_examples(rows, path)
