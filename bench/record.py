"""What every benchmark JSON records about the machine, and how it is written."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def environment() -> dict[str, Any]:
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "machine": platform.platform(),
            "cpu_count": os.cpu_count()}


def write(path: Path, record: dict[str, Any]) -> int:
    """Write ``record`` to ``path`` (JSON), print it, return the exit status 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0
