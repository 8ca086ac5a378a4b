"""``sncse``: the command-line entry point. Each command lives in its own module and registers itself.

Command modules import the library lazily, inside the command, so ``sncse --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

import sncse

from . import analyze, config, data, demo, encode, eval, export, negate, plugins, search, serve, train
from .common import setup
from .help_text import reflow_help

app = typer.Typer(
    name="sncse",
    help="Sentence embeddings by contrastive learning with soft negative samples (SNCSE), "
    "with SimCSE and MixCSE baselines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # never dump tensors into a traceback
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sncse {sncse.__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars, warnings only.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging and full tracebacks.")] = False,
    data_root: Annotated[str | None, typer.Option("--data-root", envvar="SNCSE_DATA",
                                                  help="Folder with senteval/ and corpus/ (env SNCSE_DATA).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Global options; see each command's --help for an example."""
    import os

    if data_root:
        os.environ["SNCSE_DATA"] = data_root
    setup(quiet=quiet, verbose=verbose)


for module in (negate, train, eval, encode, search, analyze, export, serve, demo, plugins, config, data):
    module.register(app)
reflow_help(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
