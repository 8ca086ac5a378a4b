"""The top-level CLI: help, version, exit codes, config show, and the installed script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sncse

COMMANDS = ["negate", "train", "eval", "encode", "merge-embeddings", "search", "analyze", "export", "serve",
            "demo", "plugins", "config", "data"]


def _listed_commands(help_text: str) -> list[str]:
    """The first word of each row of the help's Commands panel (not words found anywhere in the text)."""
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if "Commands" in line)
    names = []
    for line in lines[start + 1:]:
        row = line.strip().strip("│").strip()
        if line.strip().startswith("╰"):
            break
        if row and not line.strip().startswith("│  "):  # continuation lines are indented
            names.append(row.split()[0])
    return names


def test_help_lists_every_command(runner, cli_app):
    result = runner.invoke(cli_app, ["--help"], terminal_width=100)
    assert result.exit_code == 0
    assert _listed_commands(result.output) == COMMANDS


def test_each_command_help_has_an_example(runner, cli_app):
    for cmd in [["negate"], ["train"], ["eval"], ["encode"], ["search"], ["merge-embeddings"], ["analyze"],
                ["export"], ["serve"], ["demo"], ["plugins", "list"], ["config", "show"], ["data", "check"]]:
        result = runner.invoke(cli_app, [*cmd, "--help"])
        assert result.exit_code == 0, (cmd, result.output)
        assert "Example" in result.output, cmd


def test_version(runner, cli_app):
    result = runner.invoke(cli_app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"sncse {sncse.__version__}"


def test_unknown_command_is_usage_error(runner, cli_app):
    assert runner.invoke(cli_app, ["frobnicate"]).exit_code == 2


def test_config_show_json_and_errors(runner, cli_app, tmp_path):
    result = runner.invoke(cli_app, ["config", "show", "--json", "-", "--set", "optim.lr=3e-5"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["optim"]["lr"] == 3e-5
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  batchsize: 3\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["config", "show", "--config", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: unknown key 'train.batchsize'" in " ".join(result.output.split())


def test_installed_script_runs_as_subprocess():
    script = Path(sys.executable).parent / "sncse"
    assert script.exists(), "the console script is installed with the package"
    proc = subprocess.run([str(script), "config", "show", "--json", "-", "--set", "train.seed=3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["train"]["seed"] == 3
    proc = subprocess.run([str(script), "config", "show", "--set", "train.seed"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr


def test_json_path_file_or_stdout(runner, cli_app, tmp_path):
    """`--json PATH` writes the file and keeps the normal output; `--json -` puts only the JSON on stdout."""
    target = tmp_path / "sub" / "config.json"
    result = runner.invoke(cli_app, ["config", "show", "--json", str(target), "--set", "train.seed=5"])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8"))["train"]["seed"] == 5
    assert "seed: 5" in result.stdout  # the YAML is still printed
    result = runner.invoke(cli_app, ["plugins", "list", "--group", "poolers", "--json", "-"])
    assert result.exit_code == 0
    assert {r["alias"] for r in json.loads(result.stdout)} >= {"cls", "mean", "prompt"}
    for cmd in (["negate"], ["train"], ["eval"], ["analyze"], ["export"], ["plugins", "list"], ["config", "show"],
                ["data", "check"], ["data", "download"]):
        help_text = runner.invoke(cli_app, [*cmd, "--help"], terminal_width=200).output
        assert "--json" in help_text and "PATH" in help_text, cmd


def test_library_errors_get_the_flag_of_their_setting(runner, cli_app):
    """The library names the setting ('unknown task'); the CLI adds the option that sets it."""
    from sncse.data.tasks import parse_tasks
    from sncse.errors import SncseError

    try:
        parse_tasks("sts17")
    except SncseError as exc:
        assert "--" not in str(exc)
    result = runner.invoke(cli_app, ["eval", "tiny-bert", "--tasks", "sts17"])
    assert result.exit_code == 2
    assert "unknown task 'sts17'" in result.output and "(option --tasks)" in result.output
    result = runner.invoke(cli_app, ["eval", "tiny-bert", "--mode", "train"])
    assert result.exit_code == 2 and "(option --mode)" in " ".join(result.output.split())
    # an error about a setting the command has no option for gets no hint
    result = runner.invoke(cli_app, ["analyze", "--sweep"])
    assert result.exit_code == 2 and "(option" not in result.output
