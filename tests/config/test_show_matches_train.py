"""`sncse config show` and `sncse train` check a config in one place: what one rejects, the other
rejects with the same one-line error (values `train` alone used to catch included)."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY = str(Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml")


@pytest.mark.parametrize("override, message", [
    ("data.batching=sorted", "key 'data.batching': expected shuffle|bucket, got 'sorted'"),
    ("train.log_steps=0", "key 'train.log_steps': must be positive, got 0"),
    ("train.eval_steps=-1", "key 'train.eval_steps': must be >= 0, got -1"),
    ("model.pooler=maxpool", "key 'model.pooler': unknown pooler 'maxpool'"),
    ("loss.bml.alpha=0.5", "loss 'bml': alpha (0.5) must not exceed beta (0.3)"),
    ("loss.pl.form=both", "key 'loss.pl.form': expected code|joint, got 'both'"),
])
def test_show_rejects_what_train_rejects(runner, cli_app, tmp_path, override, message) -> None:
    args = ["-c", TINY, "--set", "loss.name=bml", "--set", override]
    shown = runner.invoke(cli_app, ["config", "show", *args])
    trained = runner.invoke(cli_app, ["train", *args, "-o", str(tmp_path / "run")])
    assert shown.exit_code == trained.exit_code == 2
    assert message in shown.output and shown.output.strip().splitlines()[-1] == trained.output.strip().splitlines()[-1]
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_show_accepts_the_documented_spellings(runner, cli_app) -> None:
    res = runner.invoke(cli_app, ["config", "show", "-c", TINY, "--set", "train.amp=off", "--set", "optim.fused=true"])
    assert res.exit_code == 0, res.output
    assert "amp: 'off'" in res.output and "fused: 'true'" in res.output
