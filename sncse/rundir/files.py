"""The names of what a run directory holds (the layout is in :mod:`sncse.rundir`)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

CONFIG_FILE = "config.yaml"
RUN_INFO_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
RESULTS_FILE = "results.json"
TENSORBOARD_DIR = "tensorboard"
BEST = "best"
LAST = "last"
#: the checkpoints, in the order a model is looked for in a run directory
CHECKPOINTS = (BEST, LAST)


def checkpoint_temp(name: str) -> str:
    """The name a checkpoint is written under before it is renamed into place (``.last.tmp``)."""
    return f".{name}.tmp"


def checkpoint_old(name: str) -> str:
    """The name the previous checkpoint is kept under while the new one is renamed into place (``.last.old``)."""
    return f".{name}.old"


#: the ``mode`` of a run's result file that holds triplet sets alone (``RUN/eval_triplets.json``)
TRIPLETS_MODE = "triplets"
#: the ``mode`` of a run's result file that holds a user's pair files (``RUN/eval_pairs.json``)
PAIRS_MODE = "pairs"


def eval_result_path(run_dir: str | Path, mode: str = "test") -> Path:
    """Where a run's evaluation is kept: ``RUN/eval_<mode>.json`` (``eval_test.json``, ``eval_dev.json``)."""
    return Path(run_dir) / f"eval_{mode}.json"


#: how the name of a file of per-pair scores ends (``eval_test.pair_scores.json.gz``)
PAIR_SCORES_SUFFIX = ".pair_scores.json.gz"


def pair_scores_path(run_dir: str | Path, mode: str = "test") -> Path:
    """Where a run's per-pair scores are kept, beside its result: ``RUN/eval_<mode>.pair_scores.json.gz``
    (``sncse.eval.pair_scores``)."""
    return Path(run_dir) / f"eval_{mode}{PAIR_SCORES_SUFFIX}"


def overlap_result_path(run_dir: str | Path, mode: str = "test") -> Path:
    """Where a run's STS-by-word-overlap breakdown is kept (``sncse analyze RUN --overlap --json ...``):
    ``RUN/eval_<mode>.overlap.json``."""
    return Path(run_dir) / f"eval_{mode}.overlap.json"


#: glob patterns of every file ``sncse eval`` keeps in a run directory (any mode; ``eval_pairs.json``,
#: ``eval_triplets.json`` and ``eval_test.overlap.json`` included), from the name builders above
RUN_EVAL_PATTERNS = (eval_result_path(".", "*").name, pair_scores_path(".", "*").name)

#: what training writes in a run directory (checkpoints under their temporary names included)
RUN_FILES = (CONFIG_FILE, RUN_INFO_FILE, METRICS_FILE, RESULTS_FILE, *CHECKPOINTS, TENSORBOARD_DIR,
             *(checkpoint_temp(c) for c in CHECKPOINTS), *(checkpoint_old(c) for c in CHECKPOINTS))


def is_run_file(name: str) -> bool:
    """Whether ``name`` in a run directory is something training or ``sncse eval`` wrote there (what
    ``sncse eval RUN`` adds describes the old model, so ``overwrite`` removes it with the rest)."""
    return name in RUN_FILES or any(fnmatch.fnmatchcase(name, pat) for pat in RUN_EVAL_PATTERNS)
