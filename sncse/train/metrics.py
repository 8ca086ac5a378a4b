"""``metrics.jsonl`` (one JSON object per line) and, optionally, TensorBoard event files.

Train records: ``{"step", "epoch", "lr", "loss", "parts": {...}, "sent_per_s"}`` (+ ``"chunks"``, the
forward passes of a step, when ``train.mini_batch_size`` runs the gradient cache); eval records:
``{"step", "dev_stsb"}`` (Spearman x 100). The file is appended to and flushed line by line, so it can
be followed while a run is going; a resumed run first drops the records after its checkpoint's step.
TensorBoard (``train.tensorboard: true``) writes under ``RUN/tensorboard/`` if the package is
installed (``pip install sncse[tensorboard]``), else a warning is logged and the run goes on.
The file is read by :func:`sncse.rundir.reader.read_metrics`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..io import atomic_write, json_dumps
from ..rundir.files import METRICS_FILE, TENSORBOARD_DIR
from ..rundir.reader import read_metrics

log = logging.getLogger(__name__)


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

                self._tb = SummaryWriter(log_dir=str(Path(run_dir) / TENSORBOARD_DIR))
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
