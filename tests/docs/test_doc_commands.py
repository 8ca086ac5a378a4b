"""Every `sncse ...` command line in README.md and docs/*.md parses against the real CLI, and every
configuration value the docs show (`--set key=value`, YAML blocks) validates against the schema.

Commands are parsed with click's parser on the Typer app's command, never executed: an option that does
not exist, or sits on the wrong side of the command name (global options go before it), fails here
with the doc and line.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from pathlib import Path

import pytest
import typer
from doclib import (
    DOCS,
    REPO,
    CommandLine,
    block_commands,
    blocks,
    config_of,
    doc_commands,
    inline_code,
    overrides_of,
    prose_lines,
    rel,
)

from sncse.config import load_config
from sncse.errors import ConfigError

# The click that Typer builds on (recent Typer releases vendor their own copy as typer._click).
CLICK_CORE = importlib.import_module(typer.core.TyperCommand.__mro__[1].__module__)
CLICK = importlib.import_module(CLICK_CORE.__name__.rsplit(".", 1)[0] + ".exceptions")
UsageError = CLICK.UsageError


@pytest.fixture(scope="module")
def root_command():
    from sncse_cli.main import app

    return typer.main.get_command(app)


def parse(root, argv: list[str]) -> None:
    """Parse ``sncse ARGV`` with click's parser down to the leaf command; raises UsageError on a bad line."""
    cmd, name, args, parent = root, "sncse", list(argv), None
    while True:
        ctx = cmd.make_context(name, args, parent=parent, resilient_parsing=False)
        if not hasattr(cmd, "resolve_command"):  # a leaf command, not a group
            return
        rest = [*(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []), *ctx.args]
        if not rest:
            return
        name, sub, args = cmd.resolve_command(ctx, rest)
        if sub is None:
            raise UsageError(f"no such command {rest[0]!r}")
        cmd, parent = sub, ctx


def all_commands() -> list[CommandLine]:
    return [c for doc in DOCS for c in doc_commands(doc)]


def test_docs_hold_commands() -> None:
    found = all_commands()
    assert len(found) > 50
    assert any(c.doc.name == "README.md" for c in found)


def test_every_command_line_parses(root_command) -> None:
    bad = []
    for c in all_commands():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                parse(root_command, c.argv)
        except UsageError as exc:
            kind = type(exc).__name__
            if kind == "NoArgsIsHelpError":
                continue  # `sncse data` alone prints the group's help
            if (c.inline or c.synopsis) and (kind == "MissingParameter" or kind == "BadParameter" and any(
                    re.fullmatch(r"[A-Z][A-Z_]*", w) for w in c.argv) or kind == "BadOptionUsage"
                    and c.argv[-1].startswith("-")):
                continue  # a mention (`sncse export`, `--top K`, `--pairs`): the options it names exist
            bad.append(f"{c.where}: `sncse {' '.join(c.argv)}`: {exc.format_message()}")
        except Exception as exc:  # `sncse --help` exits 0 once the help is printed
            if type(exc).__name__ != "Exit" or getattr(exc, "exit_code", 0) != 0:
                raise
    assert not bad, f"{len(bad)} documented command line(s) the CLI rejects:\n" + "\n".join(bad)


def test_the_parser_rejects_what_the_cli_rejects(root_command) -> None:
    parse(root_command, ["-q", "--data-root", "x", "eval", "minilm", "--tasks", "stsb"])
    for argv in (["eval", "minilm", "--quiet"], ["eval", "minilm", "--no-such-option"], ["nope"],
                 ["train", "--set"]):
        with pytest.raises(UsageError):
            parse(root_command, argv)


#: `--set key=value`, `--set loss.name=NAME`: a placeholder, not a value to validate
PLACEHOLDER = re.compile(r"^key=|=[A-Z][A-Z_]*$")


def _validate(overrides: list[str], config: str | None) -> None:
    path = REPO / config if config and (REPO / config).is_file() else None
    load_config(path, overrides=overrides)


def test_every_documented_override_validates() -> None:
    bad = []
    for c in all_commands():
        overrides = [o for o in overrides_of(c.argv) if not PLACEHOLDER.search(o)]
        if not overrides:
            continue
        try:
            _validate(overrides, config_of(c.argv, c.env))
        except ConfigError as exc:
            if not c.expects_error:
                bad.append(f"{c.where}: {' '.join('--set ' + o for o in overrides)}: {exc}")
        else:
            if c.expects_error:
                bad.append(f"{c.where}: the doc shows `sncse {' '.join(c.argv)}` failing, but the config validates")
    for doc in DOCS:
        for n, text in prose_lines(doc):
            for code in inline_code(text):
                value = code[len("--set "):] if code.startswith("--set ") else code
                if "=" not in value or " " in value or not value.split("=")[0].count(".") == 1:
                    continue
                key = value.split("=")[0]
                if not key.replace(".", "").replace("_", "").isalpha() or PLACEHOLDER.search(value):
                    continue
                try:
                    _validate([value], None)
                except ConfigError as exc:
                    bad.append(f"{rel(doc)}:{n}: `{code}`: {exc}")
    assert not bad, f"{len(bad)} documented setting(s) the schema rejects:\n" + "\n".join(bad)


def plugin_example(doc: Path, block) -> bool:
    """A YAML block for a loss that the same doc defines as a plugin class (``name = "margin"``), not
    registered here: it illustrates the plugin, so the schema of the installed losses cannot check it."""
    import yaml

    from sncse import registry

    data = yaml.safe_load("\n".join(block.lines)) or {}
    name = (data.get("loss") or {}).get("name") if isinstance(data, dict) else None
    if not name or registry.is_registered("losses", name):
        return False
    defined = [b for b in blocks(doc) if b.lang == "python" and f'name = "{name}"' in "\n".join(b.lines)]
    return bool(defined)


def test_every_yaml_block_validates(tmp_path: Path) -> None:
    bad, seen = [], 0
    for doc in DOCS:
        for block in blocks(doc):
            if block.lang not in ("yaml", "yml"):
                continue
            seen += 1
            if plugin_example(doc, block):
                continue
            path = tmp_path / f"block{seen}.yaml"
            path.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
            try:
                load_config(path)
            except ConfigError as exc:
                bad.append(f"{rel(doc)}:{block.line}: YAML block: {exc}")
    assert seen >= 1
    assert not bad, "\n".join(bad)


def test_extraction_reads_blocks_prompts_and_continuations(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text("Run `sncse eval minilm --tasks stsb`.\n\n```bash\n"
                   "SNCSE_DATA=x sncse train -c configs/tiny.yaml \\\n    --set train.max_steps=2  # smoke\n"
                   "cd a && sncse -q negate in.txt -o out.jsonl\n"
                   "torchrun --nproc_per_node 2 -m sncse_cli.main train --loss sup\n```\n\n```\n"
                   "$ sncse config show --set train.bogus=1\nerror: unknown key\n```\n", encoding="utf-8")
    found = doc_commands(doc)
    by_line = {c.line: c for c in found}
    assert by_line[4].argv == ["train", "-c", "configs/tiny.yaml", "--set", "train.max_steps=2"]
    assert by_line[4].env == {"SNCSE_DATA": "x"}
    assert by_line[6].argv == ["-q", "negate", "in.txt", "-o", "out.jsonl"]
    assert by_line[7].argv == ["train", "--loss", "sup"]
    assert by_line[11].expects_error and by_line[11].argv[-1] == "train.bogus=1"
    assert by_line[1].argv == ["eval", "minilm", "--tasks", "stsb"]
    assert len(block_commands(blocks(doc)[0])) == 3
