"""File helpers: atomic writes, line readers that name the file and line of bad input, the JSON
writer (valid JSON only), temporary folders renamed into place."""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import DataError

_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


class _CheckedGzip(gzip.GzipFile):
    """A gzip file whose truncated or corrupt data is a DataError naming the file, not an EOFError."""

    def _checked(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except _GZIP_ERRORS as exc:
            raise DataError(f"the gzip data is cut short or corrupt ({exc}); the file is incomplete",
                            path=self.name) from None

    def read(self, size: int | None = -1) -> bytes:
        return self._checked(super().read, size)

    def read1(self, size: int = -1) -> bytes:
        return self._checked(super().read1, size)

    def peek(self, n: int) -> bytes:
        return self._checked(super().peek, n)

    def readline(self, size: int | None = -1) -> bytes:
        return self._checked(super().readline, size)


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
        return io.TextIOWrapper(_CheckedGzip(path, "rb"), encoding="utf-8", errors=errors, newline="")
    return open(path, encoding="utf-8", errors=errors, newline="")


def plain_name(path: str | Path) -> str:
    """The file name without a ``.gz`` ending (``dev.tsv.gz`` -> ``dev.tsv``): what the input formats are
    recognised by, compressed or not."""
    name = Path(path).name
    return name[:-3] if name.endswith(".gz") else name


def plain_stem(path: str | Path) -> str:
    """:func:`plain_name` without its extension (``dev.tsv.gz`` -> ``dev``; a name that is all
    extension, ``.tsv``, stays whole)."""
    name = plain_name(path)
    return Path(name).stem or name


def iter_lines(path: str | Path, errors: str = "strict") -> Iterator[str]:
    """Lines without their line ending. Invalid UTF-8 raises DataError naming the line number
    (``errors="replace"`` substitutes U+FFFD instead), as does a gzip file that ends early."""
    path = Path(path)
    fh = open_text(path, errors="surrogateescape" if errors == "strict" else errors)
    with fh:
        lineno = 0
        lines = iter(fh)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except DataError as exc:  # the gzip reader's: add the line it stopped in
                raise DataError(str(exc).removeprefix(f"{exc.path}: "), path=path, line=lineno + 1) from None
            lineno += 1
            line = line.rstrip("\r\n")
            if errors == "strict":
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise DataError(f"invalid UTF-8 at byte {exc.start} of the line", path=path, line=lineno,
                                    setting="errors", remedy="replace substitutes U+FFFD") from None
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


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`atomic_write`), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        fh.write(text)


def copy_file(source: str | Path, target: str | Path) -> None:
    """Copy ``source`` to ``target`` atomically (:func:`atomic_write`), creating the target's folder."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target, mode="wb", encoding=None) as fh, open(source, "rb") as fin:
        shutil.copyfileobj(fin, fh)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def umask_modes(path: str | Path) -> None:
    """Give ``path`` (and, for a folder, everything under it) the mode a plain ``mkdir`` or ``open``
    gives under the current umask: 0777 or 0666 less the umask. Some writers create 0700 folders
    (``mkdtemp``) or 0600 files (safetensors), and a rename keeps that mode: unreadable to everyone
    else however the umask is set."""
    path = Path(path)
    mask = _umask()
    for p in [path, *(path.rglob("*") if path.is_dir() else ())]:
        if not p.is_symlink():
            os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)


def temp_dir_beside(target: str | Path) -> Path:
    """A new empty folder beside ``target`` (on its file system, so it can be renamed into place when
    complete), with the umask's mode (:func:`umask_modes` it again once filled)."""
    target = Path(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    umask_modes(tmp)
    return tmp


def _finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None (recursively through dicts and lists)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def json_dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that writes valid JSON only: an undefined number (a NaN correlation) is null,
    never the bare ``NaN`` that strict JSON readers refuse (``allow_nan=False`` holds it to that)."""
    return json.dumps(_finite(obj), allow_nan=False, **kwargs)


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    with atomic_write(path) as fh:
        fh.write(json_dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise DataError("no such file", path=path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from None
