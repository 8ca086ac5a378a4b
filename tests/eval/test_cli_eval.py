"""`sncse eval` through Typer's runner: tables, JSON, MTEB files, run directories, errors."""

from __future__ import annotations

import json
from pathlib import Path


def test_eval_json_and_table(runner, cli_app, data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = runner.invoke(cli_app, ["--quiet", "eval", "tiny-bert", "--tasks", "sts12,stsb", "--limit", "20",
                                  "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "STS12" in res.output and "published" in res.output
    data = json.loads(out.read_text())
    assert data["model"] == "tiny-bert" and data["pooler"] == "cls_before_pooler"
    assert set(data["tasks"]) == {"sts12", "stsb"} and data["tasks"]["sts12"]["pairs"] == 100
    assert data["meta"]["limit"] == 20


def test_eval_json_stdout_and_mteb(runner, cli_app, data_root: Path, tmp_path: Path) -> None:
    res = runner.invoke(cli_app, ["--quiet", "eval", "tiny-bert", "--tasks", "sickr", "--limit", "30",
                                  "--format", "mteb", "--out", str(tmp_path / "m"), "--json", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data["tasks"]) == ["sickr"]
    assert json.loads((tmp_path / "m" / "SICK-R.json").read_text())["task_name"] == "SICK-R"


def test_run_dir_gets_eval_file_and_recorded_pooler(runner, cli_app, data_root: Path, tmp_path: Path,
                                                    tiny_backbone) -> None:
    from sncse.encoders import SentenceEncoder

    backbone, tokenizer = tiny_backbone
    run = tmp_path / "run"
    SentenceEncoder(backbone, tokenizer, pooler="mean", mlp="train").save(run / "best")
    res = runner.invoke(cli_app, ["--quiet", "eval", str(run), "--mode", "dev", "--tasks", "stsb"])
    assert res.exit_code == 0, res.output
    data = json.loads((run / "eval_dev.json").read_text())
    assert data["pooler"] == "mean" and data["tasks"]["stsb"]["pairs"] == 1500
    assert data["tasks"]["stsb"]["split"] == "dev"


def test_config_file_sets_defaults(runner, cli_app, data_root: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("eval:\n  tasks: sts13\n  batch_size: 16\n")
    res = runner.invoke(cli_app, ["--quiet", "eval", "tiny-bert", "--config", str(cfg), "--limit", "5", "--json", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data["tasks"]) == ["sts13"] and data["meta"]["batch_size"] == 16


def test_errors_are_one_line_exit_2(runner, cli_app, data_root: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SNCSE_DATA", str(data_root))  # --data-root below rewrites it; restore afterwards
    bad = runner.invoke(cli_app, ["eval", "tiny-bert", "--tasks", "sts17"])
    assert bad.exit_code == 2 and "unknown task 'sts17'" in bad.output
    dev = runner.invoke(cli_app, ["eval", "tiny-bert", "--mode", "dev", "--tasks", "sts12"])
    assert dev.exit_code == 2 and "dev" in dev.output
    missing = runner.invoke(cli_app, ["--data-root", str(tmp_path), "eval", "tiny-bert"])
    assert missing.exit_code == 2
    assert "evaluation data missing" in missing.output and "sncse data download" in missing.output
    fmt = runner.invoke(cli_app, ["eval", "tiny-bert", "--format", "csv"])
    assert fmt.exit_code == 2
