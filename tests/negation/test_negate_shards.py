"""`sncse negate --shard K/N`: three shards concatenated equal one run byte for byte."""

from __future__ import annotations

import json


def test_three_shards_concatenate_to_the_unsharded_output(tmp_path, wiki_lines, runner, cli_app):
    lines = wiki_lines[1800:1930]  # within the sample's 2,000 lines
    lines[50:50] = ["", "  "]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = tmp_path / "whole.jsonl"
    res = runner.invoke(cli_app, ["-q", "negate", str(src), "-o", str(whole), "--chunk-size", "20"])
    assert res.exit_code == 0, res.output
    parts = []
    for k in (1, 2, 3):
        res = runner.invoke(cli_app, ["-q", "negate", str(src), "-o", str(tmp_path / "sharded.jsonl"),
                                      "--chunk-size", "20", "--shard", f"{k}/3", "--json", "-"])
        assert res.exit_code == 0, res.output
        stats = json.loads(res.stdout)
        assert stats["output"] == str(tmp_path / f"sharded.shard-{k}-of-3.jsonl") and stats["shard"] == f"{k}/3"
        parts.append(stats)
    # 132 lines = 7 chunks of 20: shards of 2, 2 and 3 chunks, each starting on a chunk boundary
    assert [p["line_range"] for p in parts] == [[0, 40], [40, 80], [80, 132]]
    assert sum(p["lines_in"] for p in parts) == len(lines)
    merged = b"".join((tmp_path / f"sharded.shard-{k}-of-3.jsonl").read_bytes() for k in (1, 2, 3))
    assert merged == whole.read_bytes()
    bad = runner.invoke(cli_app, ["negate", str(src), "--shard", "4/3"])
    assert bad.exit_code == 2 and "1 <= K <= N" in bad.output


def test_an_interrupted_shard_resumes_to_the_same_bytes(tmp_path, wiki_lines, monkeypatch):
    import pytest

    from sncse.errors import SncseError
    from sncse.negation import driver, parallel

    src = tmp_path / "in.txt"
    src.write_text("\n".join(wiki_lines[:90]) + "\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    done = driver.negate_file(src, tmp_path / "ref.jsonl", chunk_size=10, shard="2/3")
    real = parallel.ChunkNegator.map

    def stop_after_one_chunk(self, chunks):
        for k, result in enumerate(real(self, chunks)):
            if k == 1:
                raise KeyboardInterrupt
            yield result

    with monkeypatch.context() as m:
        m.setattr(parallel.ChunkNegator, "map", stop_after_one_chunk)
        with pytest.raises(KeyboardInterrupt):
            driver.negate_file(src, out, chunk_size=10, shard="2/3")
    with pytest.raises(SncseError, match="line_range"):  # another chunk size moves the shard's range
        driver.negate_file(src, out, chunk_size=7, shard="2/3", resume=True)
    stats = driver.negate_file(src, out, chunk_size=10, shard="2/3", resume=True)
    assert stats["line_range"] == done["line_range"] == [30, 60] and stats["resumed_from_line"] == 40
    assert (tmp_path / "o.shard-2-of-3.jsonl").read_bytes() == (tmp_path / "ref.shard-2-of-3.jsonl").read_bytes()
