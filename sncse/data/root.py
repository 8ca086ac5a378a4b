"""Where the data lives: ``--data-root`` option, else ``$SNCSE_DATA``, else ``./data``.

The root holds SentEval's layout (``senteval/downstream/STS/...``, ``SICK``, ``SNLI``, transfer sets)
and training corpora (``corpus/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError

ENV_DATA = "SNCSE_DATA"
DEFAULT_ROOT = "data"


def data_root(explicit: str | Path | None = None) -> Path:
    """The data root, without checking its contents."""
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
