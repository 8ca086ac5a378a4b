"""negate_file (the negation driver): JSON Lines format and order, statistics, bad input, atomic output, resume."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from sncse.errors import DataError, SncseError
from sncse.negation import driver, parallel

LINES = [
    "Tom and Jerry became good friends.",
    "",
    "He is not here.",
    "  She is happy.  ",
    "This line is clearly longer than sixty characters, so it is skipped here.",
    "Close the door.",
    "\u00e9t\u00e9 \u201cquoted\u201d text is here.",
    "He doesn't like it.",
]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_pairs(path: Path) -> list[list[str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_faithful_output_format_order_and_stats(tmp_path, faithful):
    src = write_lines(tmp_path / "in.txt", LINES)
    stats = driver.negate_file(src, chunk_size=3)
    out = tmp_path / "in.negations.jsonl"
    assert stats["output"] == str(out)
    expected = "".join(json.dumps([r.sentence, r.negation]) + "\n" for r in faithful.negate_with_branches(LINES))
    assert out.read_text(encoding="utf-8") == expected  # json.dumps defaults (ASCII escapes), input order
    assert read_pairs(out)[1] == ["", "Not"]
    assert "\\u00e9t\\u00e9" in expected
    assert stats["lines_in"] == stats["lines_written"] == len(LINES)
    assert stats["branches"]["blank"] == 1 and stats["branches"]["not_deleted"] == 1
    assert sum(stats["branches"].values()) == len(LINES)
    saved = json.loads((tmp_path / "in.negations.stats.json").read_text())
    assert saved["branches"] == stats["branches"] and saved["lines_per_second"] > 0
    # no temporary or partial files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.negations.jsonl", "in.negations.stats.json", "in.txt"]


def test_improved_skips_blank_and_long_lines(tmp_path):
    src = write_lines(tmp_path / "in.txt", LINES)
    stats = driver.negate_file(src, tmp_path / "out.jsonl", mode="improved", max_chars=60)
    pairs = read_pairs(tmp_path / "out.jsonl")
    assert stats["skipped"] == {"blank_skipped": 1, "too_long": 1}
    assert len(pairs) == stats["lines_written"] == len(LINES) - 2
    assert ["He doesn't like it.", "He does like it."] in pairs
    assert ["She is happy.", "She is not happy."] in pairs


def test_gzip_input_and_default_paths(tmp_path):
    src = tmp_path / "corpus.txt.gz"
    with gzip.open(src, "wt", encoding="utf-8") as fh:
        fh.write("He likes apples.\n")
    assert driver.default_output_path(src) == tmp_path / "corpus.negations.jsonl"
    assert driver.stats_path_for(tmp_path / "a.negations.jsonl") == tmp_path / "a.negations.stats.json"
    driver.negate_file(src)
    assert read_pairs(tmp_path / "corpus.negations.jsonl") == [["He likes apples.", "He does not like apples ."]]


def test_invalid_utf8_names_the_line_and_writes_nothing(tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes(b"He runs.\nShe walks.\nbad \xff byte\n")
    with pytest.raises(DataError) as err:
        driver.negate_file(src, tmp_path / "out.jsonl")
    assert f"{src}:3:" in str(err.value)
    assert not any(p.name.startswith((".out", "out")) for p in tmp_path.iterdir())
    stats = driver.negate_file(src, tmp_path / "out.jsonl", errors="replace")
    assert read_pairs(tmp_path / "out.jsonl")[2][0] == "bad \ufffd byte"
    assert stats["lines_written"] == 3


def test_missing_input_and_bad_output(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        driver.negate_file(tmp_path / "missing.txt")
    src = write_lines(tmp_path / "in.txt", ["He runs."])
    with pytest.raises(DataError, match="does not exist"):
        driver.negate_file(src, tmp_path / "nodir" / "out.jsonl")
    with pytest.raises(DataError, match="directory"):
        driver.negate_file(src, tmp_path)
    with pytest.raises(SncseError, match="unknown mode"):
        driver.negate_file(src, mode="creative")


def _interrupt_after(monkeypatch, n_chunks: int) -> None:
    real = parallel.ChunkNegator.map

    def flaky(self, chunks):
        for k, result in enumerate(real(self, chunks)):
            if k == n_chunks:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(parallel.ChunkNegator, "map", flaky)


@pytest.mark.parametrize("mode", ["faithful", "improved"])
def test_resume_after_interruption_equals_uninterrupted(tmp_path, monkeypatch, wiki_lines, mode):
    lines = wiki_lines[:40]
    lines[5:5] = ["", "   "]  # blank lines: written in faithful mode, skipped in improved mode
    src = write_lines(tmp_path / "in.txt", lines)
    full = tmp_path / "full.jsonl"
    driver.negate_file(src, full, mode=mode, chunk_size=7)

    out = tmp_path / "out.jsonl"
    with monkeypatch.context() as m:
        _interrupt_after(m, 3)
        with pytest.raises(KeyboardInterrupt):
            driver.negate_file(src, out, mode=mode, chunk_size=7)
    data, branches, meta = driver.partial_paths(out)
    assert not out.exists() and data.exists() and branches.exists() and meta.exists()
    # simulate a torn write: half a line at the end of the data file
    with open(data, "a", encoding="utf-8") as fh:
        fh.write('["half a li')
    stats = driver.negate_file(src, out, mode=mode, chunk_size=7, resume=True)
    assert stats["resumed_from_line"] == 21
    assert out.read_bytes() == full.read_bytes()
    full_stats = json.loads(driver.stats_path_for(full).read_text())
    assert stats["branches"] == full_stats["branches"]
    assert not data.exists() and not branches.exists() and not meta.exists()


def test_resume_refuses_other_settings_and_other_input(tmp_path, monkeypatch):
    src = write_lines(tmp_path / "in.txt", ["He runs.", "She walks.", "It is red.", "We sing."])
    out = tmp_path / "out.jsonl"
    with monkeypatch.context() as m:
        _interrupt_after(m, 2)
        with pytest.raises(KeyboardInterrupt):
            driver.negate_file(src, out, chunk_size=1)
    with pytest.raises(SncseError, match="mode="):
        driver.negate_file(src, out, chunk_size=1, resume=True, mode="improved")
    write_lines(src, ["Something else.", "She walks.", "It is red.", "We sing."])
    with pytest.raises(SncseError, match="does not match"):
        driver.negate_file(src, out, chunk_size=1, resume=True)
    # without --resume a stale partial output is simply replaced
    driver.negate_file(src, out, chunk_size=1)
    assert read_pairs(out)[0][0] == "Something else."


def test_resume_without_partial_starts_over(tmp_path):
    src = write_lines(tmp_path / "in.txt", ["He runs."])
    stats = driver.negate_file(src, tmp_path / "o.jsonl", resume=True)
    assert stats["resumed_from_line"] == 0 and stats["lines_written"] == 1
