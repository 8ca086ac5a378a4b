"""load_pairs: a user's scored pairs in TSV, CSV and JSON Lines; every kind of bad row."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from sncse.data.pairs import PAIRS_SPLIT, load_pairs, pairs_task_name, parse_columns, table_format
from sncse.errors import DataError

ROWS = [("A man plays a guitar.", "A man is playing guitar.", 4.8),
        ("A cat  sleeps.", "A dog barks, loudly.", 0.4),
        ('He said "hi".', "Someone greeted.", 3.0)]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_csv_jsonl_read_the_same_pairs(tmp_path):
    tsv = write(tmp_path / "mine.tsv", "sentence1\tsentence2\tscore\n"
                + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in ROWS))
    import csv

    with open(tmp_path / "mine2.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "S1", "s2", "score"])
        for i, (a, b, s) in enumerate(ROWS):
            w.writerow([i, a, b, s])
    jsonl = write(tmp_path / "mine3.jsonl", "".join(json.dumps({"s1": a, "s2": b, "score": s}) + "\n"
                                                     for a, b, s in ROWS))
    tasks = [load_pairs(tsv), load_pairs(tmp_path / "mine2.csv"), load_pairs(jsonl)]
    assert [t.task for t in tasks] == ["mine", "mine2", "mine3"]
    for t in tasks:
        assert t.split == PAIRS_SPLIT and t.pairs == 3 and len(t.subsets) == 1
        sub = t.subsets[0]
        # SentEval's whitespace normalisation, as for the built-in sets; the CSV quote is unquoted
        assert sub.sent1 == ["A man plays a guitar.", "A cat sleeps.", 'He said "hi".']
        assert sub.sent2[1] == "A dog barks, loudly."
        np.testing.assert_array_equal(sub.gold, [4.8, 0.4, 3.0])


def test_named_and_positional_columns_gzip_bom_and_blank_lines(tmp_path):
    body = "text_a\ttext_b\tlabel\n\n" + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in ROWS)
    with gzip.open(tmp_path / "g.tsv.gz", "wt", encoding="utf-8") as fh:
        fh.write("\ufeff" + body)
    with pytest.raises(DataError, match="names none of sentence1,sentence2,score or s1,s2,score"):
        load_pairs(tmp_path / "g.tsv.gz")
    t = load_pairs(tmp_path / "g.tsv.gz", columns="text_a,text_b,label")
    assert t.task == "g" and t.pairs == 3
    with pytest.raises(DataError, match="no column 'lbl'"):
        load_pairs(tmp_path / "g.tsv.gz", columns=["text_a", "text_b", "lbl"])
    # 1-based positions read a file without a header, like SentEval's sts-test.csv (score 5, sentences 6-7)
    raw = write(tmp_path / "raw.txt", "".join(f"x\ty\tz\tw\t{s}\t{a}\t{b}\n" for a, b, s in ROWS))
    t = load_pairs(raw, columns="6,7,5")
    assert t.subsets[0].sent2[0] == "A man is playing guitar." and t.pairs == 3


@pytest.mark.parametrize(("row", "message"), [
    ("only one\t4.0", "missing column 'score'"),
    ("a\tb\tfour", "score 'four' in column 'score' is not a number"),
    ("a\tb\tnan", "score 'nan' in column 'score' is not a number"),
    ("a\t   \t1.0", "empty sentence in column 'sentence2'"),
    ("a\tb\t1.0\textra", "the row has 4 fields, the header 3"),
])
def test_each_bad_row_kind_names_file_and_line(tmp_path, row, message, caplog):
    good = "".join(f"{a}\t{b}\t{s}\n" for a, b, s in ROWS)
    path = write(tmp_path / "bad.tsv", "sentence1\tsentence2\tscore\n" + good + row + "\n" + good)
    with pytest.raises(DataError) as err:
        load_pairs(path)
    assert str(err.value).startswith(f"{path}:5: {message}")
    assert "\n" not in str(err.value)
    with caplog.at_level(logging.WARNING, logger="sncse.data.pairs"):
        t = load_pairs(path, skip_bad_rows=True)
    assert t.pairs == 6 and t.skipped_rows == [5]
    assert "skipped 1 bad row(s) (lines 5)" in caplog.text


@pytest.mark.parametrize(("line", "message"), [
    ('{"s1": "a", "score": 1}', "missing column 's2'"),
    ('{"s1": "a", "s2": "b", "score": "high"}', "score 'high' in column 'score' is not a number"),
    ('{"s1": "a", "s2": "b", "score": true}', "is not a number"),
    ('{"s1": "", "s2": "b", "score": 1}', "empty sentence in column 's1'"),
    ('{"s1": 7, "s2": "b", "score": 1}', "column 's1' is not a string"),
    ('["a", "b", 1]', "expected a JSON object, got list"),
    ('{"s1": "a", "s2": ', "not valid JSON"),
])
def test_jsonl_bad_rows(tmp_path, line, message):
    good = "".join(json.dumps({"s1": a, "s2": b, "score": s}) + "\n" for a, b, s in ROWS)
    path = write(tmp_path / "bad.jsonl", good + line + "\n")
    with pytest.raises(DataError, match=message) as err:
        load_pairs(path)
    assert f"{path}:4: " in str(err.value)
    assert load_pairs(path, skip_bad_rows=True).skipped_rows == [4]


def test_csv_line_numbers_count_quoted_newlines_and_files_need_two_pairs(tmp_path):
    path = write(tmp_path / "q.csv", 'sentence1,sentence2,score\n"two\nlines",b,1\nc,d,2\ne,,3\n')
    with pytest.raises(DataError, match=r"q\.csv:5: empty sentence in column 'sentence2'"):
        load_pairs(path)
    assert load_pairs(path, skip_bad_rows=True).subsets[0].sent1 == ["two lines", "c"]
    with pytest.raises(DataError, match="1 scored pair"):
        load_pairs(write(tmp_path / "one.csv", "s1,s2,score\na,b,1\n"))
    with pytest.raises(DataError, match="no such file"):
        load_pairs(tmp_path / "missing.tsv")
    with pytest.raises(DataError, match="no header"):
        load_pairs(write(tmp_path / "empty.tsv", "\n\n"))


def test_helpers():
    assert pairs_task_name("a/dev.pairs.tsv.gz") == "dev.pairs" and pairs_task_name("x.jsonl") == "x"
    assert table_format("f.dat", '{"s1": 1}') == "jsonl" and table_format("f.dat", "a\tb") == "tsv"
    assert table_format("f.dat", "a,b") == "csv" and table_format("F.CSV") == "csv"
    assert parse_columns(" a , b ,c") == ("a", "b", "c")
    for bad in ("a,b", "1,b,3", "0,1,2"):
        with pytest.raises(DataError):
            parse_columns(bad)
