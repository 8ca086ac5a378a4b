"""Command help written as docstrings, shown as paragraphs that wrap to the terminal.

Typer joins the lines of a docstring's first paragraph but keeps the line breaks of the others, so
at a width other than the source's those paragraphs break mid-sentence. Each command's help is
therefore its docstring with every paragraph on one line; the help screen wraps it at any width.
"""

from __future__ import annotations

import inspect

import typer


def one_line_paragraphs(text: str) -> str:
    """``text`` (a docstring) dedented, each paragraph's lines joined by spaces; paragraphs stay apart."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def reflow_help(app: typer.Typer) -> None:
    """Give every command of ``app`` (and of its command groups) its docstring as one-line paragraphs,
    where the command names no help of its own."""
    for info in app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = one_line_paragraphs(info.callback.__doc__)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
