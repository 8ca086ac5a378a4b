"""The four plugin examples of docs/plugins.md, installed as a throwaway distribution through entry points
(as tests/test_registry.py does) and used the way a user would: a loss in training, an encoder by name,
a pooler in a model, a negator in `sncse negate`."""

from __future__ import annotations

import importlib
import json
import re
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from doclib import REPO, blocks

from sncse import registry

PLUGINS_MD = REPO / "docs" / "plugins.md"


@contextmanager
def eval_mode(module: torch.nn.Module):
    """Dropout off for a reference forward (the shared tiny backbone may be in training mode)."""
    was = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was)


def entry_points_txt(toml: str) -> str:
    """The ``[project.entry-points."group"]`` tables of a pyproject as an ``entry_points.txt``."""
    out = []
    for line in toml.splitlines():
        head = re.match(r'^\[project\.entry-points\."([^"]+)"\]$', line.strip())
        item = re.match(r'^"([^"]+)"\s*=\s*"([^"]+)"$', line.strip())
        if head:
            out.append(f"\n[{head.group(1)}]")
        elif item:
            out.append(f"{item.group(1)} = {item.group(2)}")
    return "\n".join(out).strip() + "\n"


@pytest.fixture()
def plugins(tmp_path: Path, monkeypatch) -> dict[str, str]:
    """Write the doc's blocks as the package my_sncse_plugins with a dist-info holding its entry points."""
    found = {b.marker: b for b in blocks(PLUGINS_MD) if b.marker}
    toml = found.pop("sncse:plugin-entry-points")
    files = {m.split()[1]: b for m, b in found.items() if m.startswith("sncse:plugin-example ")}
    assert set(files) == {f"my_sncse_plugins/{k}.py" for k in ("losses", "encoders", "poolers", "negators")}
    for rel, block in files.items():
        assert block.lang == "python", f"docs/plugins.md:{block.line}: the example is not a python block"
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
    (tmp_path / "my_sncse_plugins" / "__init__.py").write_text("", encoding="utf-8")
    info = tmp_path / "my_sncse_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-sncse-plugins\nVersion: 0.1\n", encoding="utf-8")
    eps = entry_points_txt("\n".join(toml.lines))
    (info / "entry_points.txt").write_text(eps, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield {"entry_points": eps}
    for name in [m for m in sys.modules if m.startswith("my_sncse_plugins")]:
        del sys.modules[name]


def test_every_example_is_registered_and_imports(plugins) -> None:
    rows = {(e.group, e.name): e for e in registry.list_entries()}
    for group, name in (("losses", "dcl.v1"), ("encoders", "my-bert.v1"), ("poolers", "max.v1"),
                        ("negators", "prefix.v1")):
        entry = rows[(registry.GROUPS[group], name)]
        assert entry.distribution == "my-sncse-plugins" and entry.status == "ok", entry


def test_loss_example(plugins, tiny_backbone, data_root, tmp_path, runner, cli_app) -> None:
    from sncse.config import LossConfig
    from sncse.losses import ContrastiveLoss, build_loss

    loss = build_loss(LossConfig(name="dcl", temperature=0.1))
    assert isinstance(loss, ContrastiveLoss) and loss.temperature == 0.1
    g = torch.Generator().manual_seed(0)
    anchor, positive = torch.randn(4, 8, generator=g), torch.randn(6, 8, generator=g)
    out = loss(anchor, positive, label_offset=2)
    # independently: -s_ii/tau + log sum_{j != i} exp(s_ij/tau)
    sim = torch.nn.functional.normalize(anchor, dim=-1) @ torch.nn.functional.normalize(positive, dim=-1).T / 0.1
    expected = torch.stack([torch.logsumexp(torch.cat([sim[i, :i + 2], sim[i, i + 3:]]), 0) - sim[i, i + 2]
                            for i in range(4)]).mean()
    assert torch.allclose(out.loss, expected, atol=1e-5) and set(out.parts) == {"dcl"}
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join((data_root / "corpus" / "wiki1m_head.txt").read_text(encoding="utf-8")
                                .splitlines()[:64]) + "\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["train", "-c", str(REPO / "configs" / "tiny.yaml"), "--loss", "dcl",
                                     "--data", str(corpus), "-o", str(tmp_path / "run"),
                                     "--set", "train.max_steps=2", "--set", "train.eval_steps=0",
                                     "--set", "train.batch_size=16"])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert any("dcl" in r.get("parts", {}) for r in records)
    assert json.loads((tmp_path / "run" / "results.json").read_text())["loss"] == "dcl"


def test_encoder_example(plugins, tiny_backbone, tmp_path, monkeypatch) -> None:
    import sncse

    backbone, tokenizer = tiny_backbone
    folder = tmp_path / "my-bert"
    backbone.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    monkeypatch.setenv("MY_BERT_DIR", str(folder))
    model = sncse.load("my-bert", pooler="cls")
    emb = model.encode(["a man is playing a guitar .", "the cat sat ."])
    assert emb.shape == (2, backbone.config.hidden_size)
    ids = tokenizer(["a man is playing a guitar ."], return_tensors="pt")
    with torch.no_grad(), eval_mode(backbone):
        ref = backbone(**ids).last_hidden_state[0, 0].numpy()
    assert np.allclose(emb[0], ref, atol=1e-5)


def test_pooler_example(plugins, tiny_backbone) -> None:
    from sncse.encoders import SentenceEncoder

    backbone, tokenizer = tiny_backbone
    model = SentenceEncoder(backbone, tokenizer, pooler="max", mlp="none")
    assert model.pooler_name == "max"
    sentences = ["a man is playing a guitar .", "the cat sat ."]
    emb = model.encode(sentences, batch_size=2)
    with torch.no_grad(), eval_mode(backbone):
        for i, s in enumerate(sentences):
            hidden = backbone(**tokenizer([s], return_tensors="pt")).last_hidden_state[0]
            assert np.allclose(emb[i], hidden.max(dim=0).values.numpy(), atol=1e-5)


def test_negator_example(plugins, tmp_path, runner, cli_app) -> None:
    src = tmp_path / "in.txt"
    src.write_text("The cat sat on the mat.\nIt rained\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli_app, ["negate", str(src), "-o", str(out), "--backend", "prefix", "--workers", "2"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert rows == [["The cat sat on the mat.", "It is not the case that the cat sat on the mat."],
                    ["It rained", "It is not the case that it rained"]]
