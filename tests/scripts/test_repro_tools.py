"""scripts/repro_tools.py: the corpus builder, the meta merger, and the spaCy-free negation analysis, which
must give exactly what `sncse analyze --negation` gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _senteval(root: Path) -> Path:
    """A SentEval layout with MR, CR and TREC holding a few lines (one duplicate, one blank, latin-1)."""
    d = root / "senteval" / "downstream"
    (d / "MR").mkdir(parents=True)
    (d / "MR" / "rt-polarity.pos").write_bytes(b"a fine  film . \nthe wiki line\n")
    (d / "MR" / "rt-polarity.neg").write_bytes(b"a dull film .\n\n")
    (d / "CR").mkdir()
    (d / "CR" / "custrev.pos").write_bytes(b"a fine film .\ncaf\xe9 au lait\n")  # duplicate of MR; latin-1
    (d / "CR" / "custrev.neg").write_bytes(b"it broke .\n")
    (d / "TREC").mkdir()
    (d / "TREC" / "train_5500.label").write_bytes(b"DESC:manner How did it break ?\nHUM:ind Who made it ?\n")
    (d / "TREC" / "TREC_10.label").write_bytes(b"NUM:date When was it made ?\n")
    return root


def test_corpus_keeps_wiki_then_adds_new_transfer_sentences(tmp_path, repro_tools):
    root = _senteval(tmp_path / "data")
    wiki = tmp_path / "wiki.txt"
    wiki.write_text("The wiki line\n  spaced   line \n", encoding="utf-8")
    out = tmp_path / "c" / "corpus.txt"
    stats = repro_tools.build_corpus(wiki, out, ["mr", "cr", "trec"], root=str(root))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["The wiki line", "  spaced   line "]  # the wiki prefix byte for byte, first
    rest = lines[2:]
    assert sorted(rest) == sorted(["a fine film .", "the wiki line", "a dull film .", "café au lait", "it broke .",
                                   "How did it break ?", "Who made it ?", "When was it made ?"])
    assert stats["wiki_lines"] == 2 and stats["lines"] == len(lines) == 10
    assert stats["sets"]["mr"] == {"sentences": 4, "kept": 3, "dropped_duplicate_or_blank": 1}
    assert stats["sets"]["cr"]["kept"] == 2  # "a fine film ." was already there
    assert json.loads((tmp_path / "c" / "corpus.stats.json").read_text())["lines"] == 10


def test_meta_merges_nested_keys_and_parses_json(tmp_path, repro_tools):
    path = tmp_path / "grid.json"
    repro_tools.merge_meta(path, ['grid="cpu"', "settings.steps=12", "settings.lr=5e-5", "command=a b"])
    repro_tools.merge_meta(path, ["settings.seeds=42,43", "stages.train.seconds+=3", "stages.train.seconds+=4",
                                  "grid?=\"gpu\"", "first?=1", "cmds[]=a", "cmds[]=b c"])
    assert json.loads(path.read_text()) == {"grid": "cpu", "command": "a b", "first": 1, "cmds": ["a", "b c"], "settings": {
        "steps": 12, "lr": 5e-5, "seeds": "42,43"}, "stages": {"train": {"seconds": 7}}}
    with pytest.raises(SystemExit):
        repro_tools.merge_meta(path, ["novalue"])


def test_negation_table_names_bad_line(tmp_path, repro_tools):
    from sncse.errors import DataError

    f = tmp_path / "n.jsonl"
    f.write_text('["a b", "a not b"]\n\n{"x": 1}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"n.jsonl:3:"):
        repro_tools.read_negation_table(f)


def test_negation_peaks_equals_sncse_analyze(tmp_path, data_root, tiny_backbone, repro_tools, runner, cli_app):
    """The GPU image has no spaCy: the helper must reproduce `sncse analyze --negation` exactly, given the
    negations that `sncse negate` wrote for the same sampled sentences."""
    from sncse.encoders import SentenceEncoder
    from sncse.negation.io import negate_file

    backbone, tokenizer = tiny_backbone
    model = tmp_path / "tiny-run"
    SentenceEncoder(backbone, tokenizer, pooler="cls", mlp="none", base_encoder="tiny-bert").save(model / "best")
    n, seed = 40, 3
    sentences = tmp_path / "analysis.txt"
    repro_tools.write_analysis_sentences(sentences, n, seed)
    pairs = tmp_path / "analysis.negations.jsonl"
    negate_file(sentences, pairs, workers=1)

    cli_json = tmp_path / "cli.json"
    result = runner.invoke(cli_app, ["-q", "analyze", str(model), "--negation", "--n", str(n), "--seed", str(seed),
                                     "--device", "cpu", "--out", str(tmp_path / "cli"), "--json", str(cli_json)])
    assert result.exit_code == 0, result.output
    ours = repro_tools.negation_peaks([str(model)], pairs, n, seed, None, tmp_path / "ours", tmp_path / "ours.json",
                                      device="cpu")
    cli = json.loads(cli_json.read_text(encoding="utf-8"))
    for key in ("negator", "requested", "pairs", "dropped_skipped", "dropped_unchanged", "models", "examples"):
        assert ours[key] == cli[key], key
    assert (tmp_path / "ours" / "negation_similarity.png").stat().st_size > 1000
    with pytest.raises(Exception, match="no negation"):
        repro_tools.negation_peaks([str(model)], pairs, n + 20, seed, None, tmp_path / "x", tmp_path / "x.json",
                                   device="cpu")
