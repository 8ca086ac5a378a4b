"""`sncse train` end to end on the tiny random BERT (CPU), one run per loss, and the run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[2]
TINY = str(REPO / "configs" / "tiny.yaml")


def run(runner, cli_app, *args: str):
    return runner.invoke(cli_app, ["-q", "train", *args])


@pytest.mark.parametrize("loss,pooler,data", [
    ("infonce", "cls", "text"),
    ("pl", "prompt", "negations"),
    ("nl", "prompt", "negations"),
    ("bml", "prompt", "negations"),
    ("mixcse", "cls", "negations"),
    ("sup", "cls", "triplets"),
])
def test_each_loss_trains(runner, cli_app, tmp_path, sets, loss, pooler, data, request) -> None:
    data_file = request.getfixturevalue(f"{data}_file")
    out = tmp_path / "run"
    res = run(runner, cli_app, "-c", TINY, "--loss", loss, "--pooler", pooler, "--data", str(data_file),
              "-o", str(out), "--json", "-", *sets())
    assert res.exit_code == 0, res.output
    results = json.loads(res.stdout)
    assert results["steps"] == 3 and results["loss"] == loss and results["sent_per_s"] > 0
    expected_views = {"infonce": ["anchor", "positive"], "mixcse": ["anchor", "positive"],
                      "sup": ["anchor", "positive", "hard_negative"]}.get(loss, ["anchor", "positive", "negation"])
    assert results["views"] == expected_views
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor(r["loss"])) and r["sent_per_s"] > 0 for r in records)
    parts = records[0]["parts"]
    if loss == "bml":
        assert set(parts) == {"infonce", "bml"}
        assert records[0]["loss"] == pytest.approx(parts["infonce"] + 1e-3 * parts["bml"], rel=1e-5)
    assert (out / "last" / "trainer_state.pt").exists() and not (out / "best").exists()
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["loss"]["name"] == loss and cfg["model"]["pooler"] == pooler and cfg["train"]["max_steps"] == 3
    info = json.loads((out / "run.json").read_text())
    assert info["world_size"] == 1 and info["versions"]["torch"] and info["command"][0] == "sncse"


def test_dev_eval_keeps_best_and_last_and_model_loads(runner, cli_app, tmp_path, sets, negations_file) -> None:
    import sncse

    out = tmp_path / "run"
    res = run(runner, cli_app, "-c", TINY, "--loss", "bml", "--pooler", "prompt", "--data", str(negations_file),
              "-o", str(out), "--json", "-", *sets("train.eval_steps=2", "train.max_steps=4", "train.eval_limit=40",
                                              "train.num_workers=1", "data.batching=bucket"))
    assert res.exit_code == 0, res.output
    results = json.loads(res.stdout)
    evals = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if "dev_stsb" in x]
    assert [e["step"] for e in evals] == [2, 4]
    assert results["best_dev_stsb"] == pytest.approx(max(e["dev_stsb"] for e in evals))
    assert results["best_step"] in (2, 4)
    assert sorted(p.name for p in out.iterdir()) == ["best", "config.yaml", "last", "metrics.jsonl", "results.json",
                                                     "run.json"]
    meta = json.loads((out / "best" / "sncse_model.json").read_text())
    assert meta["pooler"] == "prompt" and "{sentence}" in meta["template"]
    model = sncse.load(str(out), device="cpu")
    emb = model.encode(["a cat sat on the mat"], show_progress=False)
    assert emb.shape == (1, 64)


def test_the_score_a_run_selects_on_is_what_eval_dev_prints(runner, cli_app, tmp_path, sets,
                                                           negations_file) -> None:
    """`sncse train` keeps best/ by its STS-B dev score; `sncse eval RUN --mode dev` on that checkpoint
    prints the same number (full STS-B dev, SICK-R trial evaluated alongside)."""
    out = tmp_path / "run"
    res = run(runner, cli_app, "-c", TINY, "--loss", "bml", "--pooler", "prompt", "--data", str(negations_file),
              "-o", str(out), *sets("train.eval_steps=2", "train.max_steps=4", "train.eval_limit=null",
                                    "optim.lr=1e-3"))
    assert res.exit_code == 0, res.output
    results = json.loads((out / "results.json").read_text())
    evals = {r["step"]: r["dev_stsb"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
             if "dev_stsb" in r}
    assert sorted(evals) == [2, 4] and evals[2] != evals[4]  # the model changed: the choice is a real one
    assert results["best_dev_stsb"] == evals[results["best_step"]] == max(evals.values())
    res = runner.invoke(cli_app, ["-q", "eval", str(out), "--mode", "dev", "--json", "-"])
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    assert list(printed["tasks"]) == ["stsb", "sickr"] and printed["tasks"]["stsb"]["pairs"] == 1500
    assert round(printed["tasks"]["stsb"]["spearman"], 4) == results["best_dev_stsb"]


def test_plain_text_with_negation_loss_is_a_clear_error(runner, cli_app, tmp_path, sets, text_file) -> None:
    res = run(runner, cli_app, "-c", TINY, "--loss", "bml", "--data", str(text_file), "-o", str(tmp_path / "r"),
              *sets())
    assert res.exit_code == 2
    assert "needs soft negatives" in res.output and "sncse negate" in res.output


def test_sup_needs_triplets(runner, cli_app, tmp_path, sets, negations_file) -> None:
    res = run(runner, cli_app, "-c", TINY, "--loss", "sup", "--data", str(negations_file), "-o", str(tmp_path / "r"),
              *sets())
    assert res.exit_code == 2 and "NLI triplets" in res.output


def test_refuses_non_empty_dir_unless_resume_or_overwrite(runner, cli_app, tmp_path, sets, text_file) -> None:
    out = tmp_path / "run"
    args = ["-c", TINY, "--data", str(text_file), "-o", str(out), *sets()]
    assert run(runner, cli_app, *args).exit_code == 0
    res = run(runner, cli_app, *args)
    assert res.exit_code == 2 and "not empty" in res.output
    first = (out / "last" / "model.safetensors").read_bytes()
    res = run(runner, cli_app, *args, "--overwrite", "--set", "train.seed=3")
    assert res.exit_code == 0, res.output
    assert (out / "last" / "model.safetensors").read_bytes() != first
    # an evaluated run: its eval_<mode>.json describes the old model, so --overwrite removes it too
    res = runner.invoke(cli_app, ["-q", "eval", str(out), "--tasks", "stsb", "--limit", "5", "--pair-scores",
                                  str(out / "eval_test.pair_scores.json.gz")])
    assert res.exit_code == 0, res.output
    (out / "eval_test.json").write_text("{}")  # as a full `sncse eval RUN` leaves it
    res = run(runner, cli_app, *args, "--overwrite")
    assert res.exit_code == 0, res.output
    assert not [p.name for p in out.iterdir() if p.name.startswith("eval_")]
    stranger = tmp_path / "mine"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    res = run(runner, cli_app, "-c", TINY, "--data", str(text_file), "-o", str(stranger), "--overwrite", *sets())
    assert res.exit_code == 2 and (stranger / "notes.txt").exists()


def test_resume_of_finished_run_reads_its_config(runner, cli_app, tmp_path, sets, text_file) -> None:
    out = tmp_path / "run"
    assert run(runner, cli_app, "-c", TINY, "--data", str(text_file), "-o", str(out), *sets()).exit_code == 0
    before = (out / "last" / "model.safetensors").read_bytes()
    res = run(runner, cli_app, "-o", str(out), "--resume", "--json", "-")  # no --config: the run's config.yaml
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["steps"] == 3
    assert (out / "last" / "model.safetensors").read_bytes() == before


def test_set_beats_options_and_file(runner, cli_app, tmp_path, sets, text_file) -> None:
    out = tmp_path / "run"
    res = run(runner, cli_app, "-c", TINY, "--loss", "bml", "--data", str(text_file), "-o", str(out),
              *sets("loss.name=infonce", "model.pooler=mean"), "--pooler", "prompt")
    assert res.exit_code == 0, res.output
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["loss"]["name"] == "infonce" and cfg["model"]["pooler"] == "mean"
    assert cfg["data"]["train_file"] == str(text_file) and cfg["model"]["encoder"] == "tiny-bert"


def test_bad_override_and_bad_loss(runner, cli_app, tmp_path, sets) -> None:
    res = run(runner, cli_app, "-c", TINY, "-o", str(tmp_path / "r"), "--set", "train.bogus=1")
    assert res.exit_code == 2 and "train.bogus" in res.output
    res = run(runner, cli_app, "-c", TINY, "-o", str(tmp_path / "r"), "--loss", "nope", *sets())
    assert res.exit_code == 2 and "nope" in res.output
    res = run(runner, cli_app, "-c", TINY, "-o", str(tmp_path / "r"), "--set", "data.batching=sorted", *sets())
    assert res.exit_code == 2 and "data.batching" in res.output


def test_help_lists_options(runner, cli_app) -> None:
    res = runner.invoke(cli_app, ["train", "--help"])
    assert res.exit_code == 0
    for opt in ("--config", "--loss", "--encoder", "--pooler", "--data", "--output-dir", "--resume", "--set"):
        assert opt in res.output
