"""`sncse export`: formats, atomic writes, refusing to overwrite, the model card."""

from __future__ import annotations

import json

import numpy as np
import pytest

import sncse
from sncse.export import api


def test_cli_exports_sentence_transformers(runner, cli_app, make_run, tmp_path):
    run = make_run(pooler="prompt")
    out = tmp_path / "exported"
    result = runner.invoke(cli_app, ["export", str(run), "-o", str(out), "--json", "-"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["format"] == "sentence-transformers" and info["pooler"] == "prompt" and info["head"] == "dropped"
    assert info["verification"]["token_ids_match"] is True
    for name in ("modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
                 "1_WordWeights/config.json", "2_Pooling/config.json", "README.md", "sncse_model.json",
                 "config.json", "model.safetensors", "chat_template.jinja"):
        assert (out / name).is_file(), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dir left behind


def test_cli_refuses_non_empty_target_unless_overwrite(runner, cli_app, make_run, tmp_path):
    run = make_run(pooler="mean")
    out = tmp_path / "exported"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    result = runner.invoke(cli_app, ["export", str(run), "-o", str(out)])
    assert result.exit_code == 2
    assert "not empty" in result.output and (out / "keep.txt").exists()
    result = runner.invoke(cli_app, ["export", str(run), "-o", str(out), "--overwrite", "--no-verify"])
    assert result.exit_code == 0, result.output
    assert not (out / "keep.txt").exists() and (out / "modules.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_empty_target_directory_is_fine(make_run, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert sncse.export.export(make_run(), out, verify=False).path == out
    assert (out / "modules.json").exists()


def test_failure_leaves_nothing(monkeypatch, make_run, tmp_path):
    run = make_run()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(api, "model_card", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        api.export(run, tmp_path / "out", verify=False)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_bad_format_and_target_are_usage_errors(runner, cli_app, make_run, tmp_path):
    run = make_run()
    result = runner.invoke(cli_app, ["export", str(run), "-o", str(tmp_path / "x"), "--format", "onnx"])
    assert result.exit_code == 2 and "unknown export format" in result.output
    (tmp_path / "file").write_text("x")
    result = runner.invoke(cli_app, ["export", str(run), "-o", str(tmp_path / "file")])
    assert result.exit_code == 2 and "not a directory" in result.output
    result = runner.invoke(cli_app, ["export", str(tmp_path / "missing"), "-o", str(tmp_path / "y")])
    assert result.exit_code == 2


def test_hf_format(make_run, tmp_path):
    from transformers import AutoModel

    run = make_run(pooler="prompt", mlp="train")
    result = sncse.export.export(run, tmp_path / "hf", "hf")
    assert result.format == "hf" and result.verification is None
    files = set(result.files)
    assert {"config.json", "model.safetensors", "sncse_model.json", "README.md"} <= files
    assert "modules.json" not in files and "sncse_head.safetensors" not in files
    assert json.loads((result.path / "sncse_model.json").read_text())["mlp"] == "none"
    AutoModel.from_pretrained(str(result.path))  # a plain Hugging Face folder
    sentences = ["a man plays a guitar", "nobody plays"]
    a = sncse.load(str(run), device="cpu").encode(sentences, show_progress=False)
    b = sncse.load(str(result.path), device="cpu").encode(sentences, show_progress=False)
    assert np.abs(a - b).max() < 1e-6


def test_model_card_contents(make_run, tmp_path):
    run = make_run(pooler="prompt", loss="bml")
    card = sncse.export.export(run, tmp_path / "out", verify=False).path.joinpath("README.md").read_text()
    assert "library_name: sentence-transformers" in card
    assert "base encoder: `tiny-bert`" in card
    assert "alpha (BML lower margin) | 0.1" in card and "beta (BML upper margin) | 0.3" in card
    assert "lambda (BML weight) | 0.001" in card
    assert "| STS12 | STS13 | STS14 | STS15 | STS16 | STS-B | SICK-R | Avg. |" in card
    assert "| 11.11 | 22.22 | 33.33 | 44.44 | 55.55 | 66.66 | 77.77 | 44.43 |" in card
    assert "Best STS-B development score during training: 42.25 (step 250)" in card
    assert "optimizer steps | 250" in card and "corpus/wiki1m_head.txt" in card
    for key in ("wang2022sncse", "gao2021simcse", "jiang2022promptbert", "reimers2019sbert"):
        assert key in card
    assert "zhang2022mixcse" not in card
    assert f"Trained with sncse {sncse.__version__}, exported with sncse {sncse.__version__}." in card


def test_model_card_mixcse_unevaluated(make_run, tmp_path):
    run = make_run(pooler="cls", loss="mixcse", evaluated=False, name="mix")
    card = sncse.export.export(run, tmp_path / "out", "hf").path.joinpath("README.md").read_text()
    assert "zhang2022mixcse" in card and "gao2021simcse" in card and "wang2022sncse" not in card
    assert "MixCSE lambda | 0.2" in card
    assert "no `eval_test.json`" in card
    assert "library_name: transformers" in card


def test_export_of_a_plain_saved_model(tiny_backbone, tmp_path):
    from sncse.encoders import SentenceEncoder

    backbone, tokenizer = tiny_backbone
    saved = SentenceEncoder(backbone, tokenizer, pooler="mean", mlp="none").save(tmp_path / "saved")
    result = sncse.export.export(saved, tmp_path / "out")
    assert result.source_kind == "model" and result.head == "none"
    assert "No run directory" in (result.path / "README.md").read_text()
