"""The paths a command reads and writes, checked together before any work starts.

Every command declares what it reads (:meth:`PathPlan.read`) and everything it writes
(:meth:`PathPlan.write`: the main output, the ``--json`` file, sidecars, statistics, saved indexes,
partial files kept for resuming), then calls :meth:`PathPlan.check` once, before the long work.
The check refuses, with a one-line :class:`~sncse.errors.DataError` naming the path:

- a path written that is also read, or written twice (compared after resolving symbolic links;
  two names of one file, hard links included, are the same path);
- a folder replaced as a whole (an export's target, a saved index) that holds a path read or written;
- a path written that is an existing file inside a folder that is read (a model folder);
- a file to write whose name is an existing folder, or a folder whose name is an existing file;
- a path that cannot be created: its nearest existing parent is a file, or a folder this process
  may not write, or (for a command that does not create folders) its parent folder is missing.

Library functions take the caller's plan (``paths=``), add their own paths to it and check it, so
the command line's ``--json`` (declared by ``sncse_cli``) meets the library's outputs in one check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError

STDOUT = "-"


@dataclass(frozen=True)
class PathUse:
    """One path of a plan: ``role`` names it in messages ("the input", "the statistics file")."""

    path: Path
    role: str
    write: bool
    folder: bool = False
    replaced: bool = False  # a folder written as a whole, replacing what it held
    parents: bool = True  # missing parent folders are created (else the parent must exist)

    @property
    def real(self) -> Path:
        """The path with ``~`` expanded and symbolic links resolved (also those of missing paths' parents)."""
        return _real(self.path)


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def same_path(a: str | Path, b: str | Path) -> bool:
    """Whether ``a`` and ``b`` name one file: equal after resolving links, or (both existing) one inode."""
    ra, rb = _real(a), _real(b)
    if ra == rb:
        return True
    try:
        return os.path.samefile(ra, rb)  # two names of one file (hard links, bind mounts)
    except OSError:  # one of them does not exist yet
        return False


def _inside(inner: Path, outer: Path) -> bool:
    return inner != outer and inner.is_relative_to(outer)


class PathPlan:
    """What one command reads and writes. ``read``/``write`` return the plan, so calls chain;
    ``None`` and ``"-"`` (stdout) are accepted and ignored, so optional outputs need no ``if``."""

    def __init__(self) -> None:
        self.uses: list[PathUse] = []

    def read(self, path: str | Path | None, role: str = "the input", *, folder: bool = False) -> PathPlan:
        """Declare a path the command reads (``folder``: a folder whose files it reads)."""
        if path is not None and str(path) != STDOUT:
            self._add(PathUse(Path(path), role, write=False, folder=folder))
        return self

    def write(self, path: str | Path | None, role: str = "the output", *, folder: bool = False,
              replaced: bool = False, parents: bool = True) -> PathPlan:
        """Declare a path the command writes: a file, or a ``folder`` it writes into (``replaced``:
        one it replaces as a whole, so nothing else may be inside it). ``parents=False``: the command
        does not create missing parent folders, so the parent must exist."""
        if path is not None and str(path) != STDOUT:
            self._add(PathUse(Path(path), role, write=True, folder=folder or replaced, replaced=replaced,
                              parents=parents))
        return self

    def _add(self, use: PathUse) -> None:
        if not any(u.role == use.role and u.write == use.write and u.real == use.real for u in self.uses):
            self.uses.append(use)

    @property
    def writes(self) -> list[PathUse]:
        return [u for u in self.uses if u.write]

    def check(self) -> None:
        """Raise :class:`DataError` on the first conflict (see the module docstring); nothing is written."""
        writes = self.writes
        for i, w in enumerate(writes):
            self._check_writable(w)
            for other in self.uses:
                if other is w or (other.write and writes.index(other) < i):
                    continue  # each pair of writes once
                self._check_pair(w, other)

    @staticmethod
    def _check_pair(w: PathUse, other: PathUse) -> None:
        if same_path(w.path, other.path):
            if other.write:
                raise DataError(f"{w.role} and {other.role} would be written to the same path; choose "
                                "another path for one of them", path=w.path)
            raise DataError(f"{w.role} would overwrite {other.role}; choose another path", path=w.path)
        for outer, inner in ((w, other), (other, w)):
            if outer.write and outer.replaced and _inside(inner.real, outer.real):
                verb = "be written in" if inner.write else "be read from"
                raise DataError(f"{outer.role} is replaced as a whole, but {inner.role} ({inner.path}) would "
                                f"{verb} it; choose another path", path=outer.path)
        if not other.write and other.folder and _inside(w.real, other.real) and os.path.lexists(w.real):
            raise DataError(f"{w.role} would overwrite a file of {other.role} ({other.path}); choose another "
                            "path", path=w.path)

    @staticmethod
    def _check_writable(w: PathUse) -> None:
        real = w.real
        if w.folder and real.exists() and not real.is_dir():
            raise DataError(f"exists and is not a directory, but {w.role} is one; choose another path", path=w.path)
        if not w.folder and real.is_dir():
            raise DataError(f"is a directory, but {w.role} is a file; give a file name", path=w.path)
        parent = w.path.expanduser().parent  # as the user named it, for the message
        if not w.parents and not parent.is_dir() and (parent.is_symlink() or not parent.exists()):
            raise DataError(f"directory does not exist, so {w.role} ({w.path}) cannot be written; create it "
                            "first", path=parent)
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise DataError(f"is a file, so {w.role} ({w.path}) cannot be created under it", path=parent)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise DataError(f"directory is not writable, so {w.role} ({w.path}) cannot be written", path=parent)
        if w.folder and not w.replaced and real.is_dir() and not os.access(real, os.W_OK | os.X_OK):
            raise DataError(f"directory is not writable, so {w.role} cannot be written", path=w.path)
