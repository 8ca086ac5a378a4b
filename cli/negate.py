"""``sncse negate``: soft negative samples by rule-based negation (spaCy or Stanza), resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    JsonOpt,
    ShardOpt,
    at_least,
    console,
    handle_errors,
    out,
    path_plan,
    state,
    write_json_output,
)


@handle_errors
def negate(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="UTF-8 text, one sentence per line (gzip ok).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: INPUT stem + "
                                                ".negations.jsonl, or .negations.parquet).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="pairs ([sentence, negation] JSON Lines), records "
                                               "(JSON Lines with anchor, positive, soft_negative fields) or parquet "
                                               "(those columns): the last two load with datasets.load_dataset.")
                             ] = "pairs",
    backend: Annotated[str, typer.Option(help="Registered negator: spacy, stanza or a plugin's name.")] = "spacy",
    mode: Annotated[str, typer.Option(help="faithful (SNCSE's rules, byte for byte) or improved.")] = "faithful",
    workers: Annotated[int, typer.Option(help="Worker processes (0: one per CPU core).", callback=at_least(0))] = 1,
    batch_size: Annotated[int, typer.Option(help="Sentences per parser batch.", callback=at_least(1))] = 256,
    chunk_size: Annotated[int, typer.Option(help="Lines negated and flushed at a time (resume granularity).",
                                            callback=at_least(1))] = 1000,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last "
                                         "completed line.")] = False,
    errors: Annotated[str, typer.Option(help="Invalid UTF-8: strict (stop with the line number) or replace "
                                        "(substitute U+FFFD).")] = "strict",
    max_chars: Annotated[int | None, typer.Option(help="Skip (and count) lines longer than this "
                                                  "(default: the parser's max_length).", callback=at_least(1))] = None,
    model: Annotated[str | None, typer.Option(help="Backend model (spaCy pipeline name or path).")] = None,
    shard: ShardOpt = None,
    json_file: JsonOpt = None,
) -> None:
    """Write \\[sentence, negation] pairs (SNCSE's soft negatives) for every line of INPUT.

    Faithful mode reproduces SNCSE's generate_soft_negative_samples.py exactly; improved mode fixes
    contractions, other negators, copulas/modals, spacing, questions and imperatives (docs/negation.md).
    Statistics (lines per rule branch, throughput) are printed and written beside the output as
    <stem>.stats.json.
    """
    import os

    from sncse.negation.driver import negate_file

    if workers == 0:
        workers = os.cpu_count() or 1
    stats = negate_file(input_path, output, backend=backend, mode=mode, workers=workers, batch_size=batch_size,
                        chunk_size=chunk_size, resume=resume, errors=errors, max_chars=max_chars, model=model,
                        shard=shard, fmt=output_format, paths=path_plan(json_file))
    write_json_output(json_file, stats)
    if json_file != "-":
        _print_stats(stats)


def _print_stats(stats: dict) -> None:
    from rich.table import Table

    table = Table(title=f"sncse negate ({stats['backend']}, {stats['mode']})", show_footer=False)
    table.add_column("branch")
    table.add_column("lines", justify="right")
    table.add_column("share", justify="right")
    total = max(1, stats["lines_in"])
    for branch, count in stats["branches"].items():
        if count or branch not in stats["skipped"]:
            table.add_row(branch, f"{count:,}", f"{100 * count / total:.1f}%")
    out.print(table)
    rate = stats["lines_per_second"]
    resumed = f", resumed after line {stats['resumed_from_line']:,}" if stats["resumed_from_line"] else ""
    out.print(f"{stats['lines_written']:,} of {stats['lines_in']:,} lines written to {stats['output']} "
              f"({rate:,.0f} lines/s with {stats['workers']} worker(s){resumed}); stats: {stats['stats_file']}"
              if rate is not None else f"{stats['lines_written']:,} lines written to {stats['output']}",
              highlight=False, soft_wrap=True)
    if not state.quiet and any(stats["skipped"].values()):
        console.print(f"skipped: {', '.join(f'{k}={v}' for k, v in stats['skipped'].items() if v)}")


def register(app: typer.Typer) -> None:
    app.command("negate", epilog="Example: sncse negate data/corpus/wiki1m_head.txt -o wiki.negations.jsonl "
                "--workers 2")(negate)
