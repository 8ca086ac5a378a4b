"""The evaluation tasks: names, display names, sizes, subsets, and the one parser of task lists.

Every other module (loaders, evaluators, result files, model cards, the CLI tables, the results page)
imports these facts from here, so a task added or renamed here is added or renamed everywhere.

Pair counts are those of the SNCSE paper's Table 1 (Wang et al., 2022), which match SentEval's
loaders (Conneau & Kiela, 2018) on its preprocessed files; transfer sizes are SentEval's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..config.schema import EvalMode, choices
from ..errors import SncseError

# --------------------------------------------------------------------------------------------- STS
STS_TASKS: tuple[str, ...] = ("sts12", "sts13", "sts14", "sts15", "sts16", "stsb", "sickr")
# Tasks with a dev split: STS-B dev (sts-dev.csv) and SICK-R trial (SICK_trial.txt), the model-selection sets.
DEV_TASKS: tuple[str, ...] = ("stsb", "sickr")

# Column headers of the papers' tables.
STS_NAMES: dict[str, str] = {"sts12": "STS12", "sts13": "STS13", "sts14": "STS14", "sts15": "STS15",
                             "sts16": "STS16", "stsb": "STS-B", "sickr": "SICK-R"}
# MTEB's task names (``TaskResult.task_name``).
MTEB_NAMES: dict[str, str] = {**STS_NAMES, "stsb": "STSBenchmark"}

EXPECTED_PAIRS: dict[str | tuple[str, str], int] = {
    "sts12": 3108, "sts13": 1500, "sts14": 3750, "sts15": 3000, "sts16": 1186,
    ("stsb", "test"): 1379, ("stsb", "dev"): 1500, ("sickr", "test"): 4927, ("sickr", "dev"): 500,
    ("stsb", "train"): 5749, ("sickr", "train"): 4500,  # SentEval's sizes (the papers do not train on them)
}

# SentEval's subset lists and order (senteval/sts.py). STS13's SMT subset is licensed and not used.
STS_SUBSETS: dict[str, tuple[str, ...]] = {
    "sts12": ("MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"),
    "sts13": ("FNWN", "headlines", "OnWN"),
    "sts14": ("deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"),
    "sts15": ("answers-forums", "answers-students", "belief", "headlines", "images"),
    "sts16": ("answer-answer", "headlines", "plagiarism", "postediting", "question-question"),
}


def split_for(task: str, mode: str) -> str:
    """The split an STS task is scored on in ``mode``: dev for STS-B and SICK-R in dev mode, else test."""
    return "dev" if mode == "dev" and task in DEV_TASKS else "test"


def expected_pairs(task: str, split: str = "test") -> int | None:
    """The pair count of ``task``/``split`` (None for a split the task does not have)."""
    return EXPECTED_PAIRS.get((task, split), EXPECTED_PAIRS.get(task) if split == "test" else None)


# All test pairs of the 7 tasks (18,850): the size of a full STS evaluation.
STS_TEST_PAIRS: int = sum(expected_pairs(t) or 0 for t in STS_TASKS)

# ---------------------------------------------------------------------------------------- transfer
TRANSFER_TASKS: tuple[str, ...] = ("mr", "cr", "subj", "mpqa", "sst2", "trec", "mrpc")
TRANSFER_NAMES: dict[str, str] = {"mr": "MR", "cr": "CR", "subj": "SUBJ", "mpqa": "MPQA", "sst2": "SST-2",
                                  "trec": "TREC", "mrpc": "MRPC"}
EXPECTED_TRANSFER: dict[str, int] = {"mr": 10662, "cr": 3775, "subj": 10000, "mpqa": 10606,
                                     "sst2": 67349 + 872 + 1821, "trec": 5452 + 500, "mrpc": 4076 + 1725}

# ---------------------------------------------------------------------------------------- triplets
# Triplet tasks: (anchor, positive, negative) rows scored by accuracy (cos(a, p) > cos(a, n)), never part
# of the STS average. ``negation``: built from SICK's human entailment labels (sncse.data.triplets);
# ``cannot``: the CANNOT negation dataset, after ``sncse data download --dataset cannot``.
TRIPLET_TASKS: tuple[str, ...] = ("negation", "cannot")
TRIPLET_NAMES: dict[str, str] = {"negation": "Negation (SICK)", "cannot": "CANNOT"}
# Rows of each triplet task (None: not fixed here; CANNOT's count follows from its published file).
EXPECTED_TRIPLETS: dict[str, int | None] = {"negation": 645, "cannot": None}
# The triplet tasks ``all`` includes (CANNOT is an optional download).
DEFAULT_TRIPLETS: tuple[str, ...] = ("negation",)

DISPLAY_NAMES: dict[str, str] = {**STS_NAMES, **TRANSFER_NAMES, **TRIPLET_NAMES}


def display_name(task: str) -> str:
    """``sickr`` -> ``SICK-R``; an unknown name is returned unchanged."""
    return DISPLAY_NAMES.get(task, task)


# ------------------------------------------------------------------------------------- task lists
# Other spellings users type; the key is lower-cased.
ALIASES: dict[str, str] = {"sts-b": "stsb", "stsbenchmark": "stsb", "sick-r": "sickr", "sick": "sickr",
                           "sickrelatedness": "sickr", "sst": "sst2", "sst-2": "sst2",
                           "alignment": "align", "uniformity": "align"}
GROUPS: tuple[str, ...] = ("sts", "transfer", "align", "all")
MODES: tuple[str, ...] = choices(EvalMode)  # test | dev (the schema's eval.mode)


@dataclass
class TaskPlan:
    """What a task list asks for: STS tasks, transfer tasks, triplet tasks, and whether to measure
    alignment/uniformity."""

    sts: list[str] = field(default_factory=list)
    transfer: list[str] = field(default_factory=list)
    align: bool = False
    triplets: list[str] = field(default_factory=list)


def canonical(name: str) -> str:
    """A task or group name as the code spells it (``STS-B`` -> ``stsb``, ``SST-2`` -> ``sst2``)."""
    key = name.strip().lower()
    return ALIASES.get(key, key)


def _items(spec: str | Sequence[str]) -> list[str]:
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    return [canonical(p) for p in parts if p.strip()]


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise SncseError(f"mode must be test or dev, got {mode!r}", setting="mode")


def parse_tasks(spec: str | Sequence[str] | None, mode: str = "test") -> TaskPlan:
    """Parse a task list: groups (``sts``, ``transfer``, ``align``, ``all``) and task names, any case or alias.

    ``sts`` is the 7 STS tasks in test mode and STS-B dev + SICK-R trial in dev mode; ``all`` adds the
    transfer tasks, alignment and, in test mode, the :data:`DEFAULT_TRIPLETS`. Duplicates are dropped,
    first occurrence kept. An empty list, an unknown name, or in dev mode an STS task without a dev split
    or a triplet task (evaluation sets only: never for model selection) raises
    :class:`~sncse.errors.SncseError` listing what is known.
    """
    _check_mode(mode)
    items = _items("sts" if spec is None else spec)
    if not items:
        raise SncseError("the task list is empty", setting="tasks")
    sts_all = list(STS_TASKS if mode == "test" else DEV_TASKS)
    plan = TaskPlan()
    for item in items:
        if item in ("sts", "all"):
            plan.sts += sts_all
        if item in ("transfer", "all"):
            plan.transfer += list(TRANSFER_TASKS)
        if item in ("align", "all"):
            plan.align = True
        if item == "all" and mode == "test":
            plan.triplets += list(DEFAULT_TRIPLETS)
        if item in GROUPS:
            continue
        if item in STS_TASKS:
            if mode == "dev" and item not in DEV_TASKS:
                raise SncseError(f"mode dev covers stsb (dev) and sickr (trial) only; {item} has no dev split",
                                 setting="mode")
            plan.sts.append(item)
        elif item in TRANSFER_TASKS:
            plan.transfer.append(item)
        elif item in TRIPLET_TASKS:
            if mode == "dev":
                raise SncseError(f"{item} is an evaluation set with no dev split; it is never used to select "
                                 "models (evaluate it in test mode)", setting="mode")
            plan.triplets.append(item)
        else:
            known = ", ".join([*GROUPS, *STS_TASKS, *TRANSFER_TASKS, *TRIPLET_TASKS])
            raise SncseError(f"unknown task {item!r}; known: {known}", setting="tasks")
    plan.sts = list(dict.fromkeys(plan.sts))
    plan.transfer = list(dict.fromkeys(plan.transfer))
    plan.triplets = list(dict.fromkeys(plan.triplets))
    return plan



def requested_tasks(spec: str | Sequence[str] | None, mode: str = "test", own_files: bool = False) -> TaskPlan:
    """What an evaluation was asked for: :func:`parse_tasks` of ``spec``, except that with ``own_files``
    (a user's pair or triplet files) and no ``spec`` it is those files alone (an empty plan)."""
    return TaskPlan() if own_files and spec is None else parse_tasks(spec, mode)

def sts_tasks(spec: str | Sequence[str] | None, mode: str = "test") -> list[str]:
    """STS task names only: ``None``, ``sts`` or ``all`` -> every STS task of ``mode``; else a list of names."""
    _check_mode(mode)
    if spec is None or spec in ("sts", "all"):
        return list(STS_TASKS if mode == "test" else DEV_TASKS)
    unknown = [n for n in _items(spec) if n not in STS_TASKS]
    if unknown:
        raise SncseError(f"unknown STS task(s) {', '.join(unknown)}; known: {', '.join(STS_TASKS)}",
                         setting="tasks")
    return parse_tasks(spec, mode).sts


def transfer_tasks(spec: str | Sequence[str] | None) -> list[str]:
    """Transfer task names only: ``None``, ``transfer`` or ``all`` -> all 7; else a list of names."""
    if spec is None or spec in ("transfer", "all"):
        return list(TRANSFER_TASKS)
    unknown = [n for n in _items(spec) if n not in TRANSFER_TASKS]
    if unknown:
        raise SncseError(f"unknown transfer task(s) {', '.join(unknown)}; known: {', '.join(TRANSFER_TASKS)}",
                         setting="tasks")
    return parse_tasks(spec).transfer
