"""What every benchmark JSON records about the machine, and how it is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def environment() -> dict[str, Any]:
    """The torch version and the machine (``sncse.runinfo.machine_info``)."""
    import torch

    from sncse.runinfo import machine_info

    return {"torch": torch.__version__, "machine": machine_info()}


def write(path: Path, record: dict[str, Any]) -> int:
    """Write ``record`` to ``path`` (JSON), print it, return the exit status 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0
