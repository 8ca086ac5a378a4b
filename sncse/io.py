"""File helpers: atomic writes, line readers that name the file and line of bad input."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import DataError


def open_text(path: str | Path, errors: str = "strict") -> IO[str]:
    """Open a UTF-8 text file, gzip-compressed or not (decided by the magic bytes, not the name)."""
    path = Path(path)
    if not path.exists():
        raise DataError("no such file", path=path)
    if path.is_dir():
        raise DataError("is a directory, expected a file", path=path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors=errors, newline="")
    return open(path, encoding="utf-8", errors=errors, newline="")


def iter_lines(path: str | Path, errors: str = "strict") -> Iterator[str]:
    """Lines without their line ending. Invalid UTF-8 raises DataError naming the line number
    (``errors="replace"`` substitutes U+FFFD instead)."""
    path = Path(path)
    fh = open_text(path, errors="surrogateescape" if errors == "strict" else errors)
    with fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if errors == "strict":
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise DataError(
                        f"invalid UTF-8 at byte {exc.start} of the line (errors='replace' substitutes U+FFFD)",
                        path=path,
                        line=lineno,
                        setting="errors",
                    ) from None
            yield line


def read_lines(path: str | Path, errors: str = "strict") -> list[str]:
    return list(iter_lines(path, errors=errors))


def count_lines(path: str | Path) -> int:
    with open_text(path, errors="replace") as fh:
        return sum(1 for _ in fh)


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place only on success,
    so a crash never leaves a truncated file where the user expects a complete one."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise DataError("output directory does not exist", path=parent)
    if not os.access(parent, os.W_OK):
        raise DataError("output directory is not writable", path=parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        kwargs = {"encoding": encoding} if "b" not in mode else {}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    with atomic_write(path) as fh:
        json.dump(obj, fh, indent=indent, ensure_ascii=False)
        fh.write("\n")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise DataError("no such file", path=path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from None
