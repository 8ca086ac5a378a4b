"""``sncse analyze``: SNCSE's error analysis (Section 5), soft-negative similarity (Figure 4) and
hyperparameter sweeps (Figure 3)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import console, handle_errors, out

EPILOG = ("Example: sncse analyze runs/sncse --top 5 sickr   |   "
          "sncse analyze runs/simcse runs/sncse --negation --n 5000   |   sncse analyze --sweep runs/*")


def _write_text(path: str, text: str) -> None:
    """``-`` is stdout; anything else is written atomically."""
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from sncse.io import atomic_write

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(Path(path)) as fh:
        fh.write(text)


def _json(path: str, obj: Any) -> None:
    _write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


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


def _model_names(models: list[str]) -> list[str]:
    names = [Path(m).name or m for m in models]
    return [m if names.count(n) > 1 else n for m, n in zip(models, names, strict=True)]


# ------------------------------------------------------------------------------------------- --top
def _run_top(targets: list[str], k: int, split: str, pooler: str | None, device: str, batch_size: int,
             json_file: str | None, csv_file: str | None, out_dir: str | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from sncse import load
    from sncse.analyze.ranks import analyze_task
    from sncse.errors import SncseError
    from sncse.eval.sts import resolve_tasks

    if len(targets) != 2:
        raise SncseError(f"--top K takes one MODEL and one TASK (e.g. `sncse analyze runs/x --top 5 sickr`), "
                         f"got {len(targets)} argument(s)")
    model_path, task = targets
    (task,) = resolve_tasks([task], mode="dev" if split == "dev" else "test")
    if k < 1:
        raise SncseError(f"--top must be at least 1, got {k}")
    model = load(model_path, pooler=pooler, device=device)
    result = analyze_task(model, task, k=k, split=split, batch_size=batch_size)

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
    if json_file != "-":
        out.print(table)
        out.print(tags)
        eq11 = "" if not result.ties else f" (Eq. 11 from the errors: {result.spearman_eq11:.2f}; ties present)"
        out.print(f"Spearman x100: {result.spearman:.2f}{eq11}", highlight=False)

    if json_file:
        _json(json_file, result.to_dict())
    header = ["rank", "index", "sentence1", "sentence2", "gold", "cosine", "rank_gold", "rank_est", "error",
              "direction", "tags"]

    def rows(pairs: list[Any]) -> list[list[Any]]:
        return [[i, p.index, p.sentence1, p.sentence2, p.gold, p.cosine, p.rank_gold, p.rank_est, p.error,
                 p.direction, ";".join(p.tags)] for i, p in enumerate(pairs, start=1)]

    if csv_file:
        _write_text(csv_file, _csv_text(header, rows(result.top)))
    if out_dir:
        d = _out_dir(out_dir)
        by_error = sorted(result.pairs, key=lambda p: (-p.error, p.index))
        _write_text(str(d / f"errors_{task}_{split}.csv"), _csv_text(header, rows(by_error)))
        console.print(f"wrote {d / f'errors_{task}_{split}.csv'} (all {len(by_error)} pairs)", highlight=False)


# ------------------------------------------------------------------------------------------- --negation
def _run_negation(targets: list[str], n: int, negator: str, mode: str, seed: int, pooler: str | None,
                  device: str, batch_size: int, json_file: str | None, csv_file: str | None, out_dir: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from sncse import load
    from sncse.analyze.negation_sim import (
        NegationSimilarity,
        build_pairs,
        make_negator,
        model_similarities,
        plot_negation_similarity,
        sample_sentences,
    )
    from sncse.errors import SncseError

    if not targets:
        raise SncseError("--negation needs at least one MODEL")
    sentences = sample_sentences(n, seed=seed)
    console.print(f"negating {len(sentences)} STS sentences with the {negator} negator ({mode})", highlight=False)
    pairs = build_pairs(sentences, make_negator(negator, mode).negate, seed=seed)
    result = NegationSimilarity(pairs, negator=f"{negator} ({mode})")
    for name, path in zip(_model_names(targets), targets, strict=True):
        model = load(path, pooler=pooler, device=device)
        result.models.append(model_similarities(name, model, pairs, batch_size=batch_size))
        del model
    png = plot_negation_similarity(result, _out_dir(out_dir) / "negation_similarity.png")

    table = Table(title=f"cosine similarity: sentence vs its negation (soft negative) and vs a random "
                  f"sentence (negative), {len(pairs.sentences)} pairs")
    for col in ("model", "soft neg. mean", "soft neg. peak", "negative mean", "negative peak", "gap (means)"):
        table.add_column(col, justify="left" if col == "model" else "right")
    rows = []
    for m in result.models:
        s, g = m.soft_negative_stats, m.negative_stats
        table.add_row(escape(m.name), f"{s.mean:.3f}", f"{s.peak:.3f}", f"{g.mean:.3f}", f"{g.peak:.3f}",
                      f"{s.mean - g.mean:+.3f}")
        rows.append([m.name, s.mean, s.peak, g.mean, g.peak, s.n])
    if json_file != "-":
        out.print(table)
        dropped = pairs.dropped_skipped + pairs.dropped_unchanged
        if dropped:
            console.print(f"{dropped} of {pairs.requested} sentences dropped (negator skipped "
                          f"{pairs.dropped_skipped}, left {pairs.dropped_unchanged} unchanged)", highlight=False)
        console.print(f"wrote {png}", highlight=False)
    if json_file:
        _json(json_file, {**result.to_dict(), "png": str(png)})
    if csv_file:
        _write_text(csv_file, _csv_text(["model", "soft_negative_mean", "soft_negative_peak", "negative_mean",
                                         "negative_peak", "pairs"], rows))


# ------------------------------------------------------------------------------------------- --sweep
def _run_sweep(targets: list[str], json_file: str | None, csv_file: str | None, out_dir: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from sncse.analyze.sweep import collect, fmt_value, plot_sweep

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
    if json_file:
        _json(json_file, {"runs": [r.to_dict() for r in rows], "png": str(png)})
    if csv_file:
        _write_text(csv_file, _csv_text(["run", "path", "loss", "alpha", "beta", "lambda", "dev_stsb", "test_avg",
                                         "test_tasks", "steps"],
                                        [list(r.to_dict().values()) for r in rows]))


@handle_errors
def analyze(
    targets: Annotated[list[str] | None, typer.Argument(metavar="[MODEL|RUN_DIR|TASK]...",
                                                        help="--top: MODEL TASK; --negation: MODEL...; "
                                                        "--sweep: RUN_DIR...")] = None,
    top: Annotated[int | None, typer.Option("--top", metavar="K", help="Error analysis: the K pairs with the "
                                            "largest rank error on TASK (SNCSE Table 4: --top 5 sickr).")] = None,
    negation: Annotated[bool, typer.Option("--negation", help="Soft-negative similarity of one or more models "
                                           "(SNCSE Figure 4).")] = False,
    sweep: Annotated[bool, typer.Option("--sweep", help="Scores of runs against alpha, beta, lambda "
                                        "(SNCSE Figure 3).")] = False,
    split: Annotated[str, typer.Option("--split", help="--top: test, or dev for stsb/sickr.")] = "test",
    n: Annotated[int, typer.Option("--n", help="--negation: sentences sampled from the STS sets.")] = 5000,
    negator: Annotated[str, typer.Option("--negator", help="--negation: registered negator.")] = "spacy",
    negation_mode: Annotated[str, typer.Option("--negation-mode", help="faithful | improved")] = "faithful",
    seed: Annotated[int, typer.Option("--seed", help="--negation: sampling seed.")] = 0,
    pooler: Annotated[str | None, typer.Option("--pooler", help="Pooler (default: the one the model was "
                                               "trained with).")] = None,
    json_file: Annotated[str | None, typer.Option("--json", metavar="FILE", help="Write results as JSON "
                                                  "(- for stdout, then nothing else goes there).")] = None,
    csv_file: Annotated[str | None, typer.Option("--csv", metavar="FILE", help="Write the table as CSV.")] = None,
    out_dir: Annotated[str | None, typer.Option("--out", metavar="DIR", help="Folder for PNG and CSV files "
                                                "(default: current folder).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Encoding batch size.")] = 128,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "auto",
) -> None:
    """Analyze models the way SNCSE (Section 5) does: rank errors, soft-negative similarity, sweeps."""
    from sncse.errors import SncseError

    modes = [name for name, on in (("--top", top is not None), ("--negation", negation), ("--sweep", sweep)) if on]
    if len(modes) != 1:
        raise SncseError("choose exactly one of --top K TASK, --negation, --sweep"
                         + (f" (got {' and '.join(modes)})" if modes else ""))
    targets = list(targets or [])
    if top is not None:
        _run_top(targets, top, split, pooler, device, batch_size, json_file, csv_file, out_dir)
    elif negation:
        _run_negation(targets, n, negator, negation_mode, seed, pooler, device, batch_size, json_file, csv_file,
                      out_dir or ".")
    else:
        _run_sweep(targets, json_file, csv_file, out_dir or ".")


def register(app: typer.Typer) -> None:
    app.command("analyze", epilog=EPILOG)(analyze)
