"""The result JSON of ``sncse eval`` and its MTEB-format export.

Schema (``SCHEMA_VERSION`` 1)::

    {
      "schema": 1,
      "model": "<what was evaluated>", "pooler": "cls_before_pooler", "mode": "test",
      "protocol": "<one line: how the numbers were computed>",
      "tasks": {"sts12": {"spearman": 72.37, "pearson": ..., "mean": ..., "wmean": ..., "pairs": 3108,
                          "split": "test", "subsets": {"MSRpar": {"spearman", "pearson", "pairs"}, ...}},
                ..., "stsb": {...}, "sickr": {...}},
                "<file stem>": {... as above, "split": "file", "file": "<path>", "skipped_rows": 0}},  # own pairs
      "avg": 76.25,                      # mean of the built-in STS task "spearman" values (null if none)
      "transfer": {"protocol", "tasks": {"mr": {"acc", "devacc", "ndev", "ntest", ...}}, "avg"},   # optional
      "align": {"align", "uniform", "positive_pairs", "sentences", ...},                            # optional
      "triplets": {"protocol", "tasks": {"negation": {"accuracy", "margin", "cos_pos", "cos_neg",   # optional
                                                       "rows", "source"}, "<file stem>": {...}}},
      "published": [{"name", "source", "where", "published": true, "scores", "avg"}, ...],
      "meta": {"sentences", "encode_seconds", "seconds", "device", "precision", "batch_size", "sncse_version",
               "created"}
    }

``meta.precision`` is what the encoder computed in: ``fp32``, ``bf16`` or ``fp16`` (``sncse.encoders.amp``), or an
ONNX graph's quantization (``int8``); null for an encoder that does not say.

All correlations and accuracies are x100. ``spearman`` of STS12-16 is the "all" aggregation. Triplet
sets (``sncse.eval.triplets``) are never part of ``avg``.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

from ..data.tasks import MTEB_NAMES, TaskPlan, expected_pairs
from ..io import write_json
from ..rundir.files import PAIRS_MODE, TRIPLETS_MODE
from ..version import __version__

SCHEMA_VERSION = 1
MTEB_META_FILE = "model_meta.json"
MTEB_NOTE = (
    "Computed by sncse on SentEval's preprocessed files (Moses-tokenized, lower-cased), not on MTEB's "
    "datasets; STS12-16 scores are Spearman over all subsets of a year concatenated. MTEB's SICK-R 'test' "
    f"is all 9,927 SICK pairs, whereas these figures use SentEval's {expected_pairs('sickr'):,}-pair test split "
    "(SICK_test_annotated.txt) -- so SICK-R is not comparable with MTEB leaderboard numbers; "
    f"STS-B uses the {expected_pairs('stsb'):,}-pair test split as MTEB does."
)


def _clean(value: Any) -> Any:
    """NaN/inf -> None so the JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def build_result(model: str, pooler: str | None, mode: str, sts: dict[str, Any] | None = None,
                 transfer: dict[str, Any] | None = None, align: dict[str, Any] | None = None,
                 published: list[dict[str, Any]] | None = None, meta: dict[str, Any] | None = None,
                 triplets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assemble the result dictionary (NaN -> null)."""
    protocols = [p for p in ((sts or {}).get("protocol"), (transfer or {}).get("protocol"),
                             (align or {}).get("protocol"), (triplets or {}).get("protocol")) if p]
    result: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "model": model,
        "pooler": pooler,
        "mode": mode,
        "protocol": " | ".join(protocols),
        "tasks": (sts or {}).get("tasks", {}),
        "avg": (sts or {}).get("avg"),
    }
    if transfer is not None:
        result["transfer"] = transfer
    if align is not None:
        result["align"] = align
    if triplets is not None:
        result["triplets"] = {"protocol": triplets.get("protocol"), "tasks": triplets["tasks"]}
    result["published"] = published or []
    info = {"sncse_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    if sts is not None:
        info.update(sentences=sts.get("sentences"), encode_seconds=sts.get("encode_seconds"), limit=sts.get("limit"))
    info.update(meta or {})
    result["meta"] = info
    return _clean(result)


def result_file_mode(plan: TaskPlan, mode: str, pairs: bool = False) -> str:
    """Which ``RUN/eval_<mode>.json`` (:func:`sncse.rundir.files.eval_result_path`) an ``sncse eval RUN`` of
    ``plan`` (:func:`sncse.data.tasks.requested_tasks`) goes to, known before it runs: ``mode`` when it asks
    for a built-in STS task, transfer or alignment; else ``pairs`` when a user's pair files are scored,
    ``triplets`` when only triplet sets are, so that such a result never replaces the run's STS result."""
    if plan.sts or plan.transfer or plan.align:
        return mode
    return PAIRS_MODE if pairs else TRIPLETS_MODE


def write_result(result: dict[str, Any], path: str | Path) -> Path:
    """Write the result JSON atomically (creating the parent directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, result)
    return path


def mteb_task_result(task: str, row: dict[str, Any], evaluation_time: float | None = None,
                     mteb_version: str | None = None) -> dict[str, Any]:
    """One task in MTEB's result schema (``TaskResult``: scores as fractions, ``main_score`` = cosine Spearman)."""
    if task not in MTEB_NAMES:
        raise ValueError(f"no MTEB name for task {task!r}")

    def frac(v: Any) -> float | None:
        return None if v is None else round(float(v) / 100.0, 6)

    split = "test" if row.get("split", "test") == "test" else "validation"
    scores = {
        "cosine_pearson": frac(row.get("pearson")),
        "cosine_spearman": frac(row.get("spearman")),
        "pearson": frac(row.get("pearson")),
        "spearman": frac(row.get("spearman")),
        "main_score": frac(row.get("spearman")),
        "hf_subset": "default",
        "languages": ["eng-Latn"],
    }
    return {
        "dataset_revision": "senteval-downstream (sncse local files)",
        "task_name": MTEB_NAMES[task],
        "mteb_version": mteb_version or "n/a (written by sncse)",
        "scores": {split: [scores]},
        "evaluation_time": evaluation_time,
        "kg_co2_emissions": None,
        "sncse_protocol_note": MTEB_NOTE,
        "sncse_pairs": row.get("pairs"),
    }


def mteb_files(out_dir: str | Path) -> list[Path]:
    """Every file :func:`write_mteb` may write under ``out_dir``."""
    out = Path(out_dir)
    return [out / f"{name}.json" for name in MTEB_NAMES.values()] + [out / MTEB_META_FILE]


def write_mteb(result: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write ``<out_dir>/<MTEB task name>.json`` per STS task, plus ``model_meta.json`` and a protocol note."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seconds = (result.get("meta") or {}).get("encode_seconds")
    paths = []
    for task, row in result.get("tasks", {}).items():
        if task not in MTEB_NAMES:  # a user's own pair file has no MTEB task
            continue
        path = out / f"{MTEB_NAMES[task]}.json"
        write_json(path, mteb_task_result(task, row, evaluation_time=seconds))
        paths.append(path)
    meta_path = out / MTEB_META_FILE
    write_json(meta_path, {"name": result.get("model"), "revision": None, "framework": ["sncse"],
                           "pooler": result.get("pooler"), "sncse_protocol_note": MTEB_NOTE})
    paths.append(meta_path)
    return paths
