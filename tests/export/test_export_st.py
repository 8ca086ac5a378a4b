"""sentence-transformers export on the tiny random BERT: SentenceTransformer(DIR) loads offline and
reproduces sncse's embeddings (1e-5) and STS-B dev score (0.1) for every pooler."""

from __future__ import annotations

import json

import numpy as np
import pytest

import sncse
from sncse.export import export

LIMIT = 400
SENTENCES = ["A man is playing a guitar.", "A man is not playing a guitar.", "two dogs run through a field",
             "The cat sat on the mat , and then it left .", " ".join(["people"] * 200)]


def st_model(path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


@pytest.mark.parametrize("pooler", ["cls", "mean", "prompt", "avg_first_last"])
def test_export_reproduces_embeddings_and_sts(make_run, tmp_path, data_root, pooler):
    from sncse.eval.sts import evaluate_sts

    run = make_run(pooler=pooler, mlp="train")
    result = export(run, tmp_path / "out", "sentence-transformers")
    assert result.pooler == pooler and result.head == "dropped"
    assert result.verification is not None and result.verification["max_abs_diff"] < 1e-5
    ours = sncse.load(str(run), device="cpu")
    st = st_model(result.path)
    a = ours.encode(SENTENCES, show_progress=False)
    b = st.encode(SENTENCES, convert_to_numpy=True)
    assert a.shape == b.shape == (len(SENTENCES), 64)
    assert np.abs(a - b).max() < 1e-5
    # STS-B dev, first 400 pairs (the full set costs ~4x the time for the same check)
    dev_ours = evaluate_sts(ours, ["stsb"], mode="dev", limit=LIMIT, show_progress=False)["tasks"]["stsb"]["spearman"]
    dev_st = evaluate_sts(lambda s: st.encode(s, batch_size=128), ["stsb"], mode="dev",
                          limit=LIMIT)["tasks"]["stsb"]["spearman"]
    assert abs(dev_ours - dev_st) < 0.1, (dev_ours, dev_st)
    # the same folder loads back into sncse with the same pooler and no head
    again = sncse.load(str(result.path), device="cpu")
    assert again.pooler_name == pooler and again.head is None
    assert np.abs(again.encode(SENTENCES, show_progress=False) - a).max() < 1e-6


def test_prompt_export_files(make_run, tmp_path):
    run = make_run(pooler="prompt")
    path = export(run, tmp_path / "out", verify=False).path
    modules = json.loads((path / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "WordWeights", "Pooling"]
    bert = json.loads((path / "sentence_bert_config.json").read_text())
    assert "message" in bert["modality_config"] and bert["max_seq_length"] == 128
    template = (path / "chat_template.jinja").read_text()
    assert "[MASK]" in template and "means" in template
    weights = json.loads((path / "1_WordWeights" / "config.json").read_text())
    assert weights["word_weights"] == {"[MASK]": 1.0} and weights["unknown_word_weight"] == 0.0
    assert not (path / "sncse_head.safetensors").exists()  # the training-only head is dropped
    # the template is truncated around the sentence exactly as sncse does it
    st = st_model(path)
    model = sncse.load(str(path), device="cpu")
    feats = st[0].preprocess([SENTENCES[-1]])
    ids = feats["input_ids"][0][feats["attention_mask"][0].bool()].tolist()
    assert ids == model.tokenize([SENTENCES[-1]], max_length=128)[0]
    assert len(ids) == 128


def test_mlp_always_becomes_a_dense_tanh_module(make_run, tmp_path):
    run = make_run(pooler="cls", mlp="always")
    result = export(run, tmp_path / "out")
    assert result.head == "kept"
    modules = json.loads((result.path / "modules.json").read_text())
    assert modules[-1]["type"].endswith("Dense")
    dense_cfg = json.loads((result.path / modules[-1]["path"] / "config.json").read_text())
    assert dense_cfg["activation_function"].endswith("Tanh")
    a = sncse.load(str(run), device="cpu").encode(SENTENCES, show_progress=False)
    assert np.all(np.abs(a) <= 1.0)  # tanh output
    b = st_model(result.path).encode(SENTENCES, convert_to_numpy=True)
    assert np.abs(a - b).max() < 1e-5


def test_normalize_module(make_run, tmp_path):
    run = make_run(pooler="mean")
    path = export(run, tmp_path / "out", normalize=True).path
    b = st_model(path).encode(SENTENCES, convert_to_numpy=True)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    a = sncse.load(str(run), device="cpu").encode(SENTENCES, normalize=True, show_progress=False)
    assert np.abs(a - b).max() < 1e-5


def test_pooler_override(make_run, tmp_path):
    run = make_run(pooler="cls")
    result = export(run, tmp_path / "out", pooler="mean")
    assert result.pooler == "mean"
    pooling = json.loads((result.path / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]


def test_prompt_export_refuses_when_tokenization_differs(tmp_path):
    """A byte-level BPE vocabulary with a '."' merge tokenizes the rendered template differently from
    sncse's piecewise tokenization (sentence | template tail): the export must fail, not ship a mismatch."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import RobertaProcessing
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

    from sncse.encoders import SentenceEncoder
    from sncse.errors import SncseError

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(['He said "stop." and left."'] * 200 + ["a man is playing a guitar ."] * 50,
                            vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe._tokenizer.post_processor = RobertaProcessing(("</s>", bpe.token_to_id("</s>")), ("<s>", bpe.token_to_id("<s>")))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                  cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    assert '."' in tok.convert_ids_to_tokens(tok('x."', add_special_tokens=False)["input_ids"])
    torch.manual_seed(0)
    backbone = RobertaModel(RobertaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1,
                                          num_attention_heads=2, intermediate_size=64, max_position_embeddings=130,
                                          pad_token_id=tok.pad_token_id), add_pooling_layer=False)
    saved = SentenceEncoder(backbone, tok, pooler="prompt", mlp="none").save(tmp_path / "roberta")
    with pytest.raises(SncseError, match="tokenizes the prompt template differently"):
        export(saved, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert export(saved, tmp_path / "out-hf", "hf").path.exists()  # the hf format is unaffected


def test_a_pooler_plugin_exports_through_its_own_declaration(tiny_backbone, tmp_path):
    """Any Pooler that declares its sentence-transformers modules exports; one that does not is refused."""
    import torch

    from sncse.encoders import SentenceEncoder
    from sncse.encoders.poolers import Pooler
    from sncse.encoders.st_modules import STPooling, pooling
    from sncse.errors import SncseError
    from sncse.export.sentence_transformers import export_sentence_transformers

    class MaxPooler(Pooler):  # what a plugin would register in sncse.poolers
        name = "max"

        def forward(self, outputs, batch):
            mask = batch["attention_mask"].unsqueeze(-1).bool()
            return outputs.last_hidden_state.masked_fill(~mask, torch.finfo(torch.float32).min).amax(1)

        def sentence_transformers(self, model):
            module = pooling(model.hidden_size, "mean")
            module.config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
            return STPooling([module])

    backbone, tok = tiny_backbone
    model = SentenceEncoder(backbone, tok, pooler="mean", mlp="none").eval()
    model.pooler = MaxPooler()
    path = export_sentence_transformers(model, tmp_path / "max")
    b = st_model(path).encode(SENTENCES, convert_to_numpy=True)
    assert np.abs(model.encode(SENTENCES, show_progress=False) - b).max() < 1e-5

    model.pooler = type("Bare", (Pooler,), {"forward": MaxPooler.forward})()
    with pytest.raises(SncseError, match="declares no sentence-transformers export"):
        export_sentence_transformers(model, tmp_path / "bare")


def test_prompt_export_checks_the_installed_sentence_transformers(make_run, tmp_path, monkeypatch, caplog):
    from sncse.errors import SncseError
    from sncse.export import sentence_transformers as st_export

    run = make_run(pooler="prompt")
    monkeypatch.setattr(st_export, "_st_version", lambda: "5.4.1")
    with pytest.raises(SncseError, match=r"sentence-transformers >= 6.0, but 5.4.1 is installed"):
        export(run, tmp_path / "out", verify=False)
    assert not (tmp_path / "out").exists()  # nothing half-written
    assert export(make_run(pooler="mean", name="mean-run"), tmp_path / "mean", verify=False).path.exists()
    monkeypatch.setattr(st_export, "_st_version", lambda: None)  # not installed: written, with a warning
    assert export(run, tmp_path / "unchecked", verify=False).path.exists()
    assert "needs sentence-transformers >= 6.0" in caplog.text
