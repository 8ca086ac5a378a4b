"""`sncse search` over a text file, an `sncse encode` array (whole or one shard) and a saved index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture()
def corpus(tmp_path, data_root) -> tuple[Path, list[str]]:
    with open(data_root / "corpus" / "wiki1m_head.txt", encoding="utf-8") as fh:
        lines = [next(fh).strip() for _ in range(40)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines


def _search(runner, cli_app, *args: str) -> list[dict]:
    res = runner.invoke(cli_app, ["-q", "search", "tiny-bert", *args, "--json", "-"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_search_an_encoded_array_and_one_shard(runner, cli_app, corpus, tmp_path):
    path, lines = corpus
    res = runner.invoke(cli_app, ["-q", "encode", "tiny-bert", str(path), "-o", str(tmp_path / "c.npy"), "--normalize"])
    assert res.exit_code == 0, res.output
    out = _search(runner, cli_app, "--corpus", str(tmp_path / "c.npy"), "--query", lines[6], "--query", lines[30],
                  "--top-k", "3")
    assert [o["query"] for o in out] == [lines[6], lines[30]]
    top = out[0]["hits"][0]
    assert set(top) == {"rank", "line", "text", "score"}
    assert (top["rank"], top["line"], top["text"]) == (1, 7, lines[6]) and abs(top["score"] - 1) < 1e-5
    assert out[1]["hits"][0]["line"] == 31 and len(out[1]["hits"]) == 3
    # a shard's rows keep their line numbers in the whole corpus
    res = runner.invoke(cli_app, ["-q", "encode", "tiny-bert", str(path), "-o", str(tmp_path / "s.npy"),
                                  "--chunk-size", "8", "--shard", "2/3"])
    assert res.exit_code == 0, res.output
    shard = tmp_path / "s.shard-2-of-3.npy"
    hits = _search(runner, cli_app, "--corpus", str(shard), "--query", lines[20], "-k", "40")[0]["hits"]
    # 40 lines = 5 chunks of 8; shard 2 of 3 holds chunks 2-3, lines 9-24
    assert sorted(h["line"] for h in hits) == list(range(9, 25)) and hits[0]["line"] == 21
    # the texts come from the sidecar's input, checked against its sha256; --texts must match the rows
    short = tmp_path / "short.txt"
    short.write_text("\n".join(lines[:10]) + "\n", encoding="utf-8")
    bad = runner.invoke(cli_app, ["search", "tiny-bert", "--corpus", str(tmp_path / "c.npy"), "--texts", str(short),
                                  "--query", "x"])
    assert bad.exit_code == 2 and "10 texts in" in bad.output and "for 40 embeddings" in bad.output
    path.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    changed = runner.invoke(cli_app, ["search", "tiny-bert", "--corpus", str(tmp_path / "c.npy"), "--query", "x"])
    assert changed.exit_code == 2 and "changed since it was embedded" in changed.output


def test_text_corpus_saved_index_queries_file_and_faiss(runner, cli_app, corpus, tmp_path):
    pytest.importorskip("faiss")
    path, lines = corpus
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n" + lines[0] + "\n")  # an empty line 41 (not indexed) and a repeat of line 1 as line 42
    queries = tmp_path / "q.txt"
    queries.write_text(f"{lines[0]}\n\n{lines[12]}\n", encoding="utf-8")
    first = _search(runner, cli_app, "--corpus", str(path), "--queries", str(queries), "-k", "2",
                    "--save-index", str(tmp_path / "idx"))
    assert [o["query"] for o in first] == [lines[0], lines[12]]
    assert [h["line"] for h in first[0]["hits"]] == [1, 42]  # equal scores: in line order
    assert first[1]["hits"][0]["line"] == 13
    again = _search(runner, cli_app, "--corpus", str(tmp_path / "idx"), "--queries", str(queries), "-k", "2")
    assert again == first
    approx = _search(runner, cli_app, "--corpus", str(path), "--index", "faiss", "--query", lines[12], "-k", "1")
    assert approx[0]["hits"][0]["line"] == 13 and abs(approx[0]["hits"][0]["score"] - 1) < 1e-5
    table = runner.invoke(cli_app, ["-q", "search", "tiny-bert", "--corpus", str(tmp_path / "idx"), "--query",
                                    lines[12], "-k", "1"])
    assert table.exit_code == 0 and "query:" in table.output and " 13 " in table.output
    none = runner.invoke(cli_app, ["search", "tiny-bert", "--corpus", str(path)])
    assert none.exit_code == 2 and "no queries" in none.output
