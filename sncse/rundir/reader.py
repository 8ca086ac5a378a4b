"""Read what ``sncse train`` and ``sncse eval`` leave in a run directory (read-only, lenient).

Used by the model card (``sncse export``), the hyperparameter sweep (``sncse analyze --sweep``) and the
results page (``scripts/make_results.py``). A missing file is not an error (a run may be unfinished or
never evaluated); a malformed one is a :class:`~sncse.errors.DataError` naming the file and line.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import iter_lines, read_json
from ..registry import base_name
from .files import CONFIG_FILE, METRICS_FILE, RESULTS_FILE, RUN_INFO_FILE, eval_result_path

log = logging.getLogger(__name__)


@dataclass
class RunRecord:
    """What one run directory holds; every part is optional except the path."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] | None = None
    eval_test: dict[str, Any] | None = None
    run_info: dict[str, Any] | None = None
    dev_curve: list[tuple[int, float]] = field(default_factory=list)
    last_train_step: int | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def get(self, dotted: str, default: Any = None) -> Any:
        """A config value by dotted key (``train.batch_size``), or ``default``."""
        cur: Any = self.config
        for part in dotted.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return default
            cur = cur[part]
        return cur

    def loss_param(self, name: str, default: Any = None) -> Any:
        """A parameter of the run's loss: ``loss.<loss>.<name>`` (``temperature``: ``loss.temperature``)."""
        if name == "temperature":
            return self.get("loss.temperature", default)
        loss = self.get("loss.name")
        return self.get(f"loss.{base_name(str(loss))}.{name}", default) if loss else default

    @property
    def best_dev(self) -> float | None:
        """Best dev Spearman x100 the run selected on (STS-B dev, or its ``train.dev_file``): results.json,
        else the best eval record of metrics.jsonl."""
        for key in ("best_dev_stsb", "best_dev"):
            if self.results and self.results.get(key) is not None:
                return float(self.results[key])
        return max((v for _, v in self.dev_curve), default=None)

    @property
    def steps(self) -> int | None:
        if self.results and self.results.get("steps") is not None:
            return int(self.results["steps"])
        return self.last_train_step

    def test_scores(self) -> dict[str, float]:
        """{task: Spearman x100} from eval_test.json (empty if the run was not evaluated)."""
        return test_scores(self.eval_test)

    @property
    def test_avg(self) -> float | None:
        if not self.eval_test:
            return None
        avg = self.eval_test.get("avg")
        if avg is None:
            scores = self.test_scores()
            return sum(scores.values()) / len(scores) if scores else None
        return float(avg)


def test_scores(evaluation: dict[str, Any] | None) -> dict[str, float]:
    """{task: Spearman x100} from an ``sncse eval --json`` result (``{"tasks": {t: {"spearman"}}}``)."""
    if not evaluation:
        return {}
    tasks = evaluation.get("tasks", {})
    out: dict[str, float] = {}
    for task, res in tasks.items():
        value = res.get("spearman") if isinstance(res, dict) else res
        if isinstance(value, (int, float)):
            out[task] = float(value)
    return out


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


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(f"invalid YAML: {getattr(exc, 'problem', exc)}", path=path,
                        line=mark.line + 1 if mark else None) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataError("expected a mapping at the top level", path=path)
    return data


def dev_curve(records: list[dict[str, Any]]) -> tuple[list[tuple[int, float]], int | None]:
    """(dev curve [(step, dev score)], last train step) from the records of ``metrics.jsonl``: the
    ``dev_stsb`` records, or those of a ``train.dev_file`` (``dev_<stem>`` beside ``dev_file``)."""
    curve: list[tuple[int, float]] = []
    last_step: int | None = None
    for rec in records:
        if "step" not in rec:
            continue
        step = int(rec["step"])
        score = rec.get("dev_stsb")
        if score is None and "dev_file" in rec:
            score = next((v for k, v in rec.items() if k.startswith("dev_") and k != "dev_file"), None)
        if score is not None:
            curve.append((step, float(score)))
        if "loss" in rec:
            last_step = step if last_step is None else max(last_step, step)
    return curve, last_step


def read_run(path: str | Path) -> RunRecord:
    """Read a run directory. Raises DataError when ``path`` is not a directory."""
    p = Path(path)
    if not p.is_dir():
        raise DataError("not a run directory", path=p)
    rec = RunRecord(path=p)
    if (p / CONFIG_FILE).is_file():
        rec.config = _read_yaml(p / CONFIG_FILE)
    if (p / RESULTS_FILE).is_file():
        rec.results = read_json(p / RESULTS_FILE)
    if eval_result_path(p, "test").is_file():
        rec.eval_test = read_json(eval_result_path(p, "test"))
    if (p / RUN_INFO_FILE).is_file():
        rec.run_info = read_json(p / RUN_INFO_FILE)
    if (p / METRICS_FILE).is_file():
        rec.dev_curve, rec.last_train_step = dev_curve(read_metrics(p / METRICS_FILE))
    return rec
