"""``sncse plugins list``: what is registered in each entry-point group, and whether it loads."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .common import JsonOpt, handle_errors, out, path_plan, write_json_output

plugins_app = typer.Typer(help="Registered negators, losses, encoders and poolers.", no_args_is_help=True)


@plugins_app.command("list", epilog="Example: sncse plugins list --group losses --json -")
@handle_errors
def list_plugins(
    group: Annotated[str | None, typer.Option(help="Only this group: negators, losses, encoders, poolers.")] = None,
    json_file: JsonOpt = None,
) -> None:
    """List entry points with distribution, version, module:attr and load status."""
    from sncse import registry
    from sncse.errors import RegistryError

    path_plan(json_file).check()
    if group is not None and group not in registry.GROUPS:
        raise RegistryError(f"unknown group '{group}'; available: {', '.join(registry.GROUPS)}")
    rows = registry.list_entries([group] if group else None)
    write_json_output(json_file, [
        {"group": e.group, "name": e.name, "alias": e.base_name, "distribution": e.distribution,
         "version": e.dist_version, "value": e.value, "status": e.status, "error": e.error}
        for e in rows
    ])
    if json_file == "-":
        return
    table = Table(title="sncse plugins")
    for col in ("group", "name", "distribution", "module:attr", "status"):
        table.add_column(col)
    for e in rows:
        status = "[green]ok[/]" if e.status == "ok" else f"[red]{e.status}[/]: {e.error}"
        table.add_row(e.group, e.name, f"{e.distribution or '?'} {e.dist_version or ''}", e.value, status)
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(plugins_app, name="plugins")
