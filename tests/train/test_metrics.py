"""metrics.jsonl writing, truncation on resume, and the optional TensorBoard output."""

from __future__ import annotations

from pathlib import Path

import pytest

from sncse.rundir.reader import read_metrics
from sncse.train.metrics import MetricsWriter, truncate_metrics


def test_write_read_truncate(tmp_path: Path) -> None:
    w = MetricsWriter(tmp_path)
    for step in (1, 2, 3):
        w.write({"step": step, "loss": 1.0 / step, "parts": {"infonce": 1.0}, "sent_per_s": 10.0})
    w.write({"step": 2, "dev_stsb": 50.0})
    w.close()
    assert [r["step"] for r in read_metrics(tmp_path)] == [1, 2, 3, 2]
    truncate_metrics(tmp_path / "metrics.jsonl", 2)
    assert [r["step"] for r in read_metrics(tmp_path)] == [1, 2, 2]


def test_disabled_writer_writes_nothing(tmp_path: Path) -> None:
    w = MetricsWriter(tmp_path, enabled=False)
    w.write({"step": 1})
    w.close()
    assert not (tmp_path / "metrics.jsonl").exists()


def test_tensorboard_events(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    w = MetricsWriter(tmp_path, tensorboard=True)
    w.write({"step": 1, "loss": 0.5, "parts": {"bml": 0.1}, "lr": 1e-5})
    w.write({"step": 1, "dev_stsb": 70.0})
    w.close()
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
