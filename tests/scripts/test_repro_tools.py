"""scripts/repro_tools.py: the corpus builder, the meta merger and the packing of negations for training."""

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


def test_pack_negations_drops_empty_pairs_and_keeps_lines(tmp_path, repro_tools):
    import gzip

    from sncse.errors import DataError
    from sncse.negation.io import format_pair

    src = tmp_path / "n.jsonl"
    lines = [format_pair("He runs.", "He does not run."), format_pair("not", ""), "\n",
             format_pair("Café \"au\" lait", "Not café")]
    src.write_text("".join(lines), encoding="utf-8")
    dst = tmp_path / "n.jsonl.gz"
    assert repro_tools.pack_negations(src, dst) == {"pairs": 2, "dropped_empty": 2}
    assert gzip.decompress(dst.read_bytes()).decode("utf-8") == lines[0] + lines[3]  # byte for byte
    (tmp_path / "bad.jsonl").write_text('["a", "b"]\n["a"]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.jsonl:2:"):
        repro_tools.pack_negations(tmp_path / "bad.jsonl", tmp_path / "bad.gz")
