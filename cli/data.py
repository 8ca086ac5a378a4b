"""``sncse data check`` / ``sncse data download``: the evaluation sets in SentEval's layout."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import JsonOpt, console, handle_errors, out, path_plan, write_json_output

data_app = typer.Typer(help="Check and download evaluation data.", no_args_is_help=True)


@data_app.command("check", epilog="Example: SNCSE_DATA=../shared/data sncse data check --json -")
@handle_errors
def check(
    json_file: JsonOpt = None,
    sts_only: Annotated[bool, typer.Option("--sts-only", help="Skip the transfer tasks.")] = False,
) -> None:
    """List each evaluation task with its pair count against the papers' count, and what is missing.

    Exit code 0 when everything is present with the expected counts, 2 otherwise.
    """
    from rich.table import Table

    from sncse.data.check import check_data, summary
    from sncse.data.tasks import display_name

    path_plan(json_file).check()
    rows = check_data(transfer=not sts_only)
    result = summary(rows)
    write_json_output(json_file, result)
    if json_file != "-":
        table = Table(title=f"evaluation data under {result['senteval_dir']}", title_justify="left")
        for col in ("task", "split", "count", "expected", "status"):
            table.add_column(col, justify="right" if col in ("count", "expected") else "left")
        for r in rows:
            if r.ok and r.status != "ok":  # an optional set that is not installed
                status = f"[dim]not installed[/]: {r.describe()}"
            else:
                status = "[green]ok[/]" if r.ok else f"[red]{r.status}[/]: {r.describe()}"
            table.add_row(display_name(r.task), "trial" if r.task == "sickr" and r.split == "dev" else r.split,
                          "-" if r.count is None else str(r.count),
                          "-" if r.expected is None else str(r.expected), status)
        out.print(table)
        if not result["ok"]:
            console.print(f"[yellow]to fix:[/] {result['how_to_fix']}", highlight=False)
    if not result["ok"]:
        raise typer.Exit(2)


@data_app.command("download", epilog="Example: sncse data download --dest ../shared/data   "
                                     "(offline: sncse data download --archive senteval.tar)   |   "
                                     "sncse data download --dataset cannot")
@handle_errors
def download(
    dest: Annotated[str | None, typer.Option("--dest", help="Data root to install into "
                                                            "(default: --data-root / SNCSE_DATA / ./data).")] = None,
    dataset: Annotated[str, typer.Option("--dataset", help="senteval (SentEval's evaluation sets) or cannot "
                                                           "(the CANNOT negation dataset, for --tasks cannot).")]
        = "senteval",
    archive: Annotated[str | None, typer.Option("--archive", help="Install from a copy fetched elsewhere (the "
                                                                  "SentEval tar, or CANNOT's TSV).")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Download from this URL instead (a mirror).")] = None,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Accept files whose SHA-256 differs from the manifest "
                                                                "(CANNOT: another row count).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that are already present.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Network timeout in seconds.")] = 30.0,
    json_file: JsonOpt = None,
) -> None:
    """Download SentEval's evaluation sets (STS12-16, STS-B, SICK, transfer tasks) and verify them, or
    with --dataset cannot the CANNOT negation dataset.

    Source: the SentEval data archive that SimCSE publishes; every file is checked against SHA-256
    sums. CANNOT: its TSV on the Hugging Face hub (tum-nlp/cannot-dataset), checked for its layout and
    row count. Without network access this fails with a one-line message.
    """
    from sncse.data.check import check_data, summary
    from sncse.data.download import DATASETS, download_cannot, install_root
    from sncse.data.download import download as do_download
    from sncse.errors import SncseError

    if dataset not in DATASETS:
        raise SncseError(f"--dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    path_plan(json_file).read(archive, "the archive").write(install_root(dest), "the data root", folder=True).check()
    if dataset == "cannot":
        report = download_cannot(dest, url=url or DATASETS["cannot"], file=archive, verify=not no_verify,
                                 force=force, timeout=timeout)
        console.print(f"installed {len(report.installed)} file(s), kept {len(report.kept)}"
                      + (f": {report.verified:,} rows (sha256 {report.archive_sha256})"
                         if report.installed else " (--force replaces it)"), highlight=False)
    else:
        report = do_download(dest, url=url or DATASETS["senteval"], archive=archive, verify=not no_verify,
                             force=force, timeout=timeout)
        console.print(f"installed {len(report.installed)} file(s), kept {len(report.kept)}, "
                      f"verified {report.verified} against the manifest (archive sha256 {report.archive_sha256})",
                      highlight=False)
    result = summary(check_data(report.dest), report.dest)
    write_json_output(json_file, {**report.to_dict(), "check": result})
    console.print("[green]all evaluation sets present[/]" if result["ok"] else
                  "[yellow]some sets are still missing: run `sncse data check`[/]")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
