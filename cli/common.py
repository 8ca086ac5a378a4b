"""What every command shares: the console, error handling, progress bars, JSON output."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sncse import progress as lib_progress
from sncse.errors import SncseError

console = Console(stderr=True)  # messages and progress go to stderr; results to stdout
out = Console()

F = TypeVar("F", bound=Callable[..., Any])


class State:
    quiet: bool = False
    verbose: bool = False


state = State()


class _RateColumn(TextColumn):
    def __init__(self, unit: str):
        super().__init__("")
        self.unit = unit

    def render(self, task):  # type: ignore[override]
        from rich.text import Text

        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else "", style="progress.data.speed")


@contextmanager
def rich_progress(description: str, total: int | None, unit: str = "it"):
    """The library's progress hook, drawn by rich (rate and ETA); silent under --quiet or no TTY."""
    if state.quiet:
        yield lambda n=1: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
        _RateColumn(unit), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=console, transient=False, disable=not console.is_terminal and not os.environ.get("SNCSE_PROGRESS"),
    ) as bar:
        task_id = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task_id, n)


def setup(quiet: bool = False, verbose: bool = False) -> None:
    state.quiet, state.verbose = quiet, verbose
    level = logging.DEBUG if verbose else (logging.WARNING if quiet else logging.INFO)
    logging.basicConfig(level=level, format="%(message)s", datefmt="[%X]",
                        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=False)], force=True)
    for noisy in ("transformers", "httpx", "urllib3", "filelock", "huggingface_hub", "stanza", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except Exception:  # transformers missing or changed: progress noise is not worth failing for
        pass
    lib_progress.set_progress_factory(rich_progress)


def fail(message: str, code: int = 2) -> None:
    # escaped: messages name things like 'sncse[onnx]' that rich would read as markup and drop
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Map exceptions to exit codes: 2 for bad input/usage (one line), 1 for internal errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except SncseError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
        except Exception as exc:
            if state.verbose or os.environ.get("SNCSE_DEBUG"):
                traceback.print_exc()
            fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)", 1)

    return wrapper  # type: ignore[return-value]


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout (nothing else is printed there under --json)."""
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
