"""``sncse analyze``: SNCSE's error analysis (Section 5), soft-negative similarity (Figure 4) and
hyperparameter sweeps (Figure 3)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .common import (
    BatchSizeOpt,
    DeviceOpt,
    JsonOpt,
    PoolerOpt,
    at_least,
    console,
    handle_errors,
    out,
    path_plan,
    state,
    write_json_output,
    write_text,
)

if TYPE_CHECKING:
    from sncse.outputs import PathPlan

EPILOG = ("Example: sncse analyze runs/sncse --top 5 sickr   |   "
          "sncse analyze runs/simcse runs/sncse --overlap   |   "
          "sncse analyze runs/simcse runs/sncse --negation --n 5000   |   "
          "sncse analyze runs/simcse runs/sncse --negation --pairs sents.negations.jsonl   |   "
          "sncse analyze --sweep runs/*   |   "
          "sncse analyze --compare 'runs/bml-s*' --against 'runs/infonce-s*'")


def _csv_text(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _out_dir(out_dir: str) -> Path:
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class _Request:
    """The command line of one ``sncse analyze``: what each mode reads its settings from."""

    targets: list[str]
    top: int | None
    negation: bool
    sweep: bool
    overlap: bool
    compare: str | None
    against: str | None
    resamples: int
    confidence: float
    split: str
    n: int | None
    pairs: str | None
    tasks: str | None
    columns: str | None
    skip_bad_rows: bool
    negator: str | None
    negation_mode: str | None
    seed: int
    pooler: str | None
    json_file: str | None
    csv_file: str | None
    out_dir: str | None
    batch_size: int
    device: str


# ------------------------------------------------------------------------------------------- --top
_TOP_HEADER = ["rank", "index", "sentence1", "sentence2", "gold", "cosine", "rank_gold", "rank_est", "error",
               "direction", "tags"]


def _run_top(req: _Request, plan: PathPlan) -> None:
    from sncse import load
    from sncse.analyze.ranks import analyze_task
    from sncse.data.tasks import sts_tasks
    from sncse.encoders.resolve import read_model
    from sncse.errors import SncseError

    if len(req.targets) != 2:
        raise SncseError(f"--top K takes one MODEL and one TASK (e.g. `sncse analyze runs/x --top 5 sickr`), "
                         f"got {len(req.targets)} argument(s)")
    model_path, task = req.targets
    (task,) = sts_tasks([task], mode="dev" if req.split == "dev" else "test")
    if req.out_dir:
        plan.write(Path(req.out_dir) / _errors_csv(task, req.split), "the error table")
    read_model(plan, model_path).check()
    model = load(model_path, pooler=req.pooler, device=req.device)
    result = analyze_task(model, task, k=req.top, split=req.split, batch_size=req.batch_size)
    if req.json_file != "-":
        for table in _top_tables(result, task, req.split):
            out.print(table)
        eq11 = "" if not result.ties else f" (Eq. 11 from the errors: {result.spearman_eq11:.2f}; ties present)"
        out.print(f"Spearman x100: {result.spearman:.2f}{eq11}", highlight=False)
    write_json_output(req.json_file, result.to_dict())
    if req.csv_file:
        write_text(req.csv_file, _csv_text(_TOP_HEADER, _top_rows(result.top)))
    if req.out_dir:
        d = _out_dir(req.out_dir)
        by_error = sorted(result.pairs, key=lambda p: (-p.error, p.index))
        write_text(str(d / _errors_csv(task, req.split)), _csv_text(_TOP_HEADER, _top_rows(by_error)))
        console.print(f"wrote {d / _errors_csv(task, req.split)} (all {len(by_error)} pairs)", highlight=False)


def _top_tables(result: Any, task: str, split: str) -> list[Any]:
    """The pairs with the largest rank errors, and how often each heuristic tag occurs."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{task} ({split}): the {len(result.top)} pairs with the largest rank error "
                  f"(R_E - R_G)^2 of {len(result.pairs)}", show_lines=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("sentence 1 / sentence 2", ratio=1, min_width=24)
    for col in ("gold", "cosine", "R_G", "R_E", "error"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("tags")
    for i, p in enumerate(result.top, start=1):
        arrow = {"over": " ↑", "under": " ↓"}.get(p.direction, "")
        table.add_row(str(i), f"{escape(p.sentence1)}\n[dim]{escape(p.sentence2)}[/]", f"{p.gold:.2f}", f"{p.cosine:.3f}",
                      f"{p.rank_gold:g}", f"{p.rank_est:g}{arrow}", f"{p.error:.0f}", "\n".join(p.tags))
    counts = result.tag_counts()
    tags = Table(title="heuristic tags (see docs/analyze.md)")
    tags.add_column("tag")
    tags.add_column(f"top {len(result.top)}", justify="right")
    tags.add_column(f"all {len(result.pairs)}", justify="right")
    for tag, c in counts.items():
        share = 100 * c["all"] / max(1, len(result.pairs))
        tags.add_row(tag, str(c["top"]), f"{c['all']} ({share:.1f}%)")
    return [table, tags]


def _top_rows(pairs: list[Any]) -> list[list[Any]]:
    """CSV rows of ranked pairs, ranks counted from 1."""
    return [[i, p.index, p.sentence1, p.sentence2, p.gold, p.cosine, p.rank_gold, p.rank_est, p.error,
             p.direction, ";".join(p.tags)] for i, p in enumerate(pairs, start=1)]


def _errors_csv(task: str, split: str) -> str:
    return f"errors_{task}_{split}.csv"


# ------------------------------------------------------------------------------------------- --negation
def _run_negation(req: _Request, plan: PathPlan) -> None:
    from rich.markup import escape
    from rich.table import Table

    from sncse.analyze.negation_sim import negation_similarity, sample_sentences
    from sncse.encoders.resolve import read_model
    from sncse.errors import SncseError

    targets, n, pairs_file, negator, mode, seed = (req.targets, req.n, req.pairs, req.negator, req.negation_mode,
                                                   req.seed)
    out_dir = req.out_dir or "."
    if not targets:
        raise SncseError("--negation needs at least one MODEL")
    figure = Path(out_dir) / "negation_similarity.png"
    for target in targets:
        read_model(plan, target)
    plan.read(pairs_file, "the --pairs file").write(figure, "the figure").check()
    if pairs_file is not None:
        given = [flag for flag, v in (("--n", n), ("--negator", negator), ("--negation-mode", mode)) if v is not None]
        if given:
            raise SncseError(f"--pairs brings its own sentences and negations; drop {', '.join(given)}")
        inputs: Any = pairs_file
        console.print(f"reading sentences and negations from {pairs_file}", highlight=False)
    else:
        negator, mode = negator or "spacy", mode or "faithful"
        inputs = sample_sentences(5000 if n is None else n, seed=seed)
        console.print(f"negating {len(inputs)} STS sentences with the {negator} negator ({mode})", highlight=False)
    result = negation_similarity(targets, inputs, negator=negator or "spacy", mode=mode or "faithful", seed=seed,
                                 pooler=req.pooler, device=req.device, batch_size=req.batch_size,
                                 figure=figure)
    pairs = result.pairs

    table = Table(title=f"cosine similarity: sentence vs its negation (soft negative) and vs a random "
                  f"sentence (negative), {len(pairs.sentences)} pairs")
    for col in ("model", "soft neg. mean", "soft neg. peak", "negative mean", "negative peak", "gap (means)"):
        table.add_column(col, justify="left" if col == "model" else "right")
    rows = result.rows()
    for r in rows:
        table.add_row(escape(r["model"]), f"{r['soft_negative_mean']:.3f}", f"{r['soft_negative_peak']:.3f}",
                      f"{r['negative_mean']:.3f}", f"{r['negative_peak']:.3f}",
                      f"{r['soft_negative_mean'] - r['negative_mean']:+.3f}")
    if req.json_file != "-":
        out.print(table)
        dropped = pairs.dropped_skipped + pairs.dropped_unchanged
        if dropped:
            console.print(f"{dropped} of {pairs.requested} sentences dropped (negator skipped "
                          f"{pairs.dropped_skipped}, left {pairs.dropped_unchanged} unchanged)", highlight=False)
        console.print(f"wrote {result.png}", highlight=False)
    write_json_output(req.json_file, result.to_dict())
    if req.csv_file:
        write_text(req.csv_file, _csv_text(list(rows[0]), [list(r.values()) for r in rows]))


# ------------------------------------------------------------------------------------------- --sweep
def _run_sweep(req: _Request, plan: PathPlan) -> None:
    from rich.markup import escape
    from rich.table import Table

    from sncse.analyze.sweep import collect, fmt_value, plot_sweep

    targets, json_file, csv_file, out_dir = req.targets, req.json_file, req.csv_file, req.out_dir or "."
    for target in targets:
        plan.read(target, "a run", folder=Path(target).is_dir())
    plan.write(Path(out_dir) / "sweep.png", "the figure").check()
    rows = collect(targets)
    png = plot_sweep(rows, _out_dir(out_dir) / "sweep.png")
    table = Table(title=f"{len(rows)} run(s): STS-B dev (best) and STS test average")
    for col in ("run", "loss", "alpha", "beta", "lambda", "dev", "test avg", "steps"):
        table.add_column(col, justify="left" if col in ("run", "loss") else "right")
    for r in sorted(rows, key=lambda r: -(r.dev if r.dev is not None else float("-inf"))):
        test = fmt_value(round(r.test, 2) if r.test is not None else None)
        if r.test is not None:
            test += f" ({r.test_tasks})"
        table.add_row(escape(r.run), str(r.loss or "-"), fmt_value(r.alpha), fmt_value(r.beta), fmt_value(r.lam),
                      fmt_value(round(r.dev, 2) if r.dev is not None else None), test,
                      "-" if r.steps is None else str(r.steps))
    if json_file != "-":
        out.print(table)
        console.print(f"wrote {png}", highlight=False)
    write_json_output(json_file, {"runs": [r.to_dict() for r in rows], "png": str(png)})
    if csv_file:
        write_text(csv_file, _csv_text(["run", "path", "loss", "alpha", "beta", "lambda", "dev_stsb", "test_avg",
                                         "test_tasks", "steps"],
                                        [list(r.to_dict().values()) for r in rows]))


# ------------------------------------------------------------------------------------------- --compare
def _expand(spec: str, option: str) -> list[str]:
    """A comma list of run folders / per-pair score files; items with * ? [ are glob patterns."""
    import glob

    from sncse.errors import SncseError

    out: list[str] = []
    for item in (x.strip() for x in spec.split(",")):
        if not item:
            continue
        if any(c in item for c in "*?["):
            found = sorted(glob.glob(item))
            if not found:
                raise SncseError(f"{option} {item!r} matches nothing")
            out += found
        else:
            out.append(item)
    if not out:
        raise SncseError(f"{option} names no run")
    return out


def _run_compare(req: _Request, plan: PathPlan) -> None:
    from rich.markup import escape
    from rich.table import Table

    from sncse.data.tasks import display_name, sts_tasks
    from sncse.errors import SncseError
    from sncse.eval.compare import compare_folders
    from sncse.rundir.files import pair_scores_path

    targets, a_spec, b_spec, overlap, tasks = req.targets, req.compare, req.against, req.overlap, req.tasks
    assert a_spec is not None  # the mode's own option
    if b_spec is None:
        raise SncseError("--compare needs --against: the runs of the system to compare with")
    if targets:
        raise SncseError(f"--compare and --against take comma lists or quoted glob patterns; got {len(targets)} "
                         f"extra argument(s) ({targets[0]}, ...): an unquoted pattern expands into several")
    a, b = _expand(a_spec, "--compare"), _expand(b_spec, "--against")
    for run in a + b:
        plan.read(run, "a compared run", folder=Path(run).is_dir())
    plan.check()
    try:
        cmp, triplet_cmps = compare_folders(a, b, tasks=sts_tasks(tasks) if tasks else None, overlap=overlap,
                                            resamples=req.resamples, confidence=req.confidence, seed=req.seed)
    except SncseError as exc:
        if getattr(exc, "setting", None) != "pair_scores":
            raise
        raise SncseError(f"{exc}; write them with `sncse eval RUN --pair-scores {pair_scores_path('RUN')}`") from None
    name_a, name_b = cmp.names
    pct = f"{100 * cmp.confidence:g}% interval"
    what = "the word-overlap bins" if overlap else "the test pairs"
    table = Table(title=f"{escape(name_a)} ({len(a)} run(s)) - {escape(name_b)} ({len(b)} run(s)): paired bootstrap "
                  f"over {what}, {cmp.resamples} resamples, Spearman x100")
    for col in ("task", "pairs", name_a, name_b, "difference", pct, ""):
        table.add_column(escape(col), justify="left" if col == "task" else "right")
    for task in [*cmp.tasks] + ([] if overlap else ["avg"]):
        d = cmp.diff[task]
        label = "Avg." if task == "avg" else " ".join(display_name(x) for x in task.split("@"))
        table.add_row(escape(label), str(sum(cmp.pairs.values()) if task == "avg" else cmp.pairs[task]),
                      f"{cmp.scores['a'][task]:.2f}", f"{cmp.scores['b'][task]:.2f}", f"{d.estimate:+.2f}",
                      f"[{d.low:+.2f}, {d.high:+.2f}]", "established" if d.established else "")
    for t in triplet_cmps:
        for metric, digits in (("accuracy", 2), ("margin", 4)):
            d = t.diff[metric]
            table.add_row(escape(f"{display_name(t.task)} {metric}"), f"{t.rows} rows",
                          f"{t.scores['a'][metric]:.{digits}f}", f"{t.scores['b'][metric]:.{digits}f}",
                          f"{d.estimate:+.{digits}f}", f"[{d.low:+.{digits}f}, {d.high:+.{digits}f}]",
                          "established" if d.established else "")
    result = cmp.to_dict()
    if triplet_cmps:
        result["triplets"] = [t.to_dict() for t in triplet_cmps]
    if req.json_file != "-":
        out.print(table)
        if not overlap:
            out.print(escape(cmp.verdict()) + f" (p = {cmp.p_value:.3g})", highlight=False)
        for t in triplet_cmps:
            out.print(escape(t.verdict()) + f" (p = {t.p_value:.3g})", highlight=False)
    write_json_output(req.json_file, result)


# ------------------------------------------------------------------------------------------- --overlap
def _run_overlap(req: _Request, plan: PathPlan) -> None:
    from rich.markup import escape
    from rich.table import Table

    from sncse.analyze.overlap import analyze_overlap
    from sncse.data.tasks import display_name
    from sncse.encoders.resolve import read_model
    from sncse.errors import SncseError

    targets, tasks, pairs_file, json_file, csv_file = req.targets, req.tasks, req.pairs, req.json_file, req.csv_file
    if not targets:
        raise SncseError("--overlap needs at least one MODEL (or run folder, or per-pair scores file)")
    for target in targets:
        if Path(target).is_file():
            plan.read(target, "a per-pair scores file")
        else:
            read_model(plan, target)
    plan.read(pairs_file, "the --pairs file").check()
    report = analyze_overlap(targets, tasks=tasks.split(",") if tasks else None,
                             pairs=[pairs_file] if pairs_file else [], columns=req.columns,
                             skip_bad_rows=req.skip_bad_rows, pooler=req.pooler, device=req.device,
                             batch_size=req.batch_size, show_progress=not state.quiet)
    result = report.to_dict()
    table = Table(title="Spearman x100 by word overlap (Jaccard of the word sets), pairs in brackets")
    for col in ("model", "task", "all", *result["bins"]):
        table.add_column(col, justify="left" if col in ("model", "task") else "right")

    def cell(spearman: float | None, n: int) -> str:
        return f"{'-' if spearman is None else f'{spearman:.2f}'} ({n})"

    rows = []
    for m in result["models"]:
        for task, r in m["tasks"].items():
            table.add_row(escape(m["model"]), escape(display_name(task)), cell(r["spearman"], r["pairs"]),
                          *[cell(b["spearman"], b["pairs"]) for b in r["bins"]])
            rows.append([m["model"], task, r["spearman"], r["pairs"],
                         *[x for b in r["bins"] for x in (b["spearman"], b["pairs"])]])
    if json_file != "-":
        out.print(table)
        out.print(f"[dim]{result['tokens']}[/]", highlight=False)
    write_json_output(json_file, result)
    if csv_file:
        header = ["model", "task", "spearman", "pairs", *[f"{b}_{x}" for b in result["bins"] for x in ("spearman",
                                                                                                     "pairs")]]
        write_text(csv_file, _csv_text(header, rows))


@handle_errors
def analyze(
    targets: Annotated[list[str] | None, typer.Argument(metavar="[MODEL|RUN_DIR|TASK]...",
                                                        help="--top: MODEL TASK; --negation: MODEL...; "
                                                        "--sweep: RUN_DIR...")] = None,
    top: Annotated[int | None, typer.Option("--top", metavar="K", help="Error analysis: the K pairs with the "
                                            "largest rank error on TASK (SNCSE Table 4: --top 5 sickr).",
                                            callback=at_least(1))] = None,
    negation: Annotated[bool, typer.Option("--negation", help="Soft-negative similarity of one or more models "
                                           "(SNCSE Figure 4).")] = False,
    sweep: Annotated[bool, typer.Option("--sweep", help="Scores of runs against alpha, beta, lambda "
                                        "(SNCSE Figure 3).")] = False,
    overlap: Annotated[bool, typer.Option("--overlap", help="STS Spearman by word overlap of the pairs (fixed "
                                          "Jaccard bins) for one or more models, run folders or per-pair scores "
                                          "files; with --compare, the paired bootstrap within the bins.")] = False,
    compare: Annotated[str | None, typer.Option("--compare", metavar="RUNS", help="Paired bootstrap of the STS "
                                                "test average (and of triplet accuracy where the runs hold "
                                                "triplet scores): these runs (comma list of run folders or "
                                                "per-pair score files, or a quoted glob; e.g. the seeds of one "
                                                "method) against those of --against.")] = None,
    against: Annotated[str | None, typer.Option("--against", metavar="RUNS", help="--compare: the runs of the "
                                                "other system.")] = None,
    resamples: Annotated[int, typer.Option("--resamples", help="--compare: bootstrap resamples.",
                                           callback=at_least(1))] = 1000,
    confidence: Annotated[float, typer.Option("--confidence", help="--compare: level of the interval.")] = 0.95,
    split: Annotated[str, typer.Option("--split", help="--top: test, or dev for stsb/sickr.")] = "test",
    n: Annotated[int | None, typer.Option("--n", help="--negation: sentences sampled from the STS sets "
                                          "[default: 5000].", callback=at_least(1))] = None,
    pairs: Annotated[str | None, typer.Option("--pairs", metavar="FILE", help="--negation: sentences and their "
                                              "negations from a `sncse negate` JSONL file, instead of sampling "
                                              "and negating here (no negator needed). --overlap: a scored "
                                              "pairs file, as `sncse eval --pairs` reads.")] = None,
    tasks: Annotated[str | None, typer.Option("--tasks", help="--overlap, --compare: STS tasks (comma list; "
                                              "default: --overlap all of a scores file or the 7, --compare "
                                              "--overlap stsb,sickr).")] = None,
    columns: Annotated[str | None, typer.Option("--columns", metavar="A,B,SCORE", help="--overlap --pairs: the "
                                                "file's columns, as for `sncse eval --pairs`.")] = None,
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="--overlap --pairs: skip (count and log) "
                                                "bad rows.")] = False,
    negator: Annotated[str | None, typer.Option("--negator", help="--negation: registered negator "
                                                "[default: spacy].")] = None,
    negation_mode: Annotated[str | None, typer.Option("--negation-mode", help="faithful | improved "
                                                      "[default: faithful]")] = None,
    seed: Annotated[int, typer.Option("--seed", help="--negation: seed of the sampling and of the random "
                                      "negatives; --compare: seed of the resampling.")] = 0,
    pooler: PoolerOpt = None,
    json_file: JsonOpt = None,
    csv_file: Annotated[str | None, typer.Option("--csv", metavar="FILE", help="Write the table as CSV.")] = None,
    out_dir: Annotated[str | None, typer.Option("--out", metavar="DIR", help="Folder for PNG and CSV files "
                                                "(default: current folder).")] = None,
    batch_size: BatchSizeOpt = 128,
    device: DeviceOpt = "auto",
) -> None:
    """Analyze models the way SNCSE (Section 5) does: rank errors, soft-negative similarity, sweeps, STS by
    word overlap (--overlap); and whether one system beats another by more than the test sets' chance
    (--compare: the STS average, triplet accuracy, or with --overlap each overlap bin)."""
    req = _Request(targets=list(targets or []), top=top, negation=negation, sweep=sweep, overlap=overlap,
                   compare=compare, against=against, resamples=resamples, confidence=confidence, split=split, n=n,
                   pairs=pairs, tasks=tasks, columns=columns, skip_bad_rows=skip_bad_rows, negator=negator,
                   negation_mode=negation_mode, seed=seed, pooler=pooler, json_file=json_file, csv_file=csv_file,
                   out_dir=out_dir, batch_size=batch_size or 128, device=device)
    run = _chosen_mode(req)
    _check_options(req)
    run(req, path_plan(json_file).write(csv_file, "--csv"))


#: the modes: the flag, whether the command line chose it, what runs it (in the order errors name them)
MODES: tuple[tuple[str, Callable[[_Request], bool], Callable[[_Request, PathPlan], None]], ...] = (
    ("--top", lambda r: r.top is not None, _run_top),
    ("--negation", lambda r: r.negation, _run_negation),
    ("--sweep", lambda r: r.sweep, _run_sweep),
    ("--compare", lambda r: r.compare is not None, _run_compare),
    ("--overlap", lambda r: r.overlap and r.compare is None, _run_overlap),  # with --compare: compare by bins
)


def _chosen_mode(req: _Request) -> Callable[[_Request, PathPlan], None]:
    """What runs the one mode the command line chose."""
    from sncse.errors import SncseError

    chosen = [(flag, run) for flag, chose, run in MODES if chose(req)]
    if len(chosen) != 1:
        raise SncseError("choose exactly one of --top K TASK, --negation, --sweep, --overlap, --compare"
                         + (f" (got {' and '.join(flag for flag, _ in chosen)})" if chosen else ""))
    return chosen[0][1]


def _check_options(req: _Request) -> None:
    """Options given to a mode that does not take them."""
    from sncse.errors import SncseError

    if req.pairs is not None and not req.negation and not (req.overlap and req.compare is None):
        raise SncseError("--pairs goes with --negation or --overlap")
    if (req.columns is not None or req.skip_bad_rows) and req.pairs is None:
        raise SncseError("--columns and --skip-bad-rows go with --overlap --pairs FILE")
    if req.tasks is not None and not (req.overlap or req.compare is not None):
        raise SncseError("--tasks goes with --overlap or --compare")
    if req.against is not None and req.compare is None:
        raise SncseError("--against goes with --compare")


def register(app: typer.Typer) -> None:
    app.command("analyze", epilog=EPILOG)(analyze)
