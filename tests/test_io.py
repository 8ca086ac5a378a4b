"""File helpers: atomic writes and line readers that name the bad line."""

from __future__ import annotations

import gzip

import pytest

from sncse.errors import DataError
from sncse.io import atomic_write, read_lines


def test_invalid_utf8_names_file_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"fine\nalso fine\nbroken \xff byte\n")
    with pytest.raises(DataError) as exc:
        read_lines(p)
    assert str(exc.value).startswith(f"{p}:3: invalid UTF-8")
    assert read_lines(p, errors="replace")[2] == "broken \ufffd byte"


def test_gzip_detected_by_content(tmp_path):
    p = tmp_path / "corpus.txt.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("one\r\ntwo\n")
    assert read_lines(p) == ["one", "two"]


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_lines(tmp_path / "nope.txt")


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "out.txt"
    p.write_text("precious", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_write(p) as fh:
            fh.write("partial")
            raise RuntimeError("crash mid-write")
    assert p.read_text(encoding="utf-8") == "precious"
    assert [x.name for x in tmp_path.iterdir()] == ["out.txt"]  # no temp file left behind
    with atomic_write(p) as fh:
        fh.write("new")
    assert p.read_text(encoding="utf-8") == "new"


def test_atomic_write_missing_directory(tmp_path):
    with pytest.raises(DataError, match="output directory does not exist"):
        with atomic_write(tmp_path / "no" / "out.txt"):
            pass


def test_atomic_write_gives_usual_permissions(tmp_path):
    import os
    import stat

    p = tmp_path / "out.txt"
    with atomic_write(p) as fh:
        fh.write("x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask
