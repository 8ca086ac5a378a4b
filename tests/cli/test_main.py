"""The top-level CLI: help, version, exit codes, config show, and the installed script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sncse

COMMANDS = ["negate", "train", "eval", "encode", "search", "merge-embeddings", "analyze", "export", "plugins",
            "config", "data"]


def test_help_lists_every_command(runner, cli_app):
    result = runner.invoke(cli_app, ["--help"])
    assert result.exit_code == 0
    for cmd in COMMANDS:
        assert cmd in result.output


def test_each_command_help_has_an_example(runner, cli_app):
    for cmd in [["negate"], ["train"], ["eval"], ["encode"], ["search"], ["merge-embeddings"], ["analyze"],
                ["export"], ["plugins", "list"], ["config", "show"], ["data", "check"]]:
        result = runner.invoke(cli_app, [*cmd, "--help"])
        assert result.exit_code == 0, (cmd, result.output)
        assert "Example" in result.output, cmd


def test_version(runner, cli_app):
    result = runner.invoke(cli_app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"sncse {sncse.__version__}"


def test_unknown_command_is_usage_error(runner, cli_app):
    assert runner.invoke(cli_app, ["frobnicate"]).exit_code == 2


def test_config_show_json_and_errors(runner, cli_app, tmp_path):
    result = runner.invoke(cli_app, ["config", "show", "--json", "--set", "optim.lr=3e-5"])
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
    proc = subprocess.run([str(script), "config", "show", "--json", "--set", "train.seed=3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["train"]["seed"] == 3
    proc = subprocess.run([str(script), "config", "show", "--set", "train.seed"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr
