"""``run.json``: what produced a run (versions, device, git commit, command line), for reproducibility."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .io import write_json
from .rundir.files import RUN_INFO_FILE

_PACKAGES = ("sncse", "torch", "transformers", "spacy", "stanza", "sentence-transformers", "numpy", "scipy")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The commit of the checkout ``cwd`` is in (``+dirty`` if it has changes), or None outside git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def device_info() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "cpu_count": _cpu_count()}
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["cuda"] = torch.version.cuda
            info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    return info


def _cpu_count() -> int | None:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def run_info(argv: list[str] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    info = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": list(argv if argv is not None else sys.argv),
        "python": sys.version.split()[0],
        "versions": {p: _version(p) for p in _PACKAGES},
        "device": device_info(),
        "git_commit": git_commit(Path(__file__).resolve().parent),
    }
    info.update(extra or {})
    return info


def write_run_info(directory: str | Path, argv: list[str] | None = None, extra: dict[str, Any] | None = None) -> Path:
    path = Path(directory) / RUN_INFO_FILE
    write_json(path, run_info(argv, extra))
    return path
