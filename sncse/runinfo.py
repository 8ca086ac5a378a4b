"""``run.json``: what produced a run (versions, device, git commit, command line), for reproducibility; the
description of the machine (:func:`machine_info`) that runs and benchmarks record."""

from __future__ import annotations

import os
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


def cpu_count() -> int | None:
    """The CPU cores this process may run on (its affinity), else all of the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def cpu_name() -> str:
    """The processor's model name (``/proc/cpuinfo``), else what ``platform`` knows of it."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info(device: Any = None) -> dict[str, Any]:
    """The machine a run or a measurement used: operating system, Python, CPU (name, the cores this
    process may use, torch's threads) and, where CUDA is available, its version and GPUs. ``device``
    (a torch device or its name) adds ``device_name``: the GPU's name, memory and multiprocessors for a
    CUDA device, else the CPU's name."""
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "cpu": cpu_name(), "cpu_count": cpu_count()}
    try:
        import torch
    except ImportError:
        return info
    info["torch_threads"] = torch.get_num_threads()
    if torch.cuda.is_available():
        info["cuda"] = torch.version.cuda
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if device is not None:
        dev = torch.device(device)
        if dev.type == "cuda":
            props = torch.cuda.get_device_properties(dev)
            info.update(device_name=props.name, gpu_memory_gb=round(props.total_memory / 2**30, 1),
                        multiprocessors=props.multi_processor_count)
        else:
            info["device_name"] = info["cpu"]
    return info


def machine_line(info: dict[str, Any] | None = None) -> str:
    """:func:`machine_info` in one line: ``CPU name, N cores (platform)``."""
    info = info or machine_info()
    return f"{info['cpu']}, {info['cpu_count']} cores ({info['platform']})"


def run_info(argv: list[str] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    info = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": list(argv if argv is not None else sys.argv),
        "python": sys.version.split()[0],
        "versions": {p: _version(p) for p in _PACKAGES},
        "device": machine_info(),
        "git_commit": git_commit(Path(__file__).resolve().parent),
    }
    info.update(extra or {})
    return info


def write_run_info(directory: str | Path, argv: list[str] | None = None, extra: dict[str, Any] | None = None) -> Path:
    path = Path(directory) / RUN_INFO_FILE
    write_json(path, run_info(argv, extra))
    return path
