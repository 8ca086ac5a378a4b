"""ONNX export on the tiny random BERT: every pooler's graph returns the pooled embedding torch computes,
the training-only head is dropped, int8 quantization and its STS check, and a graph that does not
reproduce the model is refused."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import sncse
from sncse.encoders.onnx_runtime import OnnxEncoder
from sncse.errors import SncseError
from sncse.export import api, export
from sncse.export import onnx as onnx_export

# one word to 300 words in the same batch; the last one is longer than the tiny model's 128 tokens
SENTENCES = ["Hi", "A man is playing a guitar.", "A man is not playing a guitar.", "two dogs run through a field",
             "The cat sat on the mat , and then it left .", " ".join(["people walk"] * 40),
             " ".join(["people"] * 300)]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize(("pooler", "normalize"), [("cls", False), ("cls_before_pooler", False), ("mean", True),
                                                   ("avg_first_last", False), ("prompt", False), ("prompt", True)])
def test_every_pooler_exports_the_pooled_embedding(make_run, tmp_path, pooler, normalize):
    run = make_run(pooler=pooler, mlp="train")
    result = export(run, tmp_path / "out", "onnx", normalize=normalize)
    assert result.format == "onnx" and result.pooler == pooler and result.head == "dropped"
    assert result.verification["max_abs_diff"] < 1e-4 and result.verification["token_ids_match"] is True
    for name in ("model.onnx", "sncse_model.json", "tokenizer.json", "README.md"):
        assert (result.path / name).is_file(), name
    assert not (result.path / "sncse_head.safetensors").exists()
    meta = json.loads((result.path / "sncse_model.json").read_text())
    assert meta["pooler"] == pooler and meta["mlp"] == "none" and meta["onnx"]["normalize"] is normalize
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dir left behind

    torch_model = sncse.load(str(run), device="cpu")
    onnx_model = sncse.load(str(result.path))
    assert isinstance(onnx_model, OnnxEncoder) and onnx_model.pooler_name == pooler
    ours = torch_model.encode(SENTENCES, batch_size=len(SENTENCES), show_progress=False)
    theirs = onnx_model.encode(SENTENCES, batch_size=len(SENTENCES), show_progress=False)
    assert theirs.shape == ours.shape == (len(SENTENCES), 64) and theirs.dtype == np.float32
    assert np.abs(unit(ours) - unit(theirs)).max() < 1e-4
    if normalize:
        assert np.allclose(np.linalg.norm(theirs, axis=1), 1.0, atol=1e-5)
    else:
        assert np.abs(ours - theirs).max() < 1e-4 * np.abs(ours).max()


def test_prompt_graph_picks_the_mask_and_truncates_like_torch(make_run, tmp_path):
    run = make_run(pooler="prompt")
    path = export(run, tmp_path / "out", "onnx").path
    torch_model, onnx_model = sncse.load(str(run), device="cpu"), sncse.load(str(path))
    long = SENTENCES[-1]
    ids = onnx_model.tokenize([long], max_length=onnx_model.inference_max_length)[0]
    assert ids == torch_model.tokenize([long], max_length=torch_model.inference_max_length)[0]
    assert len(ids) == 128 and ids.count(onnx_model.tokenizer.mask_token_id) == 1  # sentence cut, template kept
    # sentences of very different lengths, batched together, in any batch size
    for batch_size in (1, 3, len(SENTENCES)):
        a = torch_model.encode(SENTENCES, batch_size=batch_size, show_progress=False)
        b = onnx_model.encode(SENTENCES, batch_size=batch_size, show_progress=False)
        assert np.abs(unit(a) - unit(b)).max() < 1e-4
    # everything past the limit is cut: a longer sentence gives the same vector
    c = onnx_model.encode([long, long + " and more words at the end"], show_progress=False)
    assert np.abs(c[0] - c[1]).max() == 0.0
    # the mask position is read from the ids: a second mask is refused, as in torch
    text = "a [MASK] inside the sentence"
    with pytest.raises(ValueError, match="mask"):
        torch_model.encode([text], show_progress=False)
    with pytest.raises(ValueError, match="mask"):
        onnx_model.encode([text], show_progress=False)


def test_mlp_always_keeps_the_head_in_the_graph(make_run, tmp_path):
    run = make_run(pooler="cls", mlp="always")
    result = export(run, tmp_path / "out", "onnx")
    assert result.head == "kept"
    assert json.loads((result.path / "sncse_model.json").read_text())["onnx"]["head"] == "kept"
    a = sncse.load(str(run), device="cpu").encode(SENTENCES, show_progress=False)
    b = sncse.load(str(result.path)).encode(SENTENCES, show_progress=False)
    assert np.all(np.abs(b) <= 1.0) and np.abs(a - b).max() < 1e-5  # tanh output, the same as torch


def test_export_refuses_a_graph_that_does_not_reproduce_the_model(monkeypatch, make_run, tmp_path):
    import onnx
    from onnx import numpy_helper

    real = onnx_export.export_graph

    def corrupted(model, path, normalize=False, opset=onnx_export.OPSET):
        real(model, path, normalize, opset)
        proto = onnx.load(str(path))
        init = max(proto.graph.initializer, key=lambda t: int(np.prod(t.dims)))  # the largest weight matrix
        weights = numpy_helper.to_array(init).copy()
        weights += np.random.default_rng(0).normal(0, 0.05, weights.shape).astype(weights.dtype)
        init.CopyFrom(numpy_helper.from_array(weights, init.name))
        onnx.save(proto, str(path))
        return path

    monkeypatch.setattr(onnx_export, "export_graph", corrupted)
    with pytest.raises(RuntimeError, match="does not reproduce"):
        export(make_run(pooler="mean"), tmp_path / "out", "onnx")
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_int8_quantization_and_sts_check(make_run, tmp_path, data_root):
    run = make_run(pooler="mean")
    result = export(run, tmp_path / "out", "onnx", quantize="int8", show_progress=False)
    info = result.onnx
    assert info["quantization"]["mode"] == "int8" and info["graph"]["integer_matmuls"] > 0
    assert info["quantization"]["int8_bytes"] < info["quantization"]["fp32_bytes"]
    assert info["quantization"]["min_cosine_to_fp32"] > 0.99
    sts = info["sts_check"]
    assert abs(sts["change"] - (sts["int8_avg"] - sts["fp32_avg"])) < 1e-9 and abs(sts["change"]) < 3
    assert sorted(p.name for p in result.path.glob("*.onnx")) == ["model.onnx"]  # the fp32 graph is not kept
    model = sncse.load(str(result.path))
    assert model.onnx_info["quantize"] == "int8"
    assert "int8" in (result.path / "README.md").read_text()


def test_sts_check_is_skipped_without_data(make_run, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SNCSE_DATA", str(tmp_path / "no-data"))
    result = export(make_run(pooler="cls"), tmp_path / "out", "onnx", quantize="int8")
    assert "missing" in result.onnx["sts_check"]["skipped"]
    assert "STS check skipped" in caplog.text
    assert (result.path / "model.onnx").is_file()
    result = export(make_run(pooler="cls", name="run2"), tmp_path / "out2", "onnx", quantize="int8", check=False)
    assert result.onnx["sts_check"] is None


def test_cli_exports_onnx_and_quantizes(runner, cli_app, make_run, tmp_path):
    run = make_run(pooler="prompt")
    out = tmp_path / "onnx"
    result = runner.invoke(cli_app, ["export", str(run), "-o", str(out), "--format", "onnx"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "(onnx, pooler prompt" in text and "verified" in text and "sncse.load(" in text
    result = runner.invoke(cli_app, ["export", str(run), "-o", str(out), "--format", "onnx", "--overwrite",
                                     "--quantize", "int8", "--no-check"])
    assert result.exit_code == 0, result.output
    assert "int8" in result.output and sncse.load(str(out)).onnx_info["quantize"] == "int8"


@pytest.mark.parametrize(("argv", "message"), [
    (["--quantize", "int8"], "onnx format only"),
    (["--format", "onnx", "--quantize", "int4"], "unknown quantization"),
])
def test_cli_bad_options(runner, cli_app, make_run, tmp_path, argv, message):
    result = runner.invoke(cli_app, ["export", str(make_run()), "-o", str(tmp_path / "x"), *argv])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "x").exists()


def test_missing_onnxruntime_is_a_one_line_error(runner, cli_app, make_run, tmp_path, monkeypatch):
    run = make_run()
    onnx_dir = export(run, tmp_path / "onnx", "onnx").path
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    result = runner.invoke(cli_app, ["export", str(run), "-o", str(tmp_path / "x"), "--format", "onnx"])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "sncse[onnx]" in result.output
    with pytest.raises(SncseError, match=r"sncse\[onnx\]"):
        sncse.load(str(onnx_dir))


def test_an_onnx_folder_is_not_an_export_source(make_run, tmp_path):
    onnx_dir = export(make_run(), tmp_path / "onnx", "onnx").path
    with pytest.raises(SncseError, match="onnxruntime"):
        api.export(onnx_dir, tmp_path / "again", "hf")
