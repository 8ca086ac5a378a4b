"""`train.dev_file` / `--dev-file`: checkpoint selection on the user's own scored pairs."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY = str(REPO / "configs" / "tiny.yaml")


def _records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def _stsb_dev_as_tsv(path: Path) -> Path:
    from sncse.eval.sts import load_tasks

    (task,) = load_tasks(["stsb"], mode="dev")
    s1, s2, gold = task.all_pairs()
    rows = zip(s1, s2, (repr(float(g)) for g in gold), strict=True)  # TSV fields are literal: no quoting
    path.write_text("sentence1\tsentence2\tscore\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_selection_on_a_file_of_stsb_dev_matches_selection_on_stsb_dev(runner, cli_app, tmp_path, sets,
                                                                      negations_file, data_root) -> None:
    """STS-B dev written out as a user's TSV selects the same checkpoint by the same scores as the built-in
    STS-B dev, and every selection record names the file it was computed on."""
    dev = _stsb_dev_as_tsv(tmp_path / "my_dev.tsv")
    common = ["-q", "train", "-c", TINY, "--loss", "bml", "--pooler", "prompt", "--data", str(negations_file),
              *sets("train.eval_steps=2", "train.max_steps=4", "train.eval_limit=null", "optim.lr=1e-3")]
    res = runner.invoke(cli_app, [*common, "-o", str(tmp_path / "builtin")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli_app, [*common, "-o", str(tmp_path / "own"), "--dev-file", str(dev), "--json", "-"])
    assert res.exit_code == 0, res.output
    own = json.loads(res.stdout)
    builtin = json.loads((tmp_path / "builtin" / "results.json").read_text())

    builtin_curve = {r["step"]: r["dev_stsb"] for r in _records(tmp_path / "builtin") if "dev_stsb" in r}
    own_evals = [r for r in _records(tmp_path / "own") if "dev_file" in r]
    assert [r["step"] for r in own_evals] == [2, 4]
    assert all(r["dev_file"] == str(dev) and "dev_stsb" not in r for r in own_evals)
    assert {r["step"]: r["dev_my_dev"] for r in own_evals} == builtin_curve
    assert builtin_curve[2] != builtin_curve[4]  # the choice between the checkpoints is a real one
    assert own["dev_file"] == str(dev) and own["dev_metric"] == "dev_my_dev" and own["best_dev_stsb"] is None
    assert own["best_dev"] == builtin["best_dev_stsb"] and own["best_step"] == builtin["best_step"]
    assert (tmp_path / "own" / "best").is_dir()


def test_a_bad_dev_file_row_stops_before_training(runner, cli_app, tmp_path, sets, negations_file) -> None:
    dev = tmp_path / "dev.tsv"
    dev.write_text("sentence1\tsentence2\tscore\na cat\ta dog\t3.5\na bird\ta fish\thigh\n", encoding="utf-8")
    out = tmp_path / "run"
    res = runner.invoke(cli_app, ["-q", "train", "-c", TINY, "--data", str(negations_file), "-o", str(out),
                                  "--dev-file", str(dev), *sets("train.eval_steps=2", "train.max_steps=2")])
    assert res.exit_code == 2
    assert f"{dev}:3" in res.output and "high" in res.output
    assert not (out / "last").exists()


def test_a_dev_file_without_dev_evaluation_is_a_config_error(runner, cli_app, tmp_path, sets, negations_file) -> None:
    dev = tmp_path / "dev.tsv"
    dev.write_text("s1\ts2\tscore\na\tb\t1\nc\td\t2\n", encoding="utf-8")
    res = runner.invoke(cli_app, ["-q", "train", "-c", TINY, "--data", str(negations_file), "-o",
                                  str(tmp_path / "run"), "--dev-file", str(dev), *sets("train.eval_steps=0")])
    assert res.exit_code == 2
    assert "train.dev_file" in res.output and "eval_steps" in res.output
