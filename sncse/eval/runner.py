"""One entry point for ``sncse eval``: load a model, run the requested task groups, assemble the JSON.

Task specification (comma-separated, case-insensitive; parsed by :func:`sncse.data.tasks.parse_tasks`):
``sts`` (the 7 STS tasks; in dev mode STS-B dev + SICK-R trial), ``transfer`` (the 7 SentEval transfer
tasks), ``align`` (alignment/uniformity on STS-B), ``all`` (all three and the ``negation`` triplets), or
single task names (``sts12``..``sts16``, ``stsb``, ``sickr``, ``mr``, ``cr``, ``subj``, ``mpqa``, ``sst2``,
``trec``, ``mrpc``, and the triplet tasks ``negation`` and ``cannot``). A user's own scored pair files
(``pairs``) are scored as STS tasks named after each file's stem, triplet files (``triplets``) as triplet
sets named the same way; with files and no ``tasks``, only those files are evaluated.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from ..config.schema import AmpMode
from ..data.tasks import TaskPlan, requested_tasks
from ..errors import SncseError
from ..outputs import PathPlan
from .published import PUBLISHED_STS, PUBLISHED_TRANSFER, as_dict
from .results import build_result

log = logging.getLogger(__name__)


def check_data(plan: TaskPlan, mode: str = "test", root: str | Path | None = None) -> None:
    """Fail early, before loading a model, with every missing file of the plan listed."""
    from ..data.check import triplet_files
    from ..data.root import SAMPLE_STS, resolve_data_root
    from ..data.senteval import HOW_TO_GET, describe_missing, how_to_get, sts_files, transfer_files
    from ..data.tasks import split_for
    from ..data.triplets import require_cannot

    if "cannot" in plan.triplets:
        require_cannot(root)
    if resolve_data_root(root).is_sample:
        lacking = [t for t in plan.sts if split_for(t, mode) not in SAMPLE_STS.get(t, ())] + plan.transfer
        if plan.align:
            lacking.append("align (needs STS-B train)")
        if lacking:
            raise SncseError(f"the embedded sample data has no {', '.join(lacking)}: it holds only STS-B "
                             f"dev/test (evaluate with tasks=stsb); for the full sets {HOW_TO_GET}",
                             setting="data_root")

    files: list[Path] = []
    for t in plan.sts:
        files += sts_files(t, split_for(t, mode), root=root)
    for t in plan.transfer:
        files += transfer_files(t, root=root)
    if plan.align:
        for split in ("train", "dev", "test"):
            files += sts_files("stsb", split, root=root)
    for t in plan.triplets:
        files += triplet_files(t, root)
    missing = [p for p in dict.fromkeys(files) if not p.is_file()]
    if missing:
        raise SncseError(f"evaluation data missing: {describe_missing(missing, root)}; {how_to_get(root)} "
                         "(`sncse data check` lists everything)", setting="data_root")


def model_kind(path: str) -> str:
    """run | sncse | onnx | sentence-transformers | registered | hf (see ``sncse.encoders.resolve``)."""
    from ..encoders.resolve import resolve_model_path

    return resolve_model_path(path).kind


def run_eval(
    model: Any,
    tasks: str | None = "sts",
    mode: str = "test",
    pooler: str | None = None,
    batch_size: int = 128,
    device: str = "auto",
    root: str | Path | None = None,
    limit: int | None = None,
    kfold: int = 10,
    show_progress: bool = True,
    model_name: str | None = None,
    pairs: list[str | Path] | None = None,
    columns: str | list[str] | None = None,
    skip_bad_rows: bool = False,
    pair_scores: str | Path | None = None,
    amp: AmpMode = "off",
    paths: PathPlan | None = None,
    triplets: list[str | Path] | None = None,
) -> dict[str, Any]:
    """Evaluate ``model`` (a path/name for ``sncse.load``, ONNX exports included, or a loaded encoder) -> result dict.

    ``pairs``: scored pair files (``sncse.data.pairs.load_pairs`` with ``columns``/``skip_bad_rows``),
    each reported as task ``<file stem>``; ``triplets``: triplet files (``sncse.data.triplets.read_triplets``,
    the same ``columns``/``skip_bad_rows``), each reported under ``triplets`` as ``<file stem>``.
    ``pair_scores``: also write every STS pair's cosine and gold score, and every triplet row's two
    cosines, there (:mod:`sncse.eval.pair_scores`, what ``sncse analyze --compare`` tests on). ``amp``: the
    precision of the encoder's forward (:mod:`sncse.encoders.amp`): ``off`` (fp32, as the papers' numbers) by
    default; ``meta.precision`` of the result records what ran. ``paths``: the caller's plan of paths
    (its own outputs), checked with the evaluation's before any work.
    """
    from .alignment import evaluate_alignment
    from .pairs import evaluate_pairs, merge_into_sts
    from .sts import encoder_embedder, evaluate_sts
    from .transfer import evaluate_transfer
    from .triplets import evaluate_triplets

    plan = requested_tasks(tasks, mode, own_files=bool(pairs or triplets))
    _check_request(plan, pair_scores, columns, pairs, triplets)
    check_data(plan, mode, root)
    own, triplet_sets = _read_own_files(plan, model, pairs, triplets, columns, skip_bad_rows, pair_scores, paths,
                                        root, limit)
    start = time.perf_counter()
    encoder, model_name = _load_encoder(model, model_name, pooler, device)
    # what the encoder computes in, known before any work (fp16 on a CPU fails here); None if it cannot say
    precision = encoder.precision(amp) if callable(getattr(encoder, "precision", None)) else None
    embed = encoder_embedder(encoder, batch_size=batch_size, show_progress=show_progress, amp=amp)
    sts = (evaluate_sts(embed, plan.sts, mode=mode, root=root, limit=limit, keep_pairs=pair_scores is not None)
           if plan.sts else None)
    trip = evaluate_triplets(embed, triplet_sets, keep_rows=pair_scores is not None) if triplet_sets else None
    written = (_write_pair_scores(pair_scores, sts, trip, model_name, getattr(encoder, "pooler_name", pooler), mode,
                                  limit) if pair_scores is not None else None)
    if own:
        sts = merge_into_sts(sts, evaluate_pairs(embed, own))
    transfer = (evaluate_transfer(embed, plan.transfer, root=root, kfold=kfold if mode == "test" else min(kfold, 5),
                                  limit=limit) if plan.transfer else None)
    align = evaluate_alignment(embed, root=root, limit=limit) if plan.align else None
    device_str = str(getattr(encoder, "device", "cpu"))
    return build_result(
        model_name, getattr(encoder, "pooler_name", pooler), mode, sts=sts, transfer=transfer, align=align,
        published=_published_rows(plan, mode), triplets=trip,
        meta={"seconds": round(time.perf_counter() - start, 2), "device": device_str, "precision": precision,
              "batch_size": batch_size,
              "tasks_spec": tasks, **({"pairs": [str(p) for p in pairs]} if pairs else {}),
              **({"triplet_files": [str(p) for p in triplets]} if triplets else {}),
              **({"pair_scores": written} if written else {})},
    )


def _check_request(plan: TaskPlan, pair_scores: str | Path | None, columns: str | list[str] | None,
                   pairs: list[str | Path] | None, triplets: list[str | Path] | None) -> None:
    """Settings that contradict each other or the tasks requested."""
    if pair_scores is not None and not plan.sts and not plan.triplets and not triplets:
        raise SncseError("per-pair scores are kept for STS and triplet tasks only; the tasks requested hold none",
                         setting="tasks")
    if columns is not None and pairs and triplets:
        raise SncseError("the columns setting names the columns of one kind of file; score pair files and "
                         "triplet files in separate runs", setting="columns")


def _read_own_files(plan: TaskPlan, model: Any, pairs: list[str | Path] | None, triplets: list[str | Path] | None,
                    columns: str | list[str] | None, skip_bad_rows: bool, pair_scores: str | Path | None,
                    paths: PathPlan | None, root: str | Path | None, limit: int | None) -> tuple[list[Any], list[Any]]:
    """Check every path the evaluation reads and writes, then read the user's pair files and every
    triplet set (the requested triplet tasks, then the user's files): (pairs tasks, triplet sets)."""
    from ..data.triplets import triplet_task
    from ..encoders.resolve import read_model
    from .pairs import load_pair_files
    from .triplets import load_triplet_files

    files = read_model(paths or PathPlan(), model).write(pair_scores, "the per-pair scores")
    for p in pairs or []:
        files.read(p, "a pairs file")
    for p in triplets or []:
        files.read(p, "a triplets file")
    files.check()
    own = load_pair_files(pairs or [], columns, skip_bad_rows, reserved=plan.sts, limit=limit)
    own_triplets = [t.head(limit) for t in load_triplet_files(triplets or [], columns, skip_bad_rows,
                                                              reserved=plan.triplets)]
    return own, [triplet_task(t, root).head(limit) for t in plan.triplets] + own_triplets


def _load_encoder(model: Any, model_name: str | None, pooler: str | None, device: str) -> tuple[Any, str]:
    """(the encoder, the name the result gives it): ``model`` loaded by ``sncse.load``, or as given."""
    from ..encoders.loading import load

    if isinstance(model, str | Path):
        return load(str(model), pooler=pooler, device=device), model_name or str(model)
    return model, model_name or getattr(model, "base_encoder", None) or type(model).__name__


def _write_pair_scores(path: str | Path, sts: dict[str, Any] | None, trip: dict[str, Any] | None, model_name: str,
                       pooler: str | None, mode: str, limit: int | None) -> str:
    """Move the per-pair and per-row cosines out of the task results into their own file; its path."""
    from .pair_scores import PairScores, write_pair_scores

    kept = PairScores.from_sts(sts, model=model_name, pooler=pooler, triplets=trip)
    kept.mode, kept.limit = mode, limit
    for r in (sts or {}).get("tasks", {}).values():
        del r["pair_scores"]
    for r in (trip or {}).get("tasks", {}).values():
        del r["row_scores"]
    return str(write_pair_scores(path, kept))


def _published_rows(plan: TaskPlan, mode: str) -> list[dict[str, Any]]:
    """The papers' rows to print beside the result: test mode only, for the task groups evaluated."""
    published = [dict(as_dict(r), group="sts") for r in PUBLISHED_STS] if plan.sts and mode == "test" else []
    if plan.transfer and mode == "test":
        published += [dict(as_dict(r), group="transfer") for r in PUBLISHED_TRANSFER]
    return published
