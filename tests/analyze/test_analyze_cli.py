"""`sncse analyze` end to end on the tiny model: --top, --sweep, --negation, option errors."""

from __future__ import annotations

import csv
import json

import pytest
from analyze_runs import write_sweep_run

from sncse.data.senteval import load_sts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_top_json_csv_and_out(runner, cli_app, tiny_model_dir, data_root, tmp_path):
    pairs = load_sts("sts16").pairs  # 1,186 in the full data
    js, cs, out = tmp_path / "top.json", tmp_path / "top.csv", tmp_path / "out"
    result = runner.invoke(cli_app, ["analyze", str(tiny_model_dir), "--top", "4", "sts16", "--device", "cpu",
                                     "--json", str(js), "--csv", str(cs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "largest rank error" in result.stdout and "heuristic tags" in result.stdout
    data = json.loads(js.read_text())
    assert data["task"] == "sts16" and len(data["pairs"]) == 4 and data["n_pairs"] == pairs
    first = data["pairs"][0]
    assert {"sentence1", "sentence2", "gold", "cosine", "rank_gold", "rank_est", "error", "tags"} <= set(first)
    assert first["error"] == pytest.approx((first["rank_est"] - first["rank_gold"]) ** 2)
    assert [p["error"] for p in data["pairs"]] == sorted((p["error"] for p in data["pairs"]), reverse=True)
    rows = list(csv.DictReader(cs.open()))
    assert len(rows) == 4 and rows[0]["sentence1"] == first["sentence1"]
    all_rows = list(csv.DictReader((out / "errors_sts16_test.csv").open()))
    assert len(all_rows) == pairs


def test_top_json_to_stdout(runner, cli_app, tiny_model_dir, data_root):
    result = runner.invoke(cli_app, ["analyze", str(tiny_model_dir), "--top", "2", "sickr", "--split", "dev",
                                     "--device", "cpu", "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["split"] == "dev" and data["n_pairs"] == load_sts("sickr", "dev").pairs  # 500 in the full data


@pytest.mark.parametrize("args, message", [
    (["--top", "3"], "one MODEL and one TASK"),
    (["m", "--top", "3", "nosuchtask"], "unknown STS task"),
    (["m", "--negation", "--sweep"], "exactly one of"),
    ([], "exactly one of"),
    (["--sweep"], "at least one run directory"),
])
def test_usage_errors(runner, cli_app, args, message):
    result = runner.invoke(cli_app, ["analyze", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_sweep_cli(runner, cli_app, tmp_path):
    runs = [write_sweep_run(tmp_path, f"r{i}", a, 0.3, 1e-3, dev=70.0 + i) for i, a in enumerate((0.0, 0.1, 0.2))]
    out = tmp_path / "plots"
    result = runner.invoke(cli_app, ["analyze", "--sweep", *map(str, runs), "--out", str(out),
                                     "--json", str(tmp_path / "s.json"), "--csv", str(tmp_path / "s.csv")])
    assert result.exit_code == 0, result.output
    assert "r2" in result.stdout and "72" in result.stdout
    assert (out / "sweep.png").read_bytes()[:8] == PNG_MAGIC
    data = json.loads((tmp_path / "s.json").read_text())
    assert [r["alpha"] for r in data["runs"]] == [0.0, 0.1, 0.2]
    assert len(list(csv.DictReader((tmp_path / "s.csv").open()))) == 3


def test_negation_cli(runner, cli_app, tiny_model_dir, data_root, tmp_path):
    pytest.importorskip("sncse.negation.spacy_backend")
    out = tmp_path / "neg"
    result = runner.invoke(cli_app, ["analyze", str(tiny_model_dir), str(tiny_model_dir), "--negation", "--n", "60",
                                     "--device", "cpu", "--out", str(out), "--json", str(tmp_path / "n.json")])
    assert result.exit_code == 0, result.output
    png = (out / "negation_similarity.png").read_bytes()
    assert png[:8] == PNG_MAGIC and len(png) > 10_000
    data = json.loads((tmp_path / "n.json").read_text())
    assert len(data["models"]) == 2 and data["pairs"] >= 40
    assert data["models"][0]["soft_negative"]["mean"] == pytest.approx(data["models"][1]["soft_negative"]["mean"])
    assert any(" not " in e["negation"] or e["negation"].startswith("Not") for e in data["examples"])


def test_negation_from_pairs_equals_negating_here(runner, cli_app, tiny_model_dir, data_root, tmp_path):
    """`--pairs FILE` (a `sncse negate` output of the sampled sentences) gives exactly what `--n N --seed S`
    gives by negating in the process: the analysis can then run where no negator is installed."""
    from sncse.analyze.negation_sim import sample_sentences
    from sncse.negation.driver import negate_file

    n, seed = 40, 3
    sentences = tmp_path / "analysis.txt"
    sentences.write_text("".join(s + "\n" for s in sample_sentences(n, seed=seed)), encoding="utf-8")
    pairs = tmp_path / "analysis.negations.jsonl"
    negate_file(sentences, pairs, workers=1)

    here, ahead = tmp_path / "here.json", tmp_path / "ahead.json"
    args = [str(tiny_model_dir), "--negation", "--seed", str(seed), "--device", "cpu"]
    result = runner.invoke(cli_app, ["-q", "analyze", *args, "--n", str(n), "--out", str(tmp_path / "a"),
                                     "--json", str(here)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli_app, ["-q", "analyze", *args, "--pairs", str(pairs), "--out", str(tmp_path / "b"),
                                     "--json", str(ahead), "--csv", str(tmp_path / "b.csv")])
    assert result.exit_code == 0, result.output
    a, b = json.loads(here.read_text()), json.loads(ahead.read_text())
    for key in ("negator", "requested", "pairs", "dropped_skipped", "dropped_unchanged", "models", "examples"):
        assert a[key] == b[key], key
    assert a["negator"] == "spacy (faithful)" and b["negations_from"] == str(pairs)
    assert (tmp_path / "b" / "negation_similarity.png").read_bytes()[:8] == PNG_MAGIC
    rows = list(csv.DictReader((tmp_path / "b.csv").open()))
    assert float(rows[0]["soft_negative_mean"]) == pytest.approx(b["models"][0]["soft_negative"]["mean"])


def test_negation_pairs_errors(runner, cli_app, tiny_model_dir, tmp_path):
    bad = tmp_path / "bad.negations.jsonl"
    bad.write_text('["a dog barks .", "a dog does not bark ."]\n{"x": 1}\n', encoding="utf-8")
    result = runner.invoke(cli_app, ["analyze", str(tiny_model_dir), "--negation", "--pairs", str(bad),
                                     "--device", "cpu", "--out", str(tmp_path)])
    assert result.exit_code == 2 and f"{bad}:2:" in result.output
    for extra in (["--n", "10"], ["--negator", "spacy"]):
        result = runner.invoke(cli_app, ["analyze", str(tiny_model_dir), "--negation", "--pairs", str(bad), *extra])
        assert result.exit_code == 2 and f"drop {extra[0]}" in result.output
    result = runner.invoke(cli_app, ["analyze", "--sweep", str(tmp_path), "--pairs", str(bad)])
    assert result.exit_code == 2 and "--pairs goes with --negation" in result.output
