"""Command help: docstring paragraphs on one line each, so the help screen wraps them at any width."""

from __future__ import annotations

import typer.main
from sncse_cli.help_text import one_line_paragraphs
from sncse_cli.main import app


def test_paragraphs_are_joined_and_kept_apart():
    doc = """First line
    goes on.

    Second paragraph,
        indented in the source.
    """
    assert one_line_paragraphs(doc) == "First line goes on.\n\nSecond paragraph, indented in the source."


def _commands(command, name="sncse"):
    yield name, command
    for sub_name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{name} {sub_name}")


def test_no_command_help_breaks_a_paragraph():
    for name, command in _commands(typer.main.get_command(app)):
        for paragraph in (command.help or "").split("\n\n"):
            assert "\n" not in paragraph, f"{name}: {paragraph[:60]!r}"


def test_eval_help_wraps_whole_lines_at_80_columns(runner):
    result = runner.invoke(app, ["eval", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0
    lines = [line.strip() for line in result.stdout.splitlines()]
    at = next(i for i, line in enumerate(lines) if line.startswith("STS: cosine similarity"))
    assert all(len(line) > 60 for line in lines[at : at + 5])  # a break only where the width is used up
