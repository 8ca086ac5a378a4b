"""SNCSELoss in a real SentenceTransformerTrainer run: three steps on the tiny BERT write a model that
stock sentence-transformers reloads (in a process where ``sncse`` cannot be imported) and that embeds as
it did before saving; the model card names the loss and cites SNCSE; the trainer logs infonce and bml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
datasets = pytest.importorskip("datasets")

from sncse.errors import SncseError  # noqa: E402
from sncse.st import SNCSELoss, sentence_transformer  # noqa: E402

# loads the folder with sentence-transformers alone: importing sncse fails in this process
RELOAD = """
import sys
sys.modules["sncse"] = None
import numpy as np
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu", local_files_only=True)
np.save(sys.argv[3], model.encode(open(sys.argv[2], encoding="utf-8").read().splitlines(), convert_to_numpy=True))
"""


def trainer_for(model, dataset, loss, output_dir: Path, steps: int = 3):
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    args = SentenceTransformerTrainingArguments(
        output_dir=str(output_dir), max_steps=steps, per_device_train_batch_size=8, learning_rate=1e-3,
        logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, seed=0, dataloader_num_workers=0)
    return SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss)


def test_three_steps_save_and_reload_without_sncse(tmp_path: Path, sentences: list[str]) -> None:
    model = sentence_transformer("tiny-bert", pooler="mean", max_seq_length=32)
    before = model.encode(sentences[:8], convert_to_numpy=True)
    train = datasets.Dataset.from_dict({"anchor": sentences[:48], "positive": sentences[:48],
                                        "soft_negative": ["it is not true that " + s for s in sentences[:48]]})
    loss = SNCSELoss(model)
    head = loss.head.dense.weight.detach().clone()
    trainer = trainer_for(model, train, loss, tmp_path / "out")
    trainer.train()
    assert (loss.head.dense.weight - head).abs().max() > 1e-4  # the trainer's optimizer trains the loss's head

    logged = [r for r in trainer.state.log_history if "loss" in r]
    assert len(logged) == 3 and all({"infonce", "bml"} <= set(r) for r in logged)
    for r in logged:  # the logged terms add up to the logged loss
        assert abs(r["infonce"] + r["bml"] - r["loss"]) < 2e-4
    trained = model.encode(sentences[:8], convert_to_numpy=True)
    assert np.abs(trained - before).max() > 1e-4  # the steps changed the model

    folder = tmp_path / "model"
    model.save(str(folder))
    files = {p.name for p in folder.rglob("*") if p.is_file()}
    assert not {"sncse_model.json", "sncse_head.safetensors"} & files  # nothing of sncse, the head neither
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling"]
    assert all(m["type"].startswith("sentence_transformers.") for m in modules)
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "SNCSELoss" in card and "wang2022sncse" in card and '"bml_weight": 0.001' in card

    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(sentences[:8]) + "\n", encoding="utf-8")
    out = tmp_path / "reloaded.npy"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-c", RELOAD, str(folder), str(texts), str(out)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(out), trained, rtol=0, atol=1e-5)


def test_a_dataset_with_other_columns_is_refused_by_name(tmp_path: Path, sentences: list[str]) -> None:
    model = sentence_transformer("tiny-bert", pooler="mean", max_seq_length=32)
    pairs = datasets.Dataset.from_dict({"anchor": sentences[:16], "positive": sentences[:16]})
    trainer = trainer_for(model, pairs, SNCSELoss(model), tmp_path / "out", steps=1)
    with pytest.raises(SncseError, match=r"loss 'bml.v1' takes 3 columns, in this order: anchor, positive, "
                                         r"soft_negative; the dataset has 2"):
        trainer.train()
