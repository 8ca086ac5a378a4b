"""Readers for the SentEval-layout evaluation sets (STS12-16, STS-B, SICK-R, transfer tasks).

They follow SentEval's own loaders (Conneau & Kiela, 2018; ``senteval/sts.py``, ``senteval/sick.py``
as used by SimCSE, Gao et al., 2021, and SNCSE, Wang et al., 2022) so that pair counts and sentence
strings are identical to what those papers evaluated on:

- STS12-16: ``STS.input.<subset>.txt`` (two tab-separated sentences a line) and ``STS.gs.<subset>.txt``
  (one gold score a line). Files are read whole and split with ``str.splitlines()``; a pair whose gold
  line is exactly empty is unscored and skipped (``raw_scores != ''`` in SentEval).
- STS-B: ``sts-{train,dev,test}.csv``, tab-separated, ``line.strip().split('\\t')``: score in column 5,
  sentences in columns 6 and 7 (1-based).
- SICK-R: ``SICK_{train,trial,test_annotated}.txt``, a header line, then sentences in columns 2-3 and the
  relatedness score in column 4.

Every sentence is whitespace-split and re-joined with single spaces, exactly as SentEval's loaders
(``s.split()``) and SimCSE's batcher (``' '.join(s)``) do together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from .root import ENV_DATA, resolve_data_root, senteval_dir
from .tasks import STS_SUBSETS, STS_TASKS, TRANSFER_TASKS, expected_pairs

log = logging.getLogger(__name__)

STS_DIRS: dict[str, str] = {
    "sts12": "STS/STS12-en-test", "sts13": "STS/STS13-en-test", "sts14": "STS/STS14-en-test",
    "sts15": "STS/STS15-en-test", "sts16": "STS/STS16-en-test",
}
STSB_FILES = {"train": "STS/STSBenchmark/sts-train.csv", "dev": "STS/STSBenchmark/sts-dev.csv",
              "test": "STS/STSBenchmark/sts-test.csv"}
SICK_FILES = {"train": "SICK/SICK_train.txt", "dev": "SICK/SICK_trial.txt", "test": "SICK/SICK_test_annotated.txt"}

HOW_TO_GET = (f"run `sncse data download` (it also installs an archive fetched elsewhere), or set the data "
              f"root ({ENV_DATA}) to a folder holding senteval/downstream/ in SentEval's layout")


def how_to_get(root: str | Path | None = None) -> str:
    """How to get missing evaluation data, worded for the root in use (the embedded sample holds STS-B only)."""
    if resolve_data_root(root).is_sample:
        return (f"the embedded sample holds only STS-B dev/test (and the negation triplets); for the other sets "
                f"{HOW_TO_GET}")
    return HOW_TO_GET


@dataclass
class STSSubset:
    """One scored subset: parallel sentence lists and gold similarity scores (float64)."""

    name: str
    sent1: list[str]
    sent2: list[str]
    gold: np.ndarray


@dataclass
class STSTask:
    """An STS task split: its subsets (one for STS-B and SICK-R, named after the split)."""

    task: str
    split: str
    subsets: list[STSSubset] = field(default_factory=list)

    @property
    def pairs(self) -> int:
        return sum(len(s.gold) for s in self.subsets)

    def all_pairs(self) -> tuple[list[str], list[str], np.ndarray]:
        """All subsets concatenated, in subset order (SentEval's "all" setting)."""
        s1 = [x for s in self.subsets for x in s.sent1]
        s2 = [x for s in self.subsets for x in s.sent2]
        gold = np.concatenate([s.gold for s in self.subsets]) if self.subsets else np.zeros(0)
        return s1, s2, gold.astype(np.float64)

    def sentences(self) -> list[str]:
        """Distinct sentences of the task, first-seen order."""
        return list(dict.fromkeys(x for s in self.subsets for x in (*s.sent1, *s.sent2)))


def _norm(sentence: str) -> str:
    """SentEval's ``s.split()`` followed by SimCSE's ``' '.join(s)``."""
    return " ".join(sentence.split())


def _require(paths: list[Path], root: str | Path | None = None) -> None:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        names = ", ".join(str(p) for p in missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise DataError(f"missing {len(missing)} file(s): {names}; {how_to_get(root)}", setting="data_root")


def _read_text(path: Path) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(f"invalid UTF-8 ({exc.reason})", path=path, line=line) from None


def _float(value: str, path: Path, line: int) -> float:
    try:
        return float(value)
    except ValueError:
        raise DataError(f"score {value!r} is not a number", path=path, line=line) from None


def _load_sts_subset(directory: Path, name: str) -> STSSubset:
    inp, gs = directory / f"STS.input.{name}.txt", directory / f"STS.gs.{name}.txt"
    _require([inp, gs])
    in_lines = _read_text(inp).splitlines()
    gs_lines = _read_text(gs).splitlines()
    if len(in_lines) != len(gs_lines):
        raise DataError(f"{len(in_lines)} sentence pairs but {len(gs_lines)} gold lines in {gs.name}", path=inp)
    s1: list[str] = []
    s2: list[str] = []
    gold: list[float] = []
    for i, (pair, score) in enumerate(zip(in_lines, gs_lines, strict=True), start=1):
        if score == "":  # unscored pair (SentEval: raw_scores != '')
            continue
        fields = pair.split("\t")
        if len(fields) < 2:
            raise DataError("expected two tab-separated sentences", path=inp, line=i)
        s1.append(_norm(fields[0]))
        s2.append(_norm(fields[1]))
        gold.append(_float(score, gs, i))
    return STSSubset(name, s1, s2, np.asarray(gold, dtype=np.float64))


def _load_tsv_pairs(path: Path, cols: tuple[int, int, int], header: bool, name: str) -> STSSubset:
    """STS-B / SICK: ``line.strip().split('\\t')``; ``cols`` = (sentence A, sentence B, score), 0-based."""
    _require([path])
    a, b, score = cols
    s1: list[str] = []
    s2: list[str] = []
    gold: list[float] = []
    blank = 0
    for i, line in enumerate(_text_mode_lines(path), start=1):
        if header and i == 1:
            continue
        if not line.strip():
            blank += 1
            continue
        fields = line.strip().split("\t")
        if len(fields) <= max(cols):
            raise DataError(f"expected at least {max(cols) + 1} tab-separated columns, got {len(fields)}",
                            path=path, line=i)
        s1.append(_norm(fields[a]))
        s2.append(_norm(fields[b]))
        gold.append(_float(fields[score], path, i))
    if blank:
        log.warning("%s: skipped %d blank line(s)", path, blank)
    return STSSubset(name, s1, s2, np.asarray(gold, dtype=np.float64))


def _text_mode_lines(path: Path) -> list[str]:
    """Lines as ``for line in io.open(path)`` yields them (universal newlines only, unlike splitlines)."""
    text = _read_text(path)  # text mode already turned \r\n and \r into \n
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def load_sts(task: str, split: str = "test", root: str | Path | None = None) -> STSTask:
    """Load an STS task under SentEval's conventions.

    ``split`` "test" exists for every task; "dev" for ``stsb`` (sts-dev.csv) and ``sickr``
    (SICK_trial.txt); "train" for those two as well. Missing files raise ``DataError`` naming them.
    """
    task = task.lower()
    base = senteval_dir(root)
    if task in STS_SUBSETS:
        if split != "test":
            raise DataError(f"{task} has only a test split (asked for {split!r}); dev splits exist for stsb and sickr")
        directory = base / STS_DIRS[task]
        _require([directory / f"STS.{kind}.{n}.txt" for n in STS_SUBSETS[task] for kind in ("input", "gs")], root)
        subsets = [_load_sts_subset(directory, n) for n in STS_SUBSETS[task]]
    elif task == "stsb":
        if split not in STSB_FILES:
            raise DataError(f"stsb split must be train|dev|test, got {split!r}")
        subsets = [_load_tsv_pairs(base / STSB_FILES[split], (5, 6, 4), header=False, name=split)]
    elif task == "sickr":
        if split not in SICK_FILES:
            raise DataError(f"sickr split must be train|dev|test (dev = SICK_trial.txt), got {split!r}")
        subsets = [_load_tsv_pairs(base / SICK_FILES[split], (1, 2, 3), header=True, name=split)]
    else:
        raise DataError(f"unknown STS task {task!r}; known: {', '.join(STS_TASKS)}")
    result = STSTask(task, split, subsets)
    want = expected_pairs(task, split)
    if want is not None and result.pairs != want:
        log.warning("%s/%s: %d pairs, the papers report %d", task, split, result.pairs, want)
    return result


def load_sick_judgments(split: str, root: str | Path | None = None) -> list[tuple[str, str, str]]:
    """SICK's (sentence A, sentence B, entailment judgment) rows of a split, in file order: the same file,
    columns 2-3 and sentence normalisation as ``load_sts("sickr", split)``, with column 5 (``ENTAILMENT``,
    ``CONTRADICTION`` or ``NEUTRAL``, the judgment of A -> B)."""
    if split not in SICK_FILES:
        raise DataError(f"sick split must be train|dev|test (dev = SICK_trial.txt), got {split!r}")
    path = senteval_dir(root) / SICK_FILES[split]
    _require([path], root)
    rows = []
    for i, line in enumerate(_text_mode_lines(path), start=1):
        if i == 1 or not line.strip():
            continue
        fields = line.strip().split("\t")
        if len(fields) < 5:
            raise DataError(f"expected 5 tab-separated columns, got {len(fields)}", path=path, line=i)
        rows.append((_norm(fields[1]), _norm(fields[2]), fields[4].strip()))
    return rows


def sts_files(task: str, split: str = "test", root: str | Path | None = None) -> list[Path]:
    """The files ``load_sts(task, split)`` reads (for ``sncse data check``)."""
    base = senteval_dir(root)
    if task in STS_SUBSETS:
        return [base / STS_DIRS[task] / f"STS.{kind}.{n}.txt" for n in STS_SUBSETS[task] for kind in ("input", "gs")]
    if task == "stsb":
        return [base / STSB_FILES[split]]
    if task == "sickr":
        return [base / SICK_FILES[split]]
    raise DataError(f"unknown STS task {task!r}; known: {', '.join(STS_TASKS)}")


# ---------------------------------------------------------------------------------------------- transfer tasks
# (positive file, negative file) for the binary tasks; SUBJ's "positive" class is the objective file,
# exactly as SentEval's SUBJEval passes (obj, subj).
_BINARY_FILES = {
    "mr": ("MR/rt-polarity.pos", "MR/rt-polarity.neg"),
    "cr": ("CR/custrev.pos", "CR/custrev.neg"),
    "subj": ("SUBJ/subj.objective", "SUBJ/subj.subjective"),
    "mpqa": ("MPQA/mpqa.pos", "MPQA/mpqa.neg"),
}
_TREC_LABELS = {"ABBR": 0, "DESC": 1, "ENTY": 2, "HUM": 3, "LOC": 4, "NUM": 5}
TRANSFER_FILES: dict[str, tuple[str, ...]] = {
    **_BINARY_FILES,
    "sst2": ("SST/binary/sentiment-train", "SST/binary/sentiment-dev", "SST/binary/sentiment-test"),
    "trec": ("TREC/train_5500.label", "TREC/TREC_10.label"),
    "mrpc": ("MRPC/msr_paraphrase_train.txt", "MRPC/msr_paraphrase_test.txt"),
}


@dataclass
class TransferSplit:
    """Sentences (or sentence pairs for MRPC: ``sent2`` set) and integer labels."""

    sent1: list[str]
    labels: np.ndarray
    sent2: list[str] | None = None

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class TransferTask:
    """A transfer task: ``splits`` holds "all" (10-fold CV tasks) or "train"/"dev"/"test"."""

    task: str
    splits: dict[str, TransferSplit]

    @property
    def size(self) -> int:
        return sum(len(s) for s in self.splits.values())


def _sentEval_sorted(split: TransferSplit) -> TransferSplit:
    """SentEval sorts each split by (length in words, label) before embedding; the k-fold split
    assignment depends on this order, so we keep it (Python's sort is stable, as SentEval's)."""
    if split.sent2 is None:
        order = sorted(range(len(split)), key=lambda i: (len(split.sent1[i].split()), int(split.labels[i])))
        return TransferSplit([split.sent1[i] for i in order], split.labels[order])
    order = sorted(range(len(split)), key=lambda i: (len(split.sent1[i].split()), len(split.sent2[i].split()),
                                                     int(split.labels[i])))
    return TransferSplit([split.sent1[i] for i in order], split.labels[order], [split.sent2[i] for i in order])


def _read_latin1_lines(path: Path) -> list[str]:
    with open(path, encoding="latin-1") as f:  # SentEval reads MR/CR/SUBJ/MPQA/TREC as latin-1
        return f.read().splitlines()


def load_transfer(task: str, root: str | Path | None = None) -> TransferTask:
    """Load a SentEval transfer task, sentences re-joined on single spaces, splits in SentEval's order."""
    task = task.lower()
    if task not in TRANSFER_FILES:
        raise DataError(f"unknown transfer task {task!r}; known: {', '.join(TRANSFER_TASKS)}")
    base = senteval_dir(root)
    paths = [base / p for p in TRANSFER_FILES[task]]
    _require(paths, root)
    if task in _BINARY_FILES:
        pos, neg = (_read_latin1_lines(p) for p in paths)
        sents = [_norm(s) for s in pos + neg]
        labels = np.array([1] * len(pos) + [0] * len(neg), dtype=np.int64)
        return TransferTask(task, {"all": _sentEval_sorted(TransferSplit(sents, labels))})
    if task == "sst2":
        splits = {}
        for name, path in zip(("train", "dev", "test"), paths, strict=True):
            s, y = [], []
            for i, line in enumerate(_text_mode_lines(path), start=1):
                fields = line.strip().split("\t")
                if len(fields) < 2:
                    raise DataError("expected 'sentence<TAB>label'", path=path, line=i)
                s.append(_norm(fields[0]))
                y.append(int(_float(fields[1], path, i)))
            splits[name] = _sentEval_sorted(TransferSplit(s, np.array(y, dtype=np.int64)))
        return TransferTask(task, splits)
    if task == "trec":
        splits = {}
        for name, path in zip(("train", "test"), paths, strict=True):
            s, y = [], []
            with open(path, encoding="latin-1") as f:
                for i, line in enumerate(f, start=1):
                    target, _, rest = line.strip().partition(":")
                    if target not in _TREC_LABELS or " " not in rest:
                        raise DataError(f"expected 'LABEL:fine question', got {line.strip()[:40]!r}", path=path, line=i)
                    s.append(_norm(rest.split(" ", 1)[1]))
                    y.append(_TREC_LABELS[target])
            splits[name] = _sentEval_sorted(TransferSplit(s, np.array(y, dtype=np.int64)))
        return TransferTask(task, splits)
    # mrpc: header line, then Quality, #1 ID, #2 ID, #1 String, #2 String
    splits = {}
    for name, path in zip(("train", "test"), paths, strict=True):
        a, b, y = [], [], []
        for i, line in enumerate(_text_mode_lines(path), start=1):
            if i == 1:
                continue
            fields = line.strip().split("\t")
            if len(fields) < 5:
                raise DataError(f"expected 5 tab-separated columns, got {len(fields)}", path=path, line=i)
            a.append(_norm(fields[3]))
            b.append(_norm(fields[4]))
            y.append(int(_float(fields[0], path, i)))
        splits[name] = _sentEval_sorted(TransferSplit(a, np.array(y, dtype=np.int64), b))
    return TransferTask(task, splits)


def transfer_files(task: str, root: str | Path | None = None) -> list[Path]:
    """The files ``load_transfer(task)`` reads."""
    if task not in TRANSFER_FILES:
        raise DataError(f"unknown transfer task {task!r}; known: {', '.join(TRANSFER_TASKS)}")
    return [senteval_dir(root) / p for p in TRANSFER_FILES[task]]


def describe_missing(paths: list[Path], root: str | Path | None = None, max_items: int = 8,
                     show_base: bool = True) -> str:
    """A short description of missing files: relative to senteval/downstream, whole folders collapsed."""
    base = senteval_dir(root)
    if not base.is_dir():
        return f"{base} does not exist"
    parts: list[str] = []
    seen_dirs: set[Path] = set()
    for p in paths:
        if not p.parent.exists():
            top = p.parent
            while not top.parent.exists() and top.parent != base:
                top = top.parent
            if top not in seen_dirs:
                seen_dirs.add(top)
                parts.append(f"{_rel(top, base)}/ (whole folder)")
        else:
            parts.append(_rel(p, base))
    shown = ", ".join(parts[:max_items]) + (f" and {len(parts) - max_items} more" if len(parts) > max_items else "")
    return f"{shown} (under {base})" if show_base else shown


def _rel(p: Path, base: Path) -> str:
    try:
        return str(p.relative_to(base))
    except ValueError:
        return str(p)
