"""OnnxEncoder on a real model: all-MiniLM-L6-v2 (mean pooling) exported to ONNX gives torch's embeddings
through the same encode / similarity API, and `sncse eval` runs on an ONNX folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sncse
from sncse.encoders import SentenceEncoder
from sncse.encoders.onnx_runtime import OnnxEncoder
from sncse.encoders.resolve import resolve_model_path
from sncse.errors import SncseError
from sncse.export import export

# one word, ordinary sentences, a paragraph, and one far past MiniLM's 256-token limit
SENTENCES = ["Hi", "A man is playing a guitar.", "A man is not playing a guitar.", "A woman is slicing an onion.",
             "Two dogs run through a snowy field while a child throws a red ball for them to catch.",
             " ".join(["The committee discussed the budget, the schedule and the new building."] * 12),
             " ".join(["people"] * 600)]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    """(torch SentenceEncoder, OnnxEncoder) of MiniLM with its own mean pooling."""
    out = tmp_path_factory.mktemp("onnx") / "minilm"
    result = export("minilm", out, "onnx")
    assert result.pooler == "mean" and result.verification["max_abs_diff"] < 1e-4
    return sncse.load("minilm", device="cpu"), sncse.load(str(out))


def test_minilm_onnx_equals_torch(minilm):
    torch_model, onnx_model = minilm
    assert isinstance(onnx_model, OnnxEncoder) and onnx_model.hidden_size == 384
    assert resolve_model_path(str(onnx_model.path)).kind == "onnx"
    # very different lengths in one batch, and in batches of two
    for batch_size in (len(SENTENCES), 2):
        a = torch_model.encode(SENTENCES, batch_size=batch_size, normalize=True, show_progress=False)
        b = onnx_model.encode(SENTENCES, batch_size=batch_size, normalize=True, show_progress=False)
        assert np.abs(a - b).max() < 1e-4


def test_over_long_sentence_is_truncated_as_in_torch(minilm):
    torch_model, onnx_model = minilm
    long = SENTENCES[-1]
    limit = torch_model.inference_max_length
    assert onnx_model.inference_max_length == limit == 256
    ids = onnx_model.tokenize([long], max_length=limit)[0]
    assert ids == torch_model.tokenize([long], max_length=limit)[0] and len(ids) == limit
    assert ids[-1] == onnx_model.tokenizer.sep_token_id  # cut before [SEP], as the tokenizer does
    e = onnx_model.encode([long, long + " and then some more words"], show_progress=False)
    assert np.abs(e[0] - e[1]).max() == 0.0
    t = torch_model.encode([long], show_progress=False)
    assert np.abs(unit(t) - unit(e[:1])).max() < 1e-4


def test_encode_api_matches_sentence_encoder(minilm):
    torch_model, onnx_model = minilm
    batch = ["b sentence", "a much longer sentence than the others here", "b sentence", "c"]
    out = onnx_model.encode(batch, batch_size=2, show_progress=False)
    assert out.shape == (4, 384) and out.dtype == np.float32
    assert np.array_equal(out[0], out[2])  # a repeated sentence: encoded once, returned twice
    alone = onnx_model.encode(["c"], show_progress=False)
    assert np.abs(alone[0] - out[3]).max() < 1e-5  # input order kept through the length sort
    assert not np.allclose(np.linalg.norm(out, axis=1), 1.0)
    normed = onnx_model.encode(batch, normalize=True, show_progress=False)
    assert np.allclose(np.linalg.norm(normed, axis=1), 1.0, atol=1e-6)
    as_torch = onnx_model.encode(batch, convert_to="torch", show_progress=False)
    assert isinstance(as_torch, torch.Tensor) and torch.equal(as_torch, torch.from_numpy(out))
    assert onnx_model.encode([], show_progress=False).shape == (0, 384)
    with pytest.raises(TypeError):
        onnx_model.encode("one string", show_progress=False)
    a, b = ["A man is playing a guitar."], ["A man plays the guitar.", "A dog runs in the park."]
    sim = onnx_model.similarity(a, b)
    assert sim.shape == (1, 2) and sim[0, 0] > sim[0, 1]
    assert np.abs(sim - torch_model.similarity(a, b)).max() < 1e-4


def test_the_pooler_is_part_of_the_graph(minilm):
    _, onnx_model = minilm
    assert sncse.load(str(onnx_model.path), pooler="mean").pooler_name == "mean"
    with pytest.raises(SncseError, match="part of this ONNX graph"):
        sncse.load(str(onnx_model.path), pooler="cls")
    with pytest.raises(SncseError, match="onnxruntime"):
        SentenceEncoder.load(str(onnx_model.path))


def test_eval_runs_on_an_onnx_folder(minilm, runner, cli_app, tmp_path, data_root):
    import json

    torch_model, onnx_model = minilm
    from sncse.eval.runner import run_eval

    ours = run_eval(onnx_model.path, tasks="stsb", limit=200, show_progress=False)
    theirs = run_eval(torch_model, tasks="stsb", limit=200, show_progress=False)
    assert abs(ours["tasks"]["stsb"]["spearman"] - theirs["tasks"]["stsb"]["spearman"]) < 0.01
    target = tmp_path / "eval.json"
    result = runner.invoke(cli_app, ["eval", str(onnx_model.path), "--tasks", "stsb", "--limit", "50",
                                     "--json", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["tasks"]["stsb"]["pairs"] == 50
