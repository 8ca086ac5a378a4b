"""Training corpora: plain text, the soft-negative JSONL of ``sncse negate``, and NLI triplets.

Three layouts, one in-memory form (:class:`TrainExamples`: parallel lists of strings):

- ``text``: one sentence per line (SimCSE's ``wiki1m_for_simcse.txt``). Unsupervised losses encode
  each sentence twice; the dropout noise makes the positive (Gao et al., 2021).
- ``negations``: JSON Lines, one ``[sentence, negation]`` list per line, as written by ``sncse negate``
  (SNCSE, Wang et al., 2022: the negation is the soft negative), or one ``{"anchor", "positive",
  "soft_negative"}`` record per line (``sncse negate --format records``, the positive being the anchor).
- ``nli``: supervised SimCSE's CSV with the header ``sent0,sent1,hard_neg`` (premise, entailment,
  contradiction; ``sent0,sent1`` without hard negatives is accepted too), or a folder in SentEval's SNLI
  layout (``s1.<split>``, ``s2.<split>``, ``labels.<split>``) from which one triplet per premise is built.

Blank lines are skipped and counted; a malformed line is a :class:`DataError` naming the file and line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config.schema import DataFormat, choices
from ..errors import DataError
from ..io import atomic_write, iter_lines, open_text
from ..negation.formats import RECORD_COLUMNS
from .root import find_data_file

log = logging.getLogger(__name__)

FORMATS = tuple(f for f in choices(DataFormat) if f != "auto")  # what "auto" detects between
NLI_SPLITS = ("train", "dev", "test")
_PUNCT = set(string.punctuation)


@dataclass
class TrainExamples:
    """Parallel columns of training strings. ``anchor`` is always present; the others may be None.

    - ``positive``: a different positive sentence (NLI entailment); None means "the anchor itself"
      (unsupervised: a second dropout pass).
    - ``negation``: the soft negative of each anchor (SNCSE).
    - ``hard_negative``: the hard negative of each anchor (NLI contradiction).
    """

    format: str
    anchor: list[str]
    positive: list[str] | None = None
    negation: list[str] | None = None
    hard_negative: list[str] | None = None
    source: str = ""
    skipped: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.anchor)

    def column(self, name: str) -> list[str] | None:
        return {"anchor": self.anchor, "positive": self.positive, "negation": self.negation,
                "hard_negative": self.hard_negative}[name]

    def limit(self, n: int | None) -> TrainExamples:
        """The first ``n`` examples (all when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        cut = lambda col: None if col is None else col[:n]  # noqa: E731
        return TrainExamples(self.format, self.anchor[:n], cut(self.positive), cut(self.negation),
                             cut(self.hard_negative), self.source, self.skipped, dict(self.stats))


# ---------------------------------------------------------------------------------------- helpers
def clean(text: str) -> str:
    """Collapse runs of whitespace; the tokenizers do the rest."""
    return " ".join(text.split())


def end_with_period(text: str) -> str:
    """SNCSE's preprocessing (``train_SNCSE.py``): append `` .`` unless the sentence ends in punctuation."""
    stripped = text.strip()
    if stripped and stripped[-1] not in _PUNCT:
        return stripped + " ."
    return text


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes, or of every regular file in a folder (sorted by name)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(f.name.encode() + b"\0")
        with open(f, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------- readers
def read_text(path: str | Path) -> TrainExamples:
    """One sentence per line; blank lines are skipped (and counted)."""
    sentences: list[str] = []
    skipped = 0
    for line in iter_lines(path):
        s = clean(line)
        if s:
            sentences.append(s)
        else:
            skipped += 1
    return TrainExamples("text", sentences, source=str(path), skipped=skipped)


def _record_pair(item: dict, path: str | Path, lineno: int) -> list[str]:
    """``[anchor, soft_negative]`` of a ``records`` line (``sncse negate --format records``)."""
    anchor, positive, negation = (item.get(c) for c in RECORD_COLUMNS)
    if not all(isinstance(x, str) for x in (anchor, positive, negation)):
        raise DataError(f"expected a [sentence, negation] list of two strings or a record with the string fields "
                        f"{', '.join(RECORD_COLUMNS)}, got {json.dumps(item)[:80]!r}", path=path, line=lineno)
    if positive != anchor:
        raise DataError(f"the record's {RECORD_COLUMNS[1]} differs from its {RECORD_COLUMNS[0]}: soft-negative "
                        "data holds the sentence itself as the positive", path=path, line=lineno)
    return [anchor, negation]


def iter_negation_pairs(path: str | Path) -> Iterator[tuple[int, str, str]]:
    """``(line number, sentence, negation)`` for every line of a ``sncse negate`` JSON Lines file.

    Each line is one ``[sentence, negation]`` list of two strings, or one record with the fields
    ``anchor``, ``positive`` (the anchor again) and ``soft_negative`` (``--format records``); a blank line
    yields ``(n, "", "")`` (what ``sncse negate`` writes for a blank input line), so callers count such
    lines as they see fit. Anything else is a :class:`DataError` naming the file and line. Strings are
    returned as written.
    """
    for lineno, line in enumerate(iter_lines(path), start=1):
        if not line.strip():
            yield lineno, "", ""
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON ({exc.msg}); expected a [sentence, negation] list", path=path,
                            line=lineno) from None
        if isinstance(item, dict):
            item = _record_pair(item, path, lineno)
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise DataError(f"expected a [sentence, negation] list of two strings, got {line[:80]!r}",
                            path=path, line=lineno)
        yield lineno, item[0], item[1]


def read_negations(path: str | Path) -> TrainExamples:
    """``sncse negate`` output for training: blank pairs skipped (counted), a half-empty pair an error."""
    return negation_examples(iter_negation_pairs(path), path)


def negation_examples(rows: Iterable[tuple[int, str, str]], path: str | Path) -> TrainExamples:
    """``(line, sentence, negation)`` rows of ``path`` as training examples: whitespace collapsed, pairs
    of a blank sentence skipped (counted), a sentence without a negation a :class:`DataError` naming the
    line."""
    anchors: list[str] = []
    negations: list[str] = []
    skipped = 0
    for lineno, raw_sentence, raw_negation in rows:
        sentence, negation = clean(raw_sentence), clean(raw_negation)
        if not sentence:  # a blank line, or a blank input line through `sncse negate` (faithful: "" -> "Not")
            skipped += 1
            continue
        if not negation:
            raise DataError("empty negation", path=path, line=lineno)
        anchors.append(sentence)
        negations.append(negation)
    same = sum(a == n for a, n in zip(anchors, negations, strict=True))
    return TrainExamples("negations", anchors, negation=negations, source=str(path), skipped=skipped,
                         stats={"negation_equals_sentence": same})


def read_nli_csv(path: str | Path) -> TrainExamples:
    """SimCSE's supervised CSV: header ``sent0,sent1,hard_neg`` (or ``sent0,sent1``), one row a triplet."""
    with open_text(path) as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError("empty CSV file", path=path) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"unreadable CSV header: {exc}", path=path, line=1) from None
        if header[:2] != ["sent0", "sent1"] or len(header) not in (2, 3) or (len(header) == 3 and header[2] != "hard_neg"):
            raise DataError(f"expected the header 'sent0,sent1,hard_neg' (or 'sent0,sent1'), got {','.join(header)!r}",
                            path=path, line=1)
        cols: list[list[str]] = [[] for _ in header]
        skipped = 0
        try:
            for row in reader:
                if not row or not any(x.strip() for x in row):
                    skipped += 1
                    continue
                if len(row) != len(header):
                    raise DataError(f"expected {len(header)} fields, got {len(row)}", path=path, line=reader.line_num)
                values = [clean(x) for x in row]
                if not all(values):
                    raise DataError("empty field", path=path, line=reader.line_num)
                for c, v in zip(cols, values, strict=True):
                    c.append(v)
        except csv.Error as exc:
            raise DataError(f"malformed CSV: {exc}", path=path, line=reader.line_num) from None
        except UnicodeDecodeError:
            raise DataError("invalid UTF-8", path=path, line=reader.line_num + 1) from None
    return TrainExamples("nli", cols[0], positive=cols[1], hard_negative=cols[2] if len(cols) == 3 else None,
                         source=str(path), skipped=skipped)


def snli_triplets(directory: str | Path, splits: Sequence[str] | None = None) -> list[tuple[str, str, str]]:
    """(premise, entailment, contradiction) triplets from SentEval's SNLI files, one per premise.

    The files hold one pair a line: ``s1.<split>`` (premise), ``s2.<split>`` (hypothesis),
    ``labels.<split>`` (entailment | neutral | contradiction). Premises that have both an entailment
    and a contradiction hypothesis give one triplet: the first of each, in file order (SimCSE builds
    its supervised set the same way: the entailment as positive, the contradiction as hard negative).
    """
    directory = Path(directory)
    splits = list(splits) if splits else [s for s in NLI_SPLITS if (directory / f"labels.{s}").exists()]
    if not splits:
        raise DataError("no SNLI files here (expected s1.<split>, s2.<split>, labels.<split>)", path=directory)
    triplets: list[tuple[str, str, str]] = []
    for split in splits:
        files = [directory / f"{name}.{split}" for name in ("s1", "s2", "labels")]
        for f in files:
            if not f.exists():
                raise DataError(f"missing SNLI file for split '{split}'", path=f)
        s1, s2, labels = (list(iter_lines(f)) for f in files)
        if not len(s1) == len(s2) == len(labels):
            raise DataError(f"s1/s2/labels have {len(s1)}/{len(s2)}/{len(labels)} lines", path=directory)
        groups: dict[str, dict[str, str]] = {}
        for lineno, (p, h, lab) in enumerate(zip(s1, s2, labels, strict=True), start=1):
            lab = lab.strip()
            if lab not in ("entailment", "neutral", "contradiction"):
                raise DataError(f"unknown label {lab!r}", path=files[2], line=lineno)
            p, h = clean(p), clean(h)
            if not p or not h:
                continue
            groups.setdefault(p, {}).setdefault(lab, h)
        for premise, hyps in groups.items():
            if "entailment" in hyps and "contradiction" in hyps:
                triplets.append((premise, hyps["entailment"], hyps["contradiction"]))
    return triplets


def read_snli_dir(directory: str | Path, splits: Sequence[str] | None = None) -> TrainExamples:
    triplets = snli_triplets(directory, splits)
    if not triplets:
        raise DataError("no premise has both an entailment and a contradiction", path=directory)
    a, p, n = (list(col) for col in zip(*triplets, strict=True))
    return TrainExamples("nli", a, positive=p, hard_negative=n, source=str(directory))


def write_nli_csv(triplets: Iterable[tuple[str, str, str]], path: str | Path) -> int:
    """Write triplets as SimCSE's ``sent0,sent1,hard_neg`` CSV (atomically); returns the row count."""
    n = 0
    with atomic_write(path) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["sent0", "sent1", "hard_neg"])
        for row in triplets:
            writer.writerow(row)
            n += 1
    return n


# ---------------------------------------------------------------------------------------- detection
def detect_format(path: str | Path) -> str:
    """``text`` | ``negations`` | ``nli`` from the file itself (a folder means SNLI files)."""
    path = Path(path)
    if path.is_dir():
        return "nli"
    first = ""
    with open_text(path, errors="replace") as fh:
        for line in fh:
            if line.strip():
                first = line.strip()
                break
    if first.startswith(("[", "{")):
        try:
            item = json.loads(first)
            if isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item):
                return "negations"
            if isinstance(item, dict) and set(RECORD_COLUMNS) <= set(item):
                return "negations"
        except json.JSONDecodeError:
            pass
    if first.replace(" ", "").startswith("sent0,sent1"):
        return "nli"
    return "text"


def read_training_file(name: str | Path, fmt: str = "auto", limit: int | None = None,
                       add_period: bool = False) -> TrainExamples:
    """Find ``name`` (as given, else under the data root), read it in format ``fmt`` (or detect it)."""
    path = find_data_file(name)
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt not in FORMATS:
        raise DataError(f"unknown data format {fmt!r} (expected auto, {', '.join(FORMATS)})", path=path)
    if fmt == "text":
        examples = read_text(path)
    elif fmt == "negations":
        examples = read_negations(path)
    elif path.is_dir():
        examples = read_snli_dir(path)
    else:
        examples = read_nli_csv(path)
    examples = examples.limit(limit)
    if add_period:
        for col in ("anchor", "positive", "negation", "hard_negative"):
            values = examples.column(col)
            if values is not None:
                values[:] = [end_with_period(s) for s in values]
    if not len(examples):
        raise DataError(f"no training examples (format {fmt})", path=path)
    if examples.skipped:
        log.info("%s: skipped %d blank line(s)", path, examples.skipped)
    if examples.stats.get("negation_equals_sentence"):
        log.info("%s: %d negation(s) equal their sentence", path, examples.stats["negation_equals_sentence"])
    log.info("read %d %s examples from %s", len(examples), fmt, path)
    return examples
