"""bench/dedup_batches.py counts what ``data.dedup_batches`` changes, on a small file with known duplicates."""

from __future__ import annotations

import json
from pathlib import Path


def test_counts_on_a_file_with_known_duplicates(tmp_path: Path, bench_module) -> None:
    lines = [f"sentence {i} of the file" for i in range(90)] + ["a repeated line"] * 3 + ["Sentence 3 of the file"]
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "dedup.json"
    bench_module("dedup_batches").main(["--encoder", "tiny-bert", "--corpus", str(corpus), "--batch-sizes", "16,32",
                                        "--out", str(out)])
    c = json.loads(out.read_text())["corpora"]["c.txt"]
    # the uncased tokenizer makes "Sentence 3" the same anchor as "sentence 3": 5 examples in 2 groups
    assert (c["examples"], c["examples_with_a_duplicate"], c["distinct_duplicated_sentences"]) == (94, 5, 2)
    assert c["redundant_copies"] == 3 and c["redundant_copies_exact_text"] == 2
    for key in ("batch_16", "batch_32"):
        for stats in c[key].values():
            assert stats["batches_with_duplicates"] > 0 and stats["batches_with_duplicates_left"] == 0
