"""Training-data readers: plain text, `sncse negate` JSONL, NLI CSV and SNLI folders, format detection."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from sncse.data.corpus import (
    detect_format,
    end_with_period,
    file_digest,
    read_negations,
    read_nli_csv,
    read_snli_dir,
    read_training_file,
    snli_triplets,
    write_nli_csv,
)
from sncse.errors import DataError


def test_text_skips_blank_lines_and_collapses_spaces(tmp_path: Path) -> None:
    p = tmp_path / "c.txt"
    p.write_text("A  cat sat.\n\n   \nThe dog ran\n", encoding="utf-8")
    ex = read_training_file(p)
    assert ex.format == "text"
    assert ex.anchor == ["A cat sat.", "The dog ran"]
    assert ex.positive is ex.negation is ex.hard_negative is None
    assert ex.skipped == 2


def test_text_gzip(tmp_path: Path) -> None:
    p = tmp_path / "c.txt.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("one\ntwo\n")
    assert read_training_file(p).anchor == ["one", "two"]


def test_negations_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "n.jsonl"
    rows = [["A cat sat.", "A cat did not sit."], ["", ""], ["He runs.", "He does not run."]]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert detect_format(p) == "negations"
    ex = read_training_file(p)
    assert ex.anchor == ["A cat sat.", "He runs."]
    assert ex.negation == ["A cat did not sit.", "He does not run."]
    assert ex.skipped == 1


@pytest.mark.parametrize("bad,msg", [
    ('["only one"]', "two strings"),
    ('{"a": 1}', "two strings"),
    ('["a", "b"', "invalid JSON"),
    ('["a", ""]', "empty"),
    ('["a", 3]', "two strings"),
])
def test_negations_bad_line_names_file_and_line(tmp_path: Path, bad: str, msg: str) -> None:
    p = tmp_path / "n.jsonl"
    p.write_text('["x", "not x"]\n["y", "not y"]\n' + bad + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=msg) as err:
        read_negations(p)
    assert err.value.line == 3 and str(p) in str(err.value)


def test_nli_csv(tmp_path: Path) -> None:
    p = tmp_path / "nli.csv"
    write_nli_csv([("a man sleeps", "a person rests", "a man runs"), ('say "hi", then', "greet", "stay silent")], p)
    assert detect_format(p) == "nli"
    ex = read_nli_csv(p)
    assert ex.anchor == ["a man sleeps", 'say "hi", then']
    assert ex.positive == ["a person rests", "greet"]
    assert ex.hard_negative == ["a man runs", "stay silent"]


def test_nli_csv_pairs_without_hard_negatives(tmp_path: Path) -> None:
    p = tmp_path / "pairs.csv"
    p.write_text("sent0,sent1\na,b\nc,d\n", encoding="utf-8")
    ex = read_training_file(p)
    assert ex.format == "nli" and ex.positive == ["b", "d"] and ex.hard_negative is None


def test_nli_csv_errors(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("sent0,sent1,hard_neg\na,b,c\nd,e\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected 3 fields") as err:
        read_nli_csv(p)
    assert err.value.line == 3
    p.write_text("premise,hypothesis\na,b\n", encoding="utf-8")
    with pytest.raises(DataError, match="header"):
        read_nli_csv(p)


def test_snli_builder_one_triplet_per_premise(tmp_path: Path) -> None:
    d = tmp_path / "SNLI"
    d.mkdir()
    s1 = ["P one .", "P one .", "P one .", "P two .", "P two .", "P three .", "P three ."]
    s2 = ["neutral h", "entail h", "contra h", "entail 2", "neutral 2", "contra 3", "entail 3"]
    lab = ["neutral", "entailment", "contradiction", "entailment", "neutral", "contradiction", "entailment"]
    for name, lines in (("s1", s1), ("s2", s2), ("labels", lab)):
        (d / f"{name}.dev").write_text("\n".join(x + " " for x in lines) + "\n", encoding="utf-8")
    assert snli_triplets(d) == [("P one .", "entail h", "contra h"), ("P three .", "entail 3", "contra 3")]
    assert detect_format(d) == "nli"
    (d / "labels.dev").write_text("\n".join(lab[:-1] + ["maybe"]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown label") as err:
        read_snli_dir(d)
    assert err.value.line == 7


def test_snli_real_files(data_root: Path, data_is_full: bool) -> None:
    d = data_root / "senteval" / "downstream" / "SNLI"
    ex = read_snli_dir(d, splits=["dev"])
    # independent count: premises with at least one entailment and one contradiction
    labels_of: dict[str, set[str]] = {}
    s1 = (d / "s1.dev").read_text(encoding="utf-8").splitlines()
    for p, lab in zip(s1, (d / "labels.dev").read_text(encoding="utf-8").splitlines(), strict=True):
        labels_of.setdefault(" ".join(p.split()), set()).add(lab.strip())
    assert len(ex) == sum({"entailment", "contradiction"} <= v for v in labels_of.values()) > (2500 if data_is_full else 50)
    assert len(ex.anchor) == len(ex.positive) == len(ex.hard_negative)
    assert all(a and p and n for a, p, n in zip(ex.anchor[:50], ex.positive[:50], ex.hard_negative[:50], strict=True))


def test_limit_period_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "c.txt"
    p.write_text("no final punct\nends well.\nthird\n", encoding="utf-8")
    ex = read_training_file(p, limit=2, add_period=True)
    assert ex.anchor == ["no final punct .", "ends well."]
    assert end_with_period("x!") == "x!"
    with pytest.raises(DataError, match="not found"):
        read_training_file(tmp_path / "missing.txt")
    empty = tmp_path / "e.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="no training examples"):
        read_training_file(empty)


def test_detect_text_with_bracket_line(tmp_path: Path) -> None:
    p = tmp_path / "t.txt"
    p.write_text("[citation needed] is a tag\n", encoding="utf-8")
    assert detect_format(p) == "text"


def test_file_digest_changes_with_content(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_text("one\n", encoding="utf-8")
    d1 = file_digest(p)
    p.write_text("two\n", encoding="utf-8")
    assert file_digest(p) != d1


def test_iter_negation_pairs_yields_blank_lines_as_empty_pairs(tmp_path: Path) -> None:
    from sncse.data.corpus import iter_negation_pairs

    p = tmp_path / "n.jsonl"
    p.write_text('["x ", "not x"]\n\n["", ""]\n', encoding="utf-8")
    assert list(iter_negation_pairs(p)) == [(1, "x ", "not x"), (2, "", ""), (3, "", "")]
