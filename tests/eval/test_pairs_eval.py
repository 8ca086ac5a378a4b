"""`sncse eval --pairs`: a user's file scored by the STS-B code path, in the same JSON and table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


@pytest.fixture()
def stsb_as_user_files(data_root: Path, tmp_path: Path) -> list[Path]:
    """STS-B test rewritten as a user would: TSV, CSV (quoting where needed) and JSONL, with headers."""
    src = data_root / "senteval" / "downstream" / "STS" / "STSBenchmark" / "sts-test.csv"
    rows = [line.strip().split("\t") for line in src.read_text(encoding="utf-8").split("\n") if line.strip()]
    rows = [(r[5], r[6], r[4]) for r in rows]
    tsv, scv, jsonl = tmp_path / "mine.tsv", tmp_path / "mine_csv.csv", tmp_path / "mine_jsonl.jsonl"
    tsv.write_text("sentence1\tsentence2\tscore\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    with open(scv, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["s1", "s2", "score"])
        writer.writerows(rows)
    jsonl.write_text("".join(json.dumps({"a": a, "b": b, "gold": float(s)}) + "\n" for a, b, s in rows),
                     encoding="utf-8")
    return [tsv, scv, jsonl]


def test_stsb_as_user_files_scores_exactly_like_builtin_stsb(runner, cli_app, stsb_as_user_files):
    tsv, scv, jsonl = stsb_as_user_files
    res = runner.invoke(cli_app, ["--quiet", "eval", "tiny-bert", "--tasks", "stsb", "--pairs", str(tsv),
                                  "--pairs", str(scv), "--json", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data["tasks"]) == ["stsb", "mine", "mine_csv"]
    builtin = data["tasks"]["stsb"]
    for name in ("mine", "mine_csv"):
        own = data["tasks"][name]
        assert own["pairs"] == builtin["pairs"] == 1379
        assert own["spearman"] == builtin["spearman"] and own["pearson"] == builtin["pearson"]
        assert own["split"] == "file" and own["skipped_rows"] == 0
    assert data["avg"] == builtin["spearman"]  # the average stays over the built-in tasks
    assert data["meta"]["pairs"] == [str(tsv), str(scv)]
    # other column names (JSONL keys), and --pairs alone evaluates only the file
    res = runner.invoke(cli_app, ["--quiet", "eval", "tiny-bert", "--pairs", str(jsonl), "--columns", "a,b,gold",
                                  "--json", "-"])
    assert res.exit_code == 0, res.output
    data2 = json.loads(res.stdout)
    assert list(data2["tasks"]) == ["mine_jsonl"] and data2["avg"] is None and data2["published"] == []
    assert data2["tasks"]["mine_jsonl"]["spearman"] == builtin["spearman"]


def test_table_and_bad_rows(runner, cli_app, data_root, tmp_path):
    path = tmp_path / "dev.tsv"
    path.write_text("sentence1\tsentence2\tscore\na man sings .\ta man is singing .\t4.5\n"
                    "a cat .\ta car .\tn/a\nkids play .\tchildren play .\t4\nthe sky .\train falls .\t0.5\n",
                    encoding="utf-8")
    bad = runner.invoke(cli_app, ["eval", "tiny-bert", "--pairs", str(path)])
    assert bad.exit_code == 2
    assert f"{path}:3: score 'n/a' in column 'score' is not a number" in bad.output
    ok = runner.invoke(cli_app, ["--quiet", "eval", "tiny-bert", "--pairs", str(path), "--skip-bad-rows"])
    assert ok.exit_code == 0, ok.output
    assert "Own pairs - Spearman x100" in ok.output
    out = tmp_path / "r.json"
    ok = runner.invoke(cli_app, ["--quiet", "eval", "tiny-bert", "--pairs", str(path), "--skip-bad-rows",
                                 "--json", str(out)])
    row = json.loads(out.read_text())["tasks"]["dev"]
    assert row["pairs"] == 3 and row["skipped_rows"] == 1 and row["file"] == str(path)
    clash = runner.invoke(cli_app, ["eval", "tiny-bert", "--tasks", "stsb", "--pairs", str(path.rename(tmp_path / "stsb.tsv"))])
    assert clash.exit_code == 2 and "also a built-in task" in clash.output


def test_a_run_dir_keeps_its_sts_result_when_only_pairs_are_scored(runner, cli_app, data_root, tmp_path,
                                                                    tiny_backbone):
    from sncse.encoders import SentenceEncoder

    backbone, tokenizer = tiny_backbone
    run = tmp_path / "run"
    SentenceEncoder(backbone, tokenizer, pooler="mean", mlp="none").save(run / "best")
    (run / "eval_test.json").write_text('{"tasks": {"stsb": {"spearman": 50.0}}, "avg": 50.0}\n')
    pairs = tmp_path / "mine.jsonl"
    pairs.write_text('{"s1": "a man sings", "s2": "a man is singing", "score": 5}\n'
                     '{"s1": "a cat", "s2": "the stock market fell", "score": 0}\n'
                     '{"s1": "kids play", "s2": "children play", "score": 4}\n', encoding="utf-8")
    res = runner.invoke(cli_app, ["--quiet", "eval", str(run), "--pairs", str(pairs)])
    assert res.exit_code == 0, res.output
    assert json.loads((run / "eval_test.json").read_text())["avg"] == 50.0
    assert list(json.loads((run / "eval_pairs.json").read_text())["tasks"]) == ["mine"]
