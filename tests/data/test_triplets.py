"""Triplet files (`sncse eval --triplets`), the `negation` task built from SICK's labels, and CANNOT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sncse.data.root import sample_root
from sncse.data.triplets import (
    CANNOT_FILE,
    NEGATION_SAMPLE_FILE,
    build_cannot_triplets,
    build_negation_triplets,
    cannot_triplets,
    negation_triplets,
    read_cannot,
    read_triplets,
    write_triplets,
)
from sncse.data.words import negation_cues, words
from sncse.errors import DataError

ROWS = [("A man plays a guitar.", "A man is playing an instrument.", "A man is not playing a guitar."),
        ("A cat sleeps.", "A cat is asleep.", "No cat is sleeping."),
        ("Kids run outside.", "Children are running.", "Nobody is running.")]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_three_formats_and_column_names(tmp_path):
    tsv = write(tmp_path / "t.tsv", "anchor\tpositive\tnegative\n" + "".join("\t".join(r) + "\n" for r in ROWS))
    csv = write(tmp_path / "c.csv", "sent0,sent1,hard_neg,extra\n" + "".join(f'"{a}","{p}","{n}",x\n' for a, p, n in ROWS))
    jsonl = write(tmp_path / "j.jsonl", "".join(json.dumps({"q": a, "pos": p, "neg": n}) + "\n" for a, p, n in ROWS))
    for t in (read_triplets(tsv), read_triplets(csv), read_triplets(jsonl, columns="q,pos,neg")):
        assert list(zip(t.anchors, t.positives, t.negatives, strict=True)) == ROWS and len(t) == 3
    assert read_triplets(tsv).name == "t" and read_triplets(tsv).source == str(tsv)
    raw = write(tmp_path / "raw.txt", "".join(f"{n}\tx\t{a}\t{p}\n" for a, p, n in ROWS))  # no header: positions
    assert read_triplets(raw, columns="3,4,1").negatives == [r[2] for r in ROWS]
    with pytest.raises(DataError, match="names none of anchor,positive,negative or sent0,sent1,hard_neg"):
        read_triplets(write(tmp_path / "bad.tsv", "a\tb\tc\nx\ty\tz\n"))


@pytest.mark.parametrize(("row", "message"), [
    ("only\ttwo", "missing column 'negative'"),
    ("a\t \tc", "empty sentence in column 'positive'"),
    ("a\tb\tc\td", "the row has 4 fields, the header 3"),
])
def test_a_bad_row_is_one_line_naming_file_and_line(tmp_path, row, message):
    good = "".join("\t".join(r) + "\n" for r in ROWS)
    path = write(tmp_path / "bad.tsv", "anchor\tpositive\tnegative\n" + good + row + "\n" + good)
    with pytest.raises(DataError) as err:
        read_triplets(path)
    assert str(err.value).startswith(f"{path}:5: {message}") and "\n" not in str(err.value)
    t = read_triplets(path, skip_bad_rows=True)
    assert len(t) == 6 and t.skipped_rows == [5]
    with pytest.raises(DataError, match="no triplets"):
        read_triplets(write(tmp_path / "empty.tsv", "anchor\tpositive\tnegative\n"))


def test_words_and_cues():
    assert words("A man isn't playing, is n't he?") == ["a", "man", "isn't", "playing", "is", "n't", "he"]
    assert negation_cues("There is no man; nobody cannot, don't.") == ["no", "nobody", "cannot", "don't"]
    assert negation_cues("A man is unhappy without a hat, nothing else.") == ["nothing"]
    assert negation_cues("Notably, a knot and a nose.") == []


def test_the_construction_rules():
    judgments = [
        ("A dog runs", "A dog is running", "NEUTRAL"),         # no entailment: not an anchor by this row
        ("A dog runs", "An animal runs", "ENTAILMENT"),        # first entailed sentence: the positive
        ("A dog runs", "A dog moves", "ENTAILMENT"),
        ("There is no dog running", "A dog runs", "CONTRADICTION"),  # symmetric: a negative of "A dog runs"
        ("A dog runs", "A cat sleeps", "CONTRADICTION"),       # no cue: never a negative
        ("A man sings", "A person sings", "ENTAILMENT"),       # no contradicting negation: left out
        ("No man sings", "Nobody sings", "ENTAILMENT"),        # an anchor with a cue: left out
        ("A bird flies", "No bird is flying", "ENTAILMENT"),   # positive with a cue only: left out
        ("A bird flies", "The bird is not flying", "CONTRADICTION"),
    ]
    t = build_negation_triplets(judgments, source="test")
    assert list(zip(t.anchors, t.positives, t.negatives, strict=True)) == [
        ("A dog runs", "An animal runs", "There is no dog running")]
    # entailment is directional: B -> A is not asked of SICK's A -> B label
    assert len(build_negation_triplets([("A", "B c", "ENTAILMENT"), ("B c", "not B c", "CONTRADICTION")], "t")) == 0


@pytest.mark.full_data("SICK's own files (the sample's triplets are checked against them)")
def test_negation_counts_on_the_real_sick_files(full_data_root):
    t = negation_triplets()
    assert len(t) == 645 and "SICK train, trial and test" in t.source
    assert len(set(t.anchors)) == 645  # one row per anchor
    assert not any(negation_cues(a) or negation_cues(p) for a, p in zip(t.anchors, t.positives, strict=True))
    assert all(negation_cues(n) for n in t.negatives)
    cues = [c for n in t.negatives for c in negation_cues(n)]
    assert cues.count("no") == 410 and cues.count("not") == 211 and cues.count("nobody") == 32
    # the embedded sample holds exactly these triplets
    sample = read_triplets(sample_root() / NEGATION_SAMPLE_FILE)
    assert (sample.anchors, sample.positives, sample.negatives) == (t.anchors, t.positives, t.negatives)
    assert "CC BY-NC-SA" in (sample_root() / NEGATION_SAMPLE_FILE).with_name("LICENSE.txt").read_text()


def test_write_then_read_gives_the_rows_back(tmp_path):
    t = read_triplets(write(tmp_path / "t.tsv", "anchor\tpositive\tnegative\n" + "".join("\t".join(r) + "\n"
                                                                                       for r in ROWS)))
    back = read_triplets(write_triplets(tmp_path / "out" / "again.tsv", t))
    assert (back.anchors, back.positives, back.negatives) == (t.anchors, t.positives, t.negatives)


CANNOT_ROWS = [("It is cold.", "It isn't cold.", 1), ("It is cold.", "The weather is cold.", 0),
               ("It isn't cold.", "It is cold.", 1), ("The weather is cold.", "It is cold.", 0),
               ("He won.", "He lost.", 1), ("He won.", "He was the winner.", 0), ("He won.", "He did not win.", 1)]


def cannot_file(path: Path, rows=CANNOT_ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write(path, "premise\thypothesis\tlabel\n" + "".join(f"{p}\t{h}\t{y}\n" for p, h, y in rows))


def test_cannot_layout_and_triplets(tmp_path):
    rows = read_cannot(cannot_file(tmp_path / "c.tsv"))
    assert rows == CANNOT_ROWS
    t = build_cannot_triplets(rows, "test")
    assert list(zip(t.anchors, t.positives, t.negatives, strict=True)) == [
        ("It is cold.", "The weather is cold.", "It isn't cold."), ("He won.", "He was the winner.", "He lost.")]
    with pytest.raises(DataError, match=r"c2\.tsv:3: label 2 is neither 0"):
        read_cannot(cannot_file(tmp_path / "c2.tsv", [("a", "b", 0), ("a", "c", 2)]))
    root = tmp_path / "root"
    cannot_file(root / CANNOT_FILE)
    assert len(cannot_triplets(root)) == 2
    with pytest.raises(DataError, match="sncse data download --dataset cannot"):
        cannot_triplets(tmp_path / "elsewhere")


def test_cannot_download_from_a_url_checks_layout_and_size(tmp_path):
    from sncse.data.download import download_cannot

    fake = cannot_file(tmp_path / "mirror" / "cannot_dataset_v1.1.tsv")
    with pytest.raises(DataError, match="7 rows, the published CANNOT file has 77,376"):
        download_cannot(tmp_path / "root", url=fake.as_uri())
    report = download_cannot(tmp_path / "root", url=fake.as_uri(), verify=False)  # the real fetch code, file://
    assert report.installed == [CANNOT_FILE] and report.verified == 7
    assert (tmp_path / "root" / CANNOT_FILE).read_bytes() == fake.read_bytes()
    assert download_cannot(tmp_path / "root", url=fake.as_uri(), verify=False).kept == [CANNOT_FILE]
    not_cannot = write(tmp_path / "other.tsv", "a\tb\tc\n1\t2\t3\n")
    with pytest.raises(DataError, match="is not the CANNOT dataset"):
        download_cannot(tmp_path / "root2", file=not_cannot)
    with pytest.raises(DataError, match="cannot download"):
        download_cannot(tmp_path / "root3", url=(tmp_path / "missing.tsv").as_uri())
