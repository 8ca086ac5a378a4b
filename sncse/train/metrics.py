"""``metrics.jsonl`` (one JSON object per line) and, optionally, TensorBoard event files.

Train records: ``{"step", "epoch", "lr", "loss", "parts": {...}, "sent_per_s"}`` (+ ``"chunks"``, the
forward passes of a step, when ``train.mini_batch_size`` runs the gradient cache); eval records:
``{"step", "dev_stsb"}`` (Spearman x 100). The file is appended to and flushed line by line, so it can
be followed while a run is going; a resumed run first drops the records after its checkpoint's step.
TensorBoard (``train.tensorboard: true``) writes under ``RUN/tensorboard/`` if the package is
installed (``pip install sncse[tensorboard]``), else a warning is logged and the run goes on.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import atomic_write, iter_lines, json_dumps

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl`` (``path``: the file or its run directory; none if it is absent).

    Blank lines are skipped; a line that is not a JSON object is a DataError naming the file and line.
    """
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    if not path.exists():
        return []
    records: list[dict[str, Any]] = []
    for lineno, line in enumerate(iter_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=path, line=lineno) from None
        if not isinstance(record, dict):
            raise DataError(f"expected a JSON object, got {line[:40]!r}", path=path, line=lineno)
        records.append(record)
    return records


def truncate_metrics(path: str | Path, after_step: int) -> None:
    """Keep only the records of steps <= ``after_step`` (before a resumed run appends again)."""
    path = Path(path)
    if not path.exists():
        return
    keep = [r for r in read_metrics(path) if int(r.get("step", 0)) <= after_step]
    with atomic_write(path) as fh:
        for r in keep:
            fh.write(json_dumps(r) + "\n")


class MetricsWriter:
    def __init__(self, run_dir: str | Path, tensorboard: bool = False, enabled: bool = True):
        self.enabled = enabled
        self.path = Path(run_dir) / METRICS_FILE
        self._fh = open(self.path, "a", encoding="utf-8") if enabled else None  # noqa: SIM115
        self._tb = None
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"))
            except ImportError:
                log.warning("train.tensorboard is on but the tensorboard package is not installed "
                            "(pip install 'sncse[tensorboard]'); writing metrics.jsonl only")

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled or self._fh is None:
            return
        self._fh.write(json_dumps(record) + "\n")
        self._fh.flush()
        if self._tb is not None:
            step = int(record["step"])
            for key, value in record.items():
                if key == "step":
                    continue
                if key == "parts" and isinstance(value, dict):
                    for part, v in value.items():
                        self._tb.add_scalar(f"train/{part}", v, step)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    group = "dev" if key.startswith("dev_") else "train"
                    self._tb.add_scalar(f"{group}/{key}", value, step)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
