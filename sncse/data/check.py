"""``sncse data check``: is every evaluation set present, and does each have the papers' size?

For each STS task/split the pair count is compared with the count in the SNCSE paper's Table 1 (and
SentEval's sizes for STS-B/SICK train and the transfer tasks); missing files are named one by one. The
triplet tasks follow: ``negation`` (built from SICK; its count is fixed in ``sncse.data.tasks``) and
``cannot``, an optional download whose absence is reported but is not a failure.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SncseError
from .root import data_root, resolve_data_root, sample_root, senteval_dir
from .senteval import describe_missing, how_to_get, load_sts, load_transfer, sts_files, transfer_files
from .tasks import (
    DEFAULT_TRIPLETS,
    DEV_TASKS,
    EXPECTED_TRANSFER,
    EXPECTED_TRIPLETS,
    STS_TASKS,
    TRANSFER_TASKS,
    TRIPLET_TASKS,
    expected_pairs,
)
from .triplets import NEGATION_SAMPLE_FILE, NEGATION_SPLITS, cannot_path, triplet_task

log = logging.getLogger(__name__)

# (task, split) rows checked for STS, in display order.
STS_CHECKS: list[tuple[str, str]] = ([(t, "test") for t in STS_TASKS] + [(t, "dev") for t in DEV_TASKS]
                                     + [(t, "train") for t in DEV_TASKS])


@dataclass
class TaskCheck:
    """The state of one task/split: ``status`` is ok | missing | mismatch | error. An ``optional`` set
    (CANNOT, a separate download) that is missing still counts as ok."""

    task: str
    split: str
    kind: str  # sts | transfer | triplets
    expected: int | None
    count: int | None = None
    status: str = "ok"
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    root: str | None = None
    optional: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok" or (self.optional and self.status == "missing")

    def describe(self) -> str:
        if self.status == "missing" and self.kind == "triplets":
            return ", ".join(self.missing) + (" (optional: `sncse data download --dataset cannot`)" if self.optional else "")
        if self.status == "missing":
            return describe_missing([Path(m) for m in self.missing], self.root, max_items=4, show_base=False)
        if self.status == "error":
            return self.error or "unreadable"
        if self.status == "mismatch":
            return f"{self.count} pairs, expected {self.expected}"
        return f"{self.count} {dict(sts='pairs', triplets='triplets').get(self.kind, 'examples')}"


def _check(task: str, split: str, kind: str, files: list[Path], expected: int | None, loader,
           root: str | Path | None = None) -> TaskCheck:
    row = TaskCheck(task, split, kind, expected, root=str(root) if root is not None else None)
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        row.status, row.missing = "missing", missing
        return row
    try:
        row.count = loader()
    except SncseError as exc:
        row.status, row.error = "error", str(exc)
        return row
    if expected is not None and row.count != expected:
        row.status = "mismatch"
    return row


def check_data(root: str | Path | None = None, transfer: bool = True) -> list[TaskCheck]:
    """Check every STS task/split (and the transfer tasks unless ``transfer=False``)."""
    rows = []
    for task, split in STS_CHECKS:
        expected = expected_pairs(task, split)
        rows.append(_check(task, split, "sts", sts_files(task, split, root), expected,
                           lambda t=task, s=split: load_sts(t, s, root=root).pairs, root))
    if transfer:
        for task in TRANSFER_TASKS:
            rows.append(_check(task, "all", "transfer", transfer_files(task, root), EXPECTED_TRANSFER[task],
                               lambda t=task: load_transfer(t, root=root).size, root))
    for task in TRIPLET_TASKS:
        row = _check(task, "all", "triplets", triplet_files(task, root), EXPECTED_TRIPLETS[task],
                     lambda t=task: len(triplet_task(t, root)), root)
        row.optional = task not in DEFAULT_TRIPLETS
        rows.append(row)
    return rows


def triplet_files(task: str, root: str | Path | None = None) -> list[Path]:
    """The files a triplet task is read from: SICK's three (or the sample's triplet file), CANNOT's TSV."""
    if task == "cannot":
        return [cannot_path(root)]
    if resolve_data_root(root).is_sample:
        return [sample_root() / NEGATION_SAMPLE_FILE]
    return [f for split in NEGATION_SPLITS for f in sts_files("sickr", split, root)]


def summary(rows: list[TaskCheck], root: str | Path | None = None) -> dict[str, Any]:
    """JSON-ready summary: root, ok, the rows, and a ``how_to_fix`` line when something is wrong."""
    bad = [r for r in rows if not r.ok]
    source = resolve_data_root(root)
    out: dict[str, Any] = {
        "root": str(data_root(root)),
        "source": source.kind,
        "senteval_dir": str(senteval_dir(root)),
        "ok": not bad,
        "tasks": [dict(asdict(r), ok=r.ok) for r in rows],
    }
    if bad:
        out["how_to_fix"] = how_to_get(root)
    return out
