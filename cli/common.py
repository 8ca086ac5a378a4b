"""What every command shares: the console, error handling, progress bars, JSON output, common options."""

from __future__ import annotations

import errno
import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

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

if TYPE_CHECKING:
    from sncse.outputs import PathPlan

console = Console(stderr=True)  # messages and progress go to stderr; results to stdout
out = Console()

F = TypeVar("F", bound=Callable[..., Any])

# ------------------------------------------------------------------------------ shared options
def _option_name(param: Any) -> str:
    """The long name of an option (``--batch-size`` of ``("-b", "--batch-size")``)."""
    names = [o for o in getattr(param, "opts", ()) if o.startswith("--")]
    return names[0] if names else "--" + str(param.name).replace("_", "-")


def at_least(low: int) -> Callable[..., Any]:
    """An option callback refusing numbers below ``low``: every count option (batch sizes, limits,
    top k) gives the same one-line error, exit 2, before any work."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: int | None) -> int | None:
        if value is not None and not ctx.resilient_parsing and value < low:
            fail(f"{_option_name(param)} must be at least {low}, got {value}")
        return value

    return check


def not_blank(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    """An option callback refusing an empty or blank string (or one among repeated values)."""
    values = value if isinstance(value, list | tuple) else [value]
    if not ctx.resilient_parsing and any(v is not None and not str(v).strip() for v in values):
        fail(f"{_option_name(param)} is empty; give some text")
    return value


JsonOpt = Annotated[str | None, typer.Option(
    "--json", metavar="PATH", help="Write the result as JSON to PATH ('-' = stdout; nothing else is printed there).")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto | cpu | cuda | cuda:N")]
BatchSizeOpt = Annotated[int | None, typer.Option("--batch-size", "-b", help="Encoding batch size.",
                                                  callback=at_least(1))]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="Smoke runs only: first N pairs per subset "
                                              "(numbers are NOT comparable).", callback=at_least(1))]
PoolerOpt = Annotated[str | None, typer.Option(
    "--pooler", help="Pooler: cls, cls_before_pooler, mean, avg_first_last, prompt or a plugin's "
                     "(default: the one the model was trained with).")]
ShardOpt = Annotated[str | None, typer.Option(
    "--shard", metavar="K/N",
    help="Process only shard K of N (K from 1): a contiguous range of whole chunks of input lines, written "
         "to the output name plus .shard-K-of-N. The N outputs concatenated in order equal one unsharded "
         "run (docs/scaling.md).")]

# The command-line option of each library setting an error can name (SncseError.setting).
SETTING_FLAGS = {"data_root": "--data-root", "errors": "--errors", "mode": "--mode", "tasks": "--tasks",
                 "n": "--n", "resume": "--resume", "archive": "--archive", "verify": "--no-verify",
                 "shard": "--shard", "columns": "--columns", "skip_bad_rows": "--skip-bad-rows",
                 "empty_lines": "--empty-lines", "dtype": "--dtype", "texts": "--texts", "kind": "--index",
                 "top_k": "--top-k", "fmt": "--format", "overwrite": "--overwrite", "device": "--device",
                 "amp": "--amp", "max_inputs": "--max-inputs", "max_chars": "--max-chars", "max_batch": "--max-batch",
                 "max_wait_ms": "--batch-wait-ms", "encode_batch_size": "--batch-size"}

# Errors of the file system about a path the user named: one line and exit 2, like bad input.
USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EEXIST, errno.ENOTDIR,
               errno.EISDIR, errno.ENOENT, errno.ENAMETOOLONG}


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
            fail(str(exc) + flag_hint(exc, fn), exc.exit_code)
        except OSError as exc:
            if exc.errno not in USER_ERRNOS or exc.filename is None:
                _internal_error(exc)
            fail(f"{exc.filename}: {(exc.strerror or str(exc)).lower()}")
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
        except Exception as exc:
            _internal_error(exc)

    return wrapper  # type: ignore[return-value]


def _internal_error(exc: Exception) -> None:
    if state.verbose or os.environ.get("SNCSE_DEBUG"):
        traceback.print_exc()
    fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)", 1)


GLOBAL_FLAGS = ("--data-root",)  # options of `sncse` itself, before the command (sncse_cli.main)


def command_flags(fn: Callable[..., Any]) -> set[str]:
    """The long options a command function declares (``Annotated[..., typer.Option("--x")]``), plus the global ones."""
    import typing

    flags = set(GLOBAL_FLAGS)
    for name, hint in typing.get_type_hints(fn, include_extras=True).items():
        for meta in getattr(hint, "__metadata__", ()):
            if not isinstance(meta, typer.models.OptionInfo):
                continue
            # in Annotated, typer takes the first name given to Option() as its `default`
            decls = [meta.default, *(meta.param_decls or ())]
            named = {d for decl in decls if isinstance(decl, str) for d in decl.split("/") if d.startswith("--")}
            flags |= named or {"--" + name.replace("_", "-")}  # no name given: typer derives it
    return flags


def flag_hint(exc: SncseError, fn: Callable[..., Any] | None = None) -> str:
    """`` (option --errors)`` for an error about a setting that the command ``fn`` has an option for, with
    the error's remedy where it has one (`` (option --errors replace substitutes U+FFFD)``); a command
    without the option gets no hint, so no message suggests an option the command lacks."""
    flag = SETTING_FLAGS.get(getattr(exc, "setting", None) or "")
    if not flag or flag in str(exc) or fn is None or flag not in command_flags(fn):
        return ""
    remedy = getattr(exc, "remedy", None)
    return f" (option {flag} {remedy})" if remedy else f" (option {flag})"


def write_text(path: str, text: str) -> None:
    """``-`` is stdout; anything else is written atomically (parent folders created)."""
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from sncse.io import atomic_write

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(Path(path)) as fh:
        fh.write(text)


def path_plan(json_file: str | None = None) -> PathPlan:
    """The plan of the paths a command reads and writes (``sncse.outputs``), its ``--json`` declared.
    The command declares its other paths (or hands the plan to the library function that does) and
    the plan is checked once, before any work: no output may overwrite an input or another output."""
    from sncse.outputs import PathPlan

    return PathPlan().write(json_file, "--json")


def write_json_output(path: str | None, obj: Any) -> None:
    """The ``--json PATH`` of every command: nothing for None, stdout for ``-``, else the file
    (declared in the command's :func:`path_plan`). Valid JSON only: an undefined number is null."""
    from sncse.io import json_dumps

    if path is not None:
        write_text(path, json_dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout (nothing else is printed there under ``--json -``)."""
    write_json_output("-", obj)
