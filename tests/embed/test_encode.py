"""`sncse encode`: one row per line in input order, the sidecar, dtypes, JSONL input, empty lines,
shards that merge to the unsharded array byte for byte, and resume after SIGKILL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sncse.embed import encode_file, merge_shards, read_sidecar
from sncse.embed.encode import partial_dir
from sncse.errors import DataError, SncseError


@pytest.fixture()
def tiny(tiny_backbone):
    from sncse.encoders import SentenceEncoder

    backbone, tokenizer = tiny_backbone
    return SentenceEncoder(backbone, tokenizer, pooler="cls_before_pooler", mlp="none", base_encoder="tiny-bert").eval()


@pytest.fixture()
def corpus(tmp_path, wiki_lines) -> tuple[Path, list[str]]:
    lines = wiki_lines[:120] + wiki_lines[:10]  # repeats: embedded once, written once per line
    path = tmp_path / "corpus.txt"
    path.write_text("".join(f"  {s}\n" for s in lines), encoding="utf-8")
    return path, lines


@pytest.fixture(scope="session")
def wiki_lines(data_root) -> list[str]:
    with open(data_root / "corpus" / "wiki1m_head.txt", encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()][:3000]


def test_rows_follow_lines_and_the_sidecar_says_what_they_are(tmp_path, corpus, tiny):
    path, lines = corpus
    out = tmp_path / "emb.npy"
    summary = encode_file(tiny, path, out)
    emb = np.load(out)
    assert emb.shape == (len(lines), tiny.hidden_size) and emb.dtype == np.float32
    # one chunk = one encode() call over the stripped lines: the same batches, the same bits
    np.testing.assert_array_equal(emb, tiny.encode(lines, show_progress=False))
    np.testing.assert_array_equal(emb[120:], emb[:10])
    car = read_sidecar(out)
    assert car == {k: v for k, v in summary.items() if k in car}
    assert car["model"] == "tiny-bert" and car["pooler"] == "cls_before_pooler" and car["dim"] == tiny.hidden_size
    assert car["count"] == len(lines) and car["line_range"] == [0, len(lines)] and car["normalize"] is False
    import hashlib

    assert car["input_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "emb.npy", "emb.npy.json"]


def test_float16_normalize_and_negate_jsonl_input(tmp_path, corpus, tiny):
    path, lines = corpus
    ref = tiny.encode(lines, normalize=True, show_progress=False)
    encode_file(tiny, path, tmp_path / "h.npy", dtype="float16", normalize=True)
    half = np.load(tmp_path / "h.npy")
    assert half.dtype == np.float16
    np.testing.assert_array_equal(half, ref.astype(np.float16))
    jsonl = tmp_path / "c.negations.jsonl"
    jsonl.write_text("".join(json.dumps([s, "not " + s]) + "\n" for s in lines), encoding="utf-8")
    summary = encode_file(tiny, jsonl, tmp_path / "j.npy", normalize=True)
    assert summary["format"] == "negations"
    np.testing.assert_array_equal(np.load(tmp_path / "j.npy"), ref)


def test_empty_lines_stop_or_get_zero_rows(tmp_path, tiny):
    path = tmp_path / "e.txt"
    path.write_text("A man sings.\n\nKids play.\n   \n", encoding="utf-8")
    with pytest.raises(DataError, match=r"e\.txt:2: empty line \(and 1 more\)"):
        encode_file(tiny, path, tmp_path / "e.npy")
    assert not (tmp_path / "e.npy").exists()
    summary = encode_file(tiny, path, tmp_path / "e.npy", empty_lines="zero")
    emb = np.load(tmp_path / "e.npy")
    assert summary["empty_lines_zeroed"] == 2 and emb.shape[0] == 4
    assert not emb[1].any() and not emb[3].any() and emb[0].any()
    bad = tmp_path / "b.jsonl"
    bad.write_text('["a", "b"]\n{"x": 1}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"b\.jsonl:2: expected a \[sentence, negation\] list"):
        encode_file(tiny, bad, tmp_path / "b.npy")
    with pytest.raises(DataError, match="must be a .npy"):
        encode_file(tiny, path, tmp_path / "e.bin")


def test_three_shards_merge_to_the_unsharded_array_byte_for_byte(tmp_path, runner, cli_app, wiki_lines):
    path = tmp_path / "w.txt"
    path.write_text("\n".join(wiki_lines[:150]) + "\n", encoding="utf-8")
    base = ["-q", "encode", "tiny-bert", str(path), "--chunk-size", "16", "--batch-size", "8"]
    res = runner.invoke(cli_app, [*base, "-o", str(tmp_path / "whole.npy")])
    assert res.exit_code == 0, res.output
    shards = []
    for k in (1, 2, 3):
        res = runner.invoke(cli_app, [*base, "-o", str(tmp_path / "part.npy"), "--shard", f"{k}/3", "--json", "-"])
        assert res.exit_code == 0, res.output
        shards.append(Path(json.loads(res.stdout)["output"]))
    assert [p.name for p in shards] == [f"part.shard-{k}-of-3.npy" for k in (1, 2, 3)]
    # 150 lines = 10 chunks of 16: 3 + 3 + 4 chunks
    assert [read_sidecar(p)["line_range"] for p in shards] == [[0, 48], [48, 96], [96, 150]]
    whole = (tmp_path / "whole.npy").read_bytes()
    assert np.concatenate([np.load(p) for p in shards]).tobytes() == np.load(tmp_path / "whole.npy").tobytes()
    res = runner.invoke(cli_app, ["-q", "merge-embeddings", str(tmp_path / "merged.npy"), *map(str, reversed(shards))])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "merged.npy").read_bytes() == whole
    merged, unsharded = read_sidecar(tmp_path / "merged.npy"), read_sidecar(tmp_path / "whole.npy")
    assert {k: merged[k] for k in unsharded if k != "created"} == {k: unsharded[k] for k in unsharded if k != "created"}
    with pytest.raises(DataError, match="input lines 49-96 are in none of the shards"):
        merge_shards([shards[0], shards[2]], tmp_path / "m2.npy")
    encode_file("tiny-bert", path, tmp_path / "other.npy", chunk_size=16, normalize=True, shard="2/3")
    with pytest.raises(DataError, match="normalize"):
        merge_shards([shards[0], tmp_path / "other.shard-2-of-3.npy", shards[2]], tmp_path / "m3.npy")


def _chunks_done(partial: Path) -> int:
    try:
        return sum(1 for p in partial.iterdir() if p.name.startswith("chunk-") and p.suffix == ".npy")
    except FileNotFoundError:
        return 0


def test_sigkill_then_resume_gives_the_same_array(tmp_path, runner, cli_app, wiki_lines, sigkill_when):
    path = tmp_path / "w.txt"
    lines = wiki_lines[:600]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "killed.npy"
    args = ["encode", "tiny-bert", str(path), "-o", str(out), "--chunk-size", "20", "--batch-size", "4"]
    partial = partial_dir(out)
    sigkill_when(["-q", *args], lambda: _chunks_done(partial) >= 3)
    done = _chunks_done(partial)
    assert 3 <= done < 30 and not out.exists()  # nothing at the output path until the run is complete

    with pytest.raises(SncseError, match="dtype"):  # other settings: refused, the chunks stay
        encode_file("tiny-bert", path, out, chunk_size=20, dtype="float16", resume=True)
    res = runner.invoke(cli_app, ["-q", *args, "--resume", "--json", "-"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["resumed_chunks"] >= done and summary["lines_this_run"] == len(lines) - 20 * summary["resumed_chunks"]
    assert not partial.exists()
    res = runner.invoke(cli_app, ["-q", *args[:3], "-o", str(tmp_path / "full.npy"), *args[5:]])
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == (tmp_path / "full.npy").read_bytes()
