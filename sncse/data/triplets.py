"""(anchor, positive, negative) sentence triplets: a user's files, and the built-in negation sets.

A triplet asks whether a model puts the positive closer to the anchor than the negative:
``cos(a, p) > cos(a, n)`` (``sncse.eval.triplets`` scores it). Three sources:

- **Files** (:func:`read_triplets`, ``sncse eval --triplets FILE``): TSV, CSV or JSON Lines read by the
  same reader as scored pairs (``sncse.data.pairs.read_rows``: header names or ``columns``, 1-based
  positions, ``skip_bad_rows``, one-line ``file:line`` errors). Columns ``anchor,positive,negative``
  (sentence-transformers' triplet layout) and ``sent0,sent1,hard_neg`` (SimCSE's NLI file) are found
  without being told.
- **negation** (:func:`negation_triplets`): built from SICK's human entailment labels (Marelli et al.,
  2014), in SICK train, trial and test: an anchor with no explicit negation cue, a sentence SICK labels
  as entailed by it, and a sentence SICK labels as contradicting it that adds an explicit negation cue
  (``sncse.data.words``). Nobody's negation rules wrote these sentences. The embedded sample holds the
  same triplets (:data:`NEGATION_SAMPLE_FILE`, with SICK's licence beside it).
- **cannot** (:func:`cannot_triplets`): the CANNOT dataset (Anschütz et al., 2023; CC BY-SA 4.0),
  installed by ``sncse data download --dataset cannot``: each premise with one of its paraphrases (label 0)
  and one of its negations (label 1).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError
from ..io import atomic_write
from .pairs import Columns, RowLayout, pairs_task_name, read_rows
from .root import resolve_data_root, sample_root, senteval_dir
from .senteval import SICK_FILES, describe_missing, how_to_get, load_sick_judgments
from .tasks import EXPECTED_TRIPLETS
from .words import negation_cues

log = logging.getLogger(__name__)

#: column names recognised without being told, in this order
KNOWN_TRIPLET_COLUMNS: tuple[tuple[str, str, str], ...] = (("anchor", "positive", "negative"),
                                                           ("sent0", "sent1", "hard_neg"))
TRIPLETS_LAYOUT = RowLayout(("anchor", "positive", "negative"), KNOWN_TRIPLET_COLUMNS, (False, False, False),
                            "the anchor, positive and negative columns", "query,relevant,irrelevant")

#: the negation triplets inside the embedded sample (relative to ``sample_root()``)
NEGATION_SAMPLE_FILE = "negation/sick_negation_triplets.tsv"
#: SICK's splits the negation triplets are built from, in this order
NEGATION_SPLITS = ("train", "dev", "test")

#: CANNOT under a data root (``sncse data download --dataset cannot`` installs it there), and its published size
CANNOT_FILE = "cannot/cannot_dataset_v1.1.tsv"
CANNOT_ROWS = 77_376
CANNOT_LAYOUT = RowLayout(("premise", "hypothesis", "label"), (("premise", "hypothesis", "label"),),
                          (False, False, True), "the premise, hypothesis and label columns",
                          "premise,hypothesis,label")


@dataclass
class Triplets:
    """Parallel lists of anchors, positives and negatives, and where they came from."""

    anchors: list[str]
    positives: list[str]
    negatives: list[str]
    source: str
    name: str = "triplets"
    skipped_rows: list[int] = field(default_factory=list)  # 1-based line numbers of skipped bad rows (files)

    def __post_init__(self) -> None:
        if not len(self.anchors) == len(self.positives) == len(self.negatives):
            raise DataError(f"{self.name}: {len(self.anchors)} anchors, {len(self.positives)} positives and "
                            f"{len(self.negatives)} negatives")

    def __len__(self) -> int:
        return len(self.anchors)

    def sentences(self) -> list[str]:
        """Distinct sentences of all rows, first-seen order."""
        return list(dict.fromkeys(s for row in zip(self.anchors, self.positives, self.negatives, strict=True)
                                  for s in row))

    def head(self, limit: int | None) -> Triplets:
        """The first ``limit`` rows (smoke runs); all of them for None."""
        if limit is None:
            return self
        return Triplets(self.anchors[:limit], self.positives[:limit], self.negatives[:limit], self.source,
                        self.name, self.skipped_rows)


def read_triplets(path: str | Path, columns: Columns = None, skip_bad_rows: bool = False,
                  name: str | None = None) -> Triplets:
    """Read a triplet file -> :class:`Triplets` named after the file's stem (``name`` overrides).

    ``columns``: the (anchor, positive, negative) column names, or three 1-based positions for a file
    without a header; default: the first of :data:`KNOWN_TRIPLET_COLUMNS` the header has.
    """
    path = Path(path)
    reader = read_rows(path, TRIPLETS_LAYOUT, columns, skip_bad_rows)
    if not reader.rows:
        raise DataError("no triplets (every row was skipped or the file has only a header)", path=path)
    return Triplets(reader.column(0), reader.column(1), reader.column(2), source=str(path),
                    name=name or pairs_task_name(path), skipped_rows=reader.skipped)


def write_triplets(path: str | Path, triplets: Triplets) -> Path:
    """Write ``triplets`` as a TSV with an ``anchor positive negative`` header (atomically)."""
    path = Path(path)
    for s in (x for row in zip(triplets.anchors, triplets.positives, triplets.negatives, strict=True) for x in row):
        if "\t" in s or "\n" in s:
            raise DataError(f"a sentence holds a tab or a newline, which a TSV cannot: {s[:60]!r}", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        fh.write("\t".join(TRIPLETS_LAYOUT.known[0]) + "\n")
        for row in zip(triplets.anchors, triplets.positives, triplets.negatives, strict=True):
            fh.write("\t".join(row) + "\n")
    return path


# ---------------------------------------------------------------------------------- negation (SICK)
def build_negation_triplets(judgments: Iterable[tuple[str, str, str]], source: str) -> Triplets:
    """SICK rows ``(sentence A, sentence B, judgment)`` in file order -> one triplet per anchor.

    Anchors are the sentences without a negation cue that SICK pairs (as sentence A) with an
    ``ENTAILMENT`` judgment, in first-seen order. Positive: the anchor's first entailed sentence (A -> B)
    without a negation cue. Negative: the first sentence in a ``CONTRADICTION`` pair with the anchor
    (either side: contradiction is symmetric) that has a negation cue and is not the positive. An anchor
    lacking either is left out. One row per anchor keeps the rows independent for the bootstrap.
    """
    entailed: dict[str, list[str]] = {}
    contradicting: dict[str, list[str]] = {}
    for a, b, judgment in judgments:
        if judgment == "ENTAILMENT":
            entailed.setdefault(a, []).append(b)
        elif judgment == "CONTRADICTION":
            contradicting.setdefault(a, []).append(b)
            contradicting.setdefault(b, []).append(a)
    anchors, positives, negatives = [], [], []
    for anchor, candidates in entailed.items():
        if negation_cues(anchor):
            continue
        positive = next((p for p in candidates if p != anchor and not negation_cues(p)), None)
        if positive is None:
            continue
        negative = next((n for n in contradicting.get(anchor, []) if n not in (anchor, positive) and negation_cues(n)),
                        None)
        if negative is None:
            continue
        anchors.append(anchor)
        positives.append(positive)
        negatives.append(negative)
    return Triplets(anchors, positives, negatives, source=source, name="negation")


def negation_triplets(root: str | Path | None = None) -> Triplets:
    """The built-in ``negation`` task: :func:`build_negation_triplets` on SICK train, trial and test under
    the data root, or the embedded sample's copy of the same triplets when the root is the sample."""
    source = resolve_data_root(root)
    if source.is_sample:
        path = sample_root() / NEGATION_SAMPLE_FILE
        t = read_triplets(path, name="negation")
        t.source = f"the embedded sample ({NEGATION_SAMPLE_FILE}, built from SICK train, trial and test)"
    else:
        files = [senteval_dir(root) / SICK_FILES[s] for s in NEGATION_SPLITS]
        missing = [p for p in files if not p.is_file()]
        if missing:
            raise DataError(f"the negation triplets are built from SICK: missing {describe_missing(missing, root)}; "
                            f"{how_to_get(root)}", setting="data_root")
        rows = [r for split in NEGATION_SPLITS for r in load_sick_judgments(split, root)]
        t = build_negation_triplets(rows, source="SICK train, trial and test under "
                                                 f"{senteval_dir(root) / 'SICK'}")
    want = EXPECTED_TRIPLETS["negation"]
    if want is not None and len(t) != want:
        log.warning("negation: %d triplets, expected %d (are the SICK files SentEval's?)", len(t), want)
    return t


# ------------------------------------------------------------------------------------------- CANNOT
def cannot_path(root: str | Path | None = None) -> Path:
    """Where the CANNOT file lives under the data root (``sncse data download --dataset cannot`` puts it there)."""
    return resolve_data_root(root).root / CANNOT_FILE


def read_cannot(path: str | Path) -> list[tuple[str, str, int]]:
    """CANNOT's rows ``(premise, hypothesis, label)``: its published TSV (header ``premise hypothesis
    label``; label 1: the hypothesis negates the premise, 0: it paraphrases it). A row with another
    label, or without three fields, is an error naming file and line."""
    reader = read_rows(path, CANNOT_LAYOUT)
    rows = []
    for (premise, hypothesis, label), line in zip(reader.rows, reader.lines, strict=True):
        if label not in (0.0, 1.0):
            raise DataError(f"label {label:g} is neither 0 (paraphrase) nor 1 (negation)", path=path, line=line)
        rows.append((premise, hypothesis, int(label)))
    return rows


def build_cannot_triplets(rows: Sequence[tuple[str, str, int]], source: str) -> Triplets:
    """One triplet per premise that has both: the premise, its first paraphrase (label 0) and its first
    negation (label 1), in file order."""
    paraphrases: dict[str, str] = {}
    negations: dict[str, str] = {}
    for premise, hypothesis, label in rows:
        if hypothesis == premise:
            continue
        (negations if label == 1 else paraphrases).setdefault(premise, hypothesis)
    anchors = [p for p in dict.fromkeys(r[0] for r in rows) if p in paraphrases and p in negations
               and paraphrases[p] != negations[p]]
    return Triplets(anchors, [paraphrases[a] for a in anchors], [negations[a] for a in anchors], source=source,
                    name="cannot")


def require_cannot(root: str | Path | None = None) -> Path:
    """The data root's CANNOT file; a DataError saying how to get it when it is not installed."""
    path = cannot_path(root)
    if not path.is_file():
        raise DataError(f"the CANNOT dataset is not installed ({path} is missing); run `sncse data download "
                        "--dataset cannot` (it needs a network), or set the data root to a folder that holds "
                        f"{CANNOT_FILE}", setting="data_root")
    return path


def cannot_triplets(root: str | Path | None = None) -> Triplets:
    """The ``cannot`` task from the data root's CANNOT file."""
    path = require_cannot(root)
    rows = read_cannot(path)
    if len(rows) != CANNOT_ROWS:
        log.warning("%s: %d rows, the published file has %d", path, len(rows), CANNOT_ROWS)
    return build_cannot_triplets(rows, source=str(path))


def triplet_task(name: str, root: str | Path | None = None) -> Triplets:
    """A built-in triplet task by name (``sncse.data.tasks.TRIPLET_TASKS``)."""
    if name == "negation":
        return negation_triplets(root)
    if name == "cannot":
        return cannot_triplets(root)
    raise DataError(f"unknown triplet task {name!r}; known: negation, cannot", setting="tasks")
