"""docs/sentence_transformers.md: the complete SentenceTransformerTrainer + SNCSELoss script runs as
written, at a smoke size (the tiny random BERT, 48 sentences, 3 steps), evaluates before and after with
sentence-transformers' evaluators and saves a model that loads back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from doclib import REPO, blocks

pytest.importorskip("sentence_transformers")
pytest.importorskip("datasets")

DOC = REPO / "docs" / "sentence_transformers.md"
MARKER = "sncse:st-example"
#: the script's settings at smoke size
SMOKE = {"BASE": '"tiny-bert"', "SENTENCES": "48", "STEPS, BATCH, LR": "3, 16, 1e-3"}


@pytest.fixture()
def one_thread():
    """One intra-op thread: on a shared 2-core runner two threads spin against each other (10x slower)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def smoke_script(output: Path) -> str:
    block = next(b for b in blocks(DOC) if b.marker and b.marker.startswith(MARKER))
    assert block.lang == "python", f"{DOC.name}:{block.line}: the example is not a python block"
    code = "\n".join(block.lines) + "\n"
    for name, value in {**SMOKE, "OUTPUT": repr(str(output))}.items():
        code, n = re.subn(rf"^{re.escape(name)} = .*$", f"{name} = {value}", code, flags=re.M)
        assert n == 1, f"{DOC.name}: the script has no line '{name} = ...'"
    return code


def test_the_script_runs_at_a_smoke_size(tmp_path: Path, monkeypatch, capsys, one_thread) -> None:
    from sentence_transformers import SentenceTransformer

    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(smoke_script(tmp_path / "run"), str(DOC), "exec"), namespace)
    printed = capsys.readouterr().out
    assert re.search(r"^sts-b-test_spearman_cosine: -?0\.\d{4} -> -?0\.\d{4}$", printed, re.M), printed
    assert re.search(r"^negation_cosine_accuracy: [01]\.\d{4} -> [01]\.\d{4}$", printed, re.M), printed
    assert len(namespace["train"]) == 48 and namespace["train"].column_names == ["anchor", "positive", "soft_negative"]
    assert namespace["trainer"].state.global_step == 3
    folder = tmp_path / "run" / "final"
    reloaded = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    probe = ["A man is playing a guitar.", "A man is not playing a guitar."]
    assert abs(reloaded.encode(probe) - namespace["model"].encode(probe)).max() < 1e-5
    assert "wang2022sncse" in (folder / "README.md").read_text(encoding="utf-8")
