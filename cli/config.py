"""``sncse config show``: the resolved configuration (defaults <- file <- --set)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import JsonOpt, handle_errors, out, path_plan, write_json_output

config_app = typer.Typer(help="Inspect configuration files and overrides.", no_args_is_help=True)

ConfigOpt = Annotated[str | None, typer.Option("--config", "-c", help="YAML config file (env SNCSE_CONFIG).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", "-s", help="Dotted override key=value, repeatable.")]


@config_app.command("show", epilog="Example: sncse config show --config configs/tiny.yaml --set optim.lr=3e-5")
@handle_errors
def show(config: ConfigOpt = None, overrides: SetOpt = None, json_file: JsonOpt = None) -> None:
    """Print the resolved config (YAML on stdout, or JSON with --json -)."""
    from sncse.config import dump_yaml, load_config, to_dict

    path_plan(json_file).read(config, "the config file").check()
    cfg = load_config(config, overrides)
    write_json_output(json_file, to_dict(cfg))
    if json_file != "-":
        out.print(dump_yaml(cfg), end="", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
