"""Where the data lives, and where it came from.

The data root holds SentEval's layout (``senteval/downstream/STS/...``, ``SICK``, ``SNLI``, transfer
sets) and training corpora (``corpus/``). It is the first of:

1. an explicit root (the ``root`` argument of the library functions; the CLI's ``--data-root``);
2. ``$SNCSE_DATA``;
3. ``./data`` when it exists: where ``sncse data download`` installs by default;
4. the sample embedded in the package (``sncse/resources/sample``): STS-B dev and test, the first
   2,000 lines of SimCSE's Wikipedia corpus and the negation triplets (drawn from SICK), so that the
   main job runs on a fresh install with no data and no network. The other evaluation sets (STS12-16,
   SICK-R, SNLI, transfer) are not in it.

The first time a process resolves a root it logs one line naming the source, so a user always sees
whether a score came from the full sets or from the sample.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import DataError

log = logging.getLogger(__name__)

ENV_DATA = "SNCSE_DATA"
DEFAULT_ROOT = "data"
#: STS tasks (and their splits) the embedded sample holds
SAMPLE_STS = {"stsb": ("dev", "test")}
SAMPLE_CORPUS = "corpus/wiki1m_head.txt"


def sample_root() -> Path:
    """The embedded sample (a folder inside the installed package)."""
    return Path(str(resources.files("sncse") / "resources" / "sample"))


@dataclass(frozen=True)
class DataSource:
    """A resolved data root and why it was chosen: ``explicit`` | ``env`` | ``downloaded`` | ``sample``."""

    root: Path
    kind: str

    @property
    def is_sample(self) -> bool:
        return self.kind == "sample"

    def describe(self) -> str:
        if self.kind == "explicit":
            return f"data: {self.root} (given as the data root)"
        if self.kind == "env":
            return f"data: {self.root} (from {ENV_DATA})"
        if self.kind == "downloaded":
            return f"data: {self.root} (./{DEFAULT_ROOT}, where `sncse data download` installs)"
        return (f"data: the embedded sample ({self.root}: STS-B dev/test, the negation triplets and the first "
                f"2,000 Wikipedia lines); for the full sets set {ENV_DATA} or run `sncse data download`")


_announced: set[tuple[str, str]] = set()


def resolve_data_root(explicit: str | Path | None = None) -> DataSource:
    """The data root and its source, without checking its contents (see the module docstring)."""
    if explicit:
        return DataSource(Path(explicit).expanduser(), "explicit")
    env = os.environ.get(ENV_DATA)
    if env:
        return DataSource(Path(env).expanduser(), "env")
    default = Path(DEFAULT_ROOT)
    if (default / "senteval").is_dir() or (default / "corpus").is_dir():
        return DataSource(default, "downloaded")
    return DataSource(sample_root(), "sample")


def data_root(explicit: str | Path | None = None) -> Path:
    """The data root (logs its source once per process and source)."""
    source = resolve_data_root(explicit)
    key = (source.kind, str(source.root))
    if key not in _announced:
        _announced.add(key)
        log.info("%s", source.describe())
    return source.root


def install_root(explicit: str | Path | None = None) -> Path:
    """Where ``sncse data download`` installs: the explicit root, else ``$SNCSE_DATA``, else ``./data``.

    Never the embedded sample: the package folder is not a place for a user's data.
    """
    return Path(explicit or os.environ.get(ENV_DATA) or DEFAULT_ROOT).expanduser()


def senteval_dir(root: str | Path | None = None) -> Path:
    return data_root(root) / "senteval" / "downstream"


def find_data_file(name: str | Path, root: str | Path | None = None) -> Path:
    """``name`` as given if it exists, else under the data root (``corpus/`` too)."""
    p = Path(name).expanduser()
    if p.exists():
        return p
    base = data_root(root)
    for candidate in (base / p, base / "corpus" / p):
        if candidate.exists():
            return candidate
    raise DataError(f"not found (also looked under {base} and {base / 'corpus'}; set the data root, {ENV_DATA})",
                    path=name, setting="data_root")
