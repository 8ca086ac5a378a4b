"""``sncse eval``: STS / transfer / alignment evaluation under the SimCSE-SNCSE protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sncse.data.tasks import STS_TASKS, TRANSFER_TASKS, display_name

from .common import (
    BatchSizeOpt,
    DeviceOpt,
    JsonOpt,
    LimitOpt,
    PoolerOpt,
    at_least,
    console,
    handle_errors,
    out,
    path_plan,
    print_json,
    state,
)
from .config import ConfigOpt, SetOpt


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}"


def _sts_tables(result: dict[str, Any]) -> list[Any]:
    from rich.table import Table

    tasks = result["tasks"]
    cols = [c for c in tasks if c in STS_TASKS]
    own = [c for c in tasks if c not in STS_TASKS]  # a user's pair files, after the papers' average
    split = "dev" if result["mode"] == "dev" else "test"
    title = (f"STS ({split}) - Spearman x100, cosine, 'all' for STS12-16" if cols
             else "Own pairs - Spearman x100, cosine")
    table = Table(title=title, title_justify="left")
    table.add_column("model")
    for c in cols:
        table.add_column(display_name(c) + (" dev" if tasks[c].get("split") == "dev" else ""), justify="right")
    avg = ["Avg."] if cols else []
    for c in avg + own:
        table.add_column(c, justify="right")
    table.add_row(f"[bold]{result['model']}[/] ({result['pooler']})", *[_fmt(tasks[c]["spearman"]) for c in cols],
                  *[f"[bold]{_fmt(result['avg'])}[/]" for _ in avg], *[_fmt(tasks[c]["spearman"]) for c in own])
    full = set(cols) == set(STS_TASKS)  # a published average is over all 7 tasks
    for row in result.get("published", []):
        if row.get("group") != "sts":
            continue
        table.add_row(f"[dim]{row['name']} (published)[/]", *[f"[dim]{_fmt(row['scores'].get(c))}[/]" for c in cols],
                      f"[dim]{_fmt(row['avg'] if full else None)}[/]", *["" for _ in own])
    detail = Table(title="per-task detail (x100)", title_justify="left")
    skips = ["skipped"] if any(tasks[c].get("skipped_rows") for c in own) else []
    for name in ("task", "all", "mean", "wmean", "pearson (all)", "pairs", "subsets", *skips):
        detail.add_column(name, justify="left" if name == "task" else "right")
    for c in cols + own:
        r = tasks[c]
        detail.add_row(display_name(c), _fmt(r["spearman"]), _fmt(r["mean"]), _fmt(r["wmean"]),
                       _fmt(r["pearson"]), str(r["pairs"]), str(len(r["subsets"])),
                       *[str(r.get("skipped_rows", "")) for _ in skips])
    return [table, detail]


def _transfer_table(result: dict[str, Any]) -> Any:
    from rich.table import Table

    tr = result["transfer"]["tasks"]
    cols = list(tr)
    table = Table(title="Transfer - accuracy x100 (SentEval, scikit-learn logistic regression)", title_justify="left")
    table.add_column("model")
    for c in cols:
        table.add_column(display_name(c), justify="right")
    table.add_column("Avg.", justify="right")
    table.add_row(f"[bold]{result['model']}[/]", *[_fmt(tr[c]["acc"]) for c in cols],
                  f"[bold]{_fmt(result['transfer']['avg'])}[/]")
    full = set(cols) == set(TRANSFER_TASKS)
    for row in result.get("published", []):
        if row.get("group") == "transfer":
            table.add_row(f"[dim]{row['name']} (published)[/]", *[f"[dim]{_fmt(row['scores'].get(c))}[/]" for c in cols],
                          f"[dim]{_fmt(row['avg'] if full else None)}[/]")
    return table


def _triplet_table(result: dict[str, Any]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Triplets - accuracy x100 = share of rows with cos(anchor, positive) > cos(anchor, negative)",
                  title_justify="left")
    for name in ("set", "accuracy", "margin", "cos(a, p)", "cos(a, n)", "rows"):
        table.add_column(name, justify="left" if name == "set" else "right")
    for task, r in result["triplets"]["tasks"].items():
        rows = str(r["rows"]) + (f" ({r['skipped_rows']} skipped)" if r.get("skipped_rows") else "")
        table.add_row(escape(display_name(task)), _fmt(r["accuracy"]), f"{r['margin']:+.4f}", f"{r['cos_pos']:.4f}",
                      f"{r['cos_neg']:.4f}", rows)
    return table


def _align_table(result: dict[str, Any]) -> Any:
    from rich.table import Table

    a = result["align"]
    table = Table(title="Alignment / uniformity on STS-B (lower is better)", title_justify="left")
    for name in ("model", "l_align", "l_uniform", "positive pairs", "sentences"):
        table.add_column(name, justify="left" if name == "model" else "right")
    table.add_row(result["model"], f"{a['align']:.4f}", f"{a['uniform']:.4f}", str(a["positive_pairs"]),
                  str(a["sentences"]))
    return table


@handle_errors
def eval_command(
    model: Annotated[str, typer.Argument(help="Run dir of `sncse train`, saved model dir, sentence-transformers dir, "
                                              "registered encoder (minilm, tiny-bert) or Hugging Face name.")],
    tasks: Annotated[str | None, typer.Option("--tasks", "-t", help="sts | transfer | align | all | comma list "
                                                                   "(sts12,...,stsb,sickr,mr,...,negation,cannot). "
                                                                   "Default: sts.")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="test (papers' tables) or dev (STS-B dev + SICK-R trial).")] = None,
    pooler: PoolerOpt = None,
    batch_size: BatchSizeOpt = None,
    json_file: JsonOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table (rich tables on stdout) or mteb (one JSON per task "
                                                      "in MTEB's result schema under --out).")] = "table",
    out_dir: Annotated[str | None, typer.Option("--out", help="Directory for --format mteb files "
                                                              "(default: mteb_results/<model name>).")] = None,
    device: DeviceOpt = "auto",
    amp: Annotated[str | None, typer.Option("--amp", help="Precision of the encoder: off (fp32, the papers'; the "
                                            "default, eval.amp) | auto (bf16 on CUDA with native bf16, else "
                                            "fp16; fp32 on the CPU) | bf16 | fp16. Recorded as meta.precision.")] = None,
    limit: LimitOpt = None,
    kfold: Annotated[int | None, typer.Option("--kfold", help="Folds for transfer cross-validation (SentEval: 10).",
                                              callback=at_least(2))] = None,
    pairs: Annotated[list[Path] | None, typer.Option("--pairs", help="Your own scored pairs (TSV, CSV or JSONL with "
                                                     "sentence1,sentence2,score or s1,s2,score columns), scored like "
                                                     "STS-B as task <file stem>; repeatable. Alone: only these files.")] = None,
    triplets: Annotated[list[Path] | None, typer.Option("--triplets", help="(anchor, positive, negative) rows (TSV, "
                                                        "CSV or JSONL with anchor,positive,negative or "
                                                        "sent0,sent1,hard_neg columns): accuracy, margin and mean "
                                                        "cosines per file; repeatable. Alone: only these files.")] = None,
    columns: Annotated[str | None, typer.Option("--columns", metavar="A,B,C",
                                                help="The --pairs columns (two sentences and the score) or the "
                                                     "--triplets columns (anchor, positive, negative): names, or "
                                                     "1-based positions for a file without a header.")] = None,
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Skip (count and log) --pairs/--triplets "
                                                "rows with a missing column, a non-numeric score or an empty "
                                                "sentence, instead of stopping at the first.")] = False,
    pair_scores: Annotated[str | None, typer.Option("--pair-scores", metavar="PATH", help="Also write every STS "
                                                    "pair's cosine and gold score, and every triplet row's cosines "
                                                    "(gzip JSON), for paired tests: sncse analyze --compare.")] = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
) -> None:
    """Evaluate sentence embeddings: 7 STS tasks (SimCSE protocol), transfer tasks, alignment/uniformity,
    negation triplets, and your own scored sentence pairs and triplets.

    STS: cosine similarity, Spearman x100, STS12-16 over all subsets concatenated ("all"), STS-B and
    SICK-R test splits without a regressor, average of the 7. Triplets (--tasks negation, --triplets):
    accuracy, margin and mean cosines, never part of the average. When MODEL is a run directory the
    result is also written to RUN/eval_<mode>.json (RUN/eval_pairs.json when only --pairs files were
    scored, RUN/eval_triplets.json when only triplets were). --pair-scores keeps the per-pair cosines
    behind the scores (RUN/eval_<mode>.pair_scores.json.gz is where `sncse analyze --compare RUN` looks).
    """
    from sncse.config import load_config
    from sncse.eval.runner import run_eval

    cfg = load_config(config, overrides).eval
    tasks = tasks or (None if pairs or triplets else cfg.tasks)  # files alone: only those files
    mode = mode or cfg.mode
    _check_format(fmt)
    plan, kept, target = _plan_outputs(model, tasks, mode, json_file, config, fmt, out_dir, limit, pairs, triplets)
    if limit is not None:
        console.print(f"[yellow]--limit {limit}: smoke run on a subset, numbers are not comparable to the papers[/]")
    result = run_eval(model, tasks=tasks, mode=mode, pooler=pooler or cfg.pooler,
                      batch_size=batch_size or cfg.batch_size, device=device, limit=limit, kfold=kfold or cfg.kfold,
                      show_progress=not state.quiet, pairs=pairs, columns=columns, skip_bad_rows=skip_bad_rows,
                      pair_scores=pair_scores, amp=amp or cfg.amp, paths=plan, triplets=triplets)
    written = _write_outputs(result, json_file, kept, target, pair_scores)
    if json_file == "-":
        print_json(result)
    elif fmt == "table":
        _print_tables(result)
    for p in written:
        console.print(f"wrote {p}", highlight=False)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "mteb"):
        from sncse.errors import SncseError

        raise SncseError(f"--format must be table or mteb, got {fmt!r}")


def _plan_outputs(model: str, tasks: str | None, mode: str, json_file: str | None, config: Any, fmt: str,
                  out_dir: str | None, limit: int | None, pairs: list[Path] | None,
                  triplets: list[Path] | None) -> tuple[Any, Path | None, Path | None]:
    """(the plan of paths, the run's own copy of the result or None, the MTEB folder or None)."""
    from sncse.data.tasks import requested_tasks
    from sncse.eval.results import mteb_files, result_file_mode
    from sncse.eval.runner import model_kind
    from sncse.outputs import same_path
    from sncse.rundir.files import eval_result_path

    plan = path_plan(json_file).read(config, "the config file")
    # the run's own copy: own files or triplets alone go beside, never over, the run's STS result that
    # `sncse analyze` reads; --json may name that very file (it is then written once)
    own_files = bool(pairs or triplets)
    kept = (eval_result_path(model, result_file_mode(requested_tasks(tasks, mode, own_files), mode, bool(pairs)))
            if limit is None and model_kind(model) == "run" else None)
    if kept is not None and json_file not in (None, "-") and same_path(json_file, kept):
        kept = None  # written as --json
    plan.write(kept, "the run's evaluation file")
    target = (Path(out_dir) if out_dir else Path("mteb_results") / Path(str(model)).name) if fmt == "mteb" else None
    for path in mteb_files(target) if target is not None else []:
        plan.write(path, "the MTEB files")
    return plan, kept, target


def _write_outputs(result: dict[str, Any], json_file: str | None, kept: Path | None, target: Path | None,
                   pair_scores: str | None) -> list[Path]:
    """Write --json, the run's own copy and the MTEB files; every file written (the per-pair scores first)."""
    from sncse.eval.results import write_mteb, write_result

    written: list[Path] = [Path(result["meta"]["pair_scores"])] if pair_scores else []
    if json_file and json_file != "-":
        written.append(write_result(result, json_file))  # the result schema's own writer (creates the folder)
    if kept is not None:
        written.append(write_result(result, kept))
    if target is not None:
        if not any(t in STS_TASKS for t in result["tasks"]):
            from sncse.errors import SncseError

            raise SncseError("--format mteb covers STS tasks only; add STS tasks to --tasks")
        written += write_mteb(result, target)
    return written


def _print_tables(result: dict[str, Any]) -> None:
    if result["tasks"]:
        for t in _sts_tables(result):
            out.print(t)
    if "transfer" in result:
        out.print(_transfer_table(result))
    if "align" in result:
        out.print(_align_table(result))
    if "triplets" in result:
        out.print(_triplet_table(result))
        for task, r in result["triplets"]["tasks"].items():
            out.print(f"[dim]{display_name(task)}: {r['source']}[/]", highlight=False)
    out.print(f"[dim]protocol: {result['protocol']}; precision {result['meta'].get('precision')}[/]",
              highlight=False)


def register(app: typer.Typer) -> None:
    app.command("eval", epilog="Examples: sncse eval minilm --tasks sts --json results/minilm.json; "
                "sncse eval minilm --pairs my_pairs.tsv; sncse eval minilm --tasks negation; "
                "sncse eval minilm --triplets my_triplets.tsv")(eval_command)
