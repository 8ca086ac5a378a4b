"""SentenceEncoder on a real (tiny, random) BERT forward: poolers, prompts, head, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sncse
from sncse.encoders import SentenceEncoder
from sncse.errors import SncseError

LONG = " ".join(["people"] * 80)


def encoder(tiny_backbone, **kw) -> SentenceEncoder:
    backbone, tokenizer = tiny_backbone
    return SentenceEncoder(backbone, tokenizer, **kw).eval()


def test_prompt_truncates_sentence_never_template(tiny_backbone):
    model = encoder(tiny_backbone, pooler="prompt", max_length=32)
    tok = model.tokenizer
    for view in ("original", "view"):
        (ids,) = model.tokenize([LONG], view=view)
        assert len(ids) == 32
        tokens = tok.convert_ids_to_tokens(ids)
        assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
        assert tokens.count("[MASK]") == 1
        assert tokens[-5:-1] == ['"', "means", "[MASK]", "."]  # the template's tail survives
        # the template words before the sentence survive the truncation
        assert tokens[1:3] == ["this", "sentence"]
    orig = tok.convert_ids_to_tokens(model.tokenize(["a cat"], view="original")[0])
    view = tok.convert_ids_to_tokens(model.tokenize(["a cat"], view="view")[0])
    assert ":" in orig and "of" in view and ":" not in view


def test_prompt_pooler_reads_the_mask_position(tiny_backbone):
    model = encoder(tiny_backbone, pooler="prompt", mlp="none")
    batch = model.collate(model.tokenize(["a short one", "a much longer sentence than the first one"]))
    with torch.no_grad():
        out = model.backbone(**batch)
        emb = model(**batch)
    mask_pos = (batch["input_ids"] == model.tokenizer.mask_token_id).nonzero()
    for row, col in mask_pos.tolist():
        assert torch.allclose(emb[row], out.last_hidden_state[row, col])


def test_prompt_pooler_rejects_sequences_without_one_mask(tiny_backbone):
    model = encoder(tiny_backbone, pooler="prompt")
    batch = model.collate(model.tokenize(["x"], view="original"))
    batch["input_ids"][batch["input_ids"] == model.tokenizer.mask_token_id] = model.tokenizer.unk_token_id
    with pytest.raises(ValueError, match="expected 1"):
        model(**batch)


def test_prompt_template_must_leave_room(tiny_backbone):
    model = encoder(tiny_backbone, pooler="prompt", max_length=8)
    with pytest.raises(SncseError, match="no room"):
        model.tokenize(["a cat"])


@pytest.mark.parametrize("pooler", ["cls", "cls_before_pooler", "mean", "avg_first_last", "prompt"])
def test_head_only_in_training_and_encode_matches_forward(tiny_backbone, pooler):
    torch.manual_seed(0)
    model = encoder(tiny_backbone, pooler=pooler, mlp="train")
    sentences = ["a man plays a guitar", "the cat sat on the mat", "a man plays a guitar"]
    emb = model.encode(sentences, batch_size=2, show_progress=False)
    assert emb.shape == (3, 64) and emb.dtype == np.float32
    assert np.allclose(emb[0], emb[2])  # duplicates encoded once, returned in input order
    batch = model.collate(model.tokenize(sentences[:2], max_length=model.inference_max_length))
    with torch.no_grad():
        eval_out = model(**batch)
        model.train()
        model.backbone.eval()  # no dropout, so only the head differs
        train_out = model(**batch)
    assert np.allclose(emb[:2], eval_out.numpy(), atol=1e-5)
    assert torch.allclose(train_out, model.head(eval_out), atol=1e-6)


def test_save_and_load_round_trip(tiny_backbone, tmp_path):
    model = encoder(tiny_backbone, pooler="prompt", mlp="always", max_length=24)
    with torch.no_grad():
        model.head.dense.bias.fill_(0.25)
    model.save(tmp_path / "m")
    loaded = sncse.load(str(tmp_path / "m"), device="cpu")
    assert (loaded.pooler_name, loaded.mlp, loaded.max_length) == ("prompt", "always", 24)
    sents = ["it is raining", "it is not raining"]
    assert np.allclose(model.encode(sents, show_progress=False), loaded.encode(sents, show_progress=False), atol=1e-6)
    # a run directory resolves to its best/ checkpoint; the pooler can be overridden
    (tmp_path / "run").mkdir()
    model.save(tmp_path / "run" / "best")
    assert sncse.load(str(tmp_path / "run"), pooler="mean", device="cpu").pooler_name == "mean"


def test_similarity_matrix(tiny_backbone):
    model = encoder(tiny_backbone, pooler="mean")
    sim = model.similarity(["a dog runs", "a dog runs"], ["a dog runs", "stocks fell"])
    assert sim.shape == (2, 2)
    assert sim[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert sim[0, 1] < 1.0


def test_load_errors(tmp_path):
    with pytest.raises(SncseError, match="not a model directory"):
        sncse.load(str(tmp_path))
    with pytest.raises(SncseError, match="model not found"):
        sncse.load(str(tmp_path / "missing-model"))


def test_local_minilm_loads_as_sentence_transformers_folder():
    model = sncse.load("minilm", device="cpu")
    assert model.pooler_name == "mean" and model.head is None
    assert model.inference_max_length == 256
    sim = model.similarity(["A man is playing a guitar."], ["A man plays guitar.", "The stock market fell."])
    assert sim[0, 0] > 0.8 > sim[0, 1]


def test_sentence_transformers_pooling_mode_key(tmp_path):
    """Folders written by sentence-transformers >= 5 name the pooling in one `pooling_mode` key."""
    import json

    from sncse.encoders.resolve import resolve_model_path

    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    for mode, pooler in (("mean", "mean"), ("cls", "cls_before_pooler")):
        (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": mode}))
        assert resolve_model_path(str(tmp_path)).meta["pooler"] == pooler
