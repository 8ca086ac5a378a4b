"""Negate a file: JSON Lines output in input order, written atomically, resumable, with statistics.

Output: one ``json.dumps([sentence, negation])`` line per input line (``json.dumps`` defaults, exactly
as SNCSE's script writes them), where ``sentence`` is the stripped input line. Inputs whose branch is in
:data:`~sncse.negation.base.SKIP_BRANCHES` (improved mode's blank lines, over-long lines) are counted
and not written.

Safety. Nothing is ever written at the output path until the run is complete: lines go to
``.<name>.partial`` beside it, which is renamed into place at the end. Beside the partial file,
``.<name>.partial.branches`` holds the branch of every input line done (one per line, skipped ones
included) and ``.<name>.partial.meta.json`` the settings. Each chunk is flushed to the partial file
before its branches, so after a crash (even SIGKILL) the branches file never runs ahead of the data.
``resume=True`` truncates both to the last line they agree on, checks that the settings match and
that every sentence written is the input line it claims to be, and continues from the next line.
At the end ``<output stem>.stats.json`` records per-branch counts and throughput.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError, SncseError
from ..io import iter_lines, write_json
from ..progress import task
from .base import FAITHFUL_BRANCHES, IMPROVED_BRANCHES, MODES, SKIP_BRANCHES

log = logging.getLogger(__name__)

ERRORS = ("strict", "replace")


def default_output_path(input_path: str | Path) -> Path:
    """``corpus.txt`` -> ``corpus.negations.jsonl`` beside it (``.gz`` dropped first)."""
    p = Path(input_path)
    name = p.name[:-3] if p.name.endswith(".gz") else p.name
    stem = Path(name).stem or name
    return p.with_name(stem + ".negations.jsonl")


def stats_path_for(output: str | Path) -> Path:
    """``x.negations.jsonl`` -> ``x.negations.stats.json``."""
    p = Path(output)
    stem = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.name
    return p.with_name(stem + ".stats.json")


def partial_paths(output: str | Path) -> tuple[Path, Path, Path]:
    """(partial data, partial branches, partial meta) paths beside ``output``."""
    p = Path(output)
    base = p.with_name(f".{p.name}.partial")
    return base, base.with_name(base.name + ".branches"), base.with_name(base.name + ".meta.json")


def format_pair(sentence: str, negation: str) -> str:
    """One output line, byte-identical to SNCSE's ``json.dumps([sentence, negation]) + "\\n"``."""
    return json.dumps([sentence, negation]) + "\n"


def _check_output(output: Path) -> None:
    parent = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise DataError("output is a directory, expected a file name", path=output)
    if not parent.is_dir():
        raise DataError("output directory does not exist", path=parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataError("output directory is not writable", path=parent)


def _count_complete_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.endswith(b"\n"))


def _truncate_to_lines(path: Path, n: int) -> None:
    """Keep the first ``n`` complete lines of ``path``."""
    size = 0
    with open(path, "rb") as fh:
        for i, line in enumerate(fh):
            if i == n or not line.endswith(b"\n"):
                break
            size += len(line)
    with open(path, "r+b") as fh:
        fh.truncate(size)


def _verify_partial(input_path: Path, data_path: Path, branches: list[str], errors: str) -> None:
    """Every sentence already written must be its input line (stripped): a partial output of another
    input, or of an edited one, is refused rather than silently continued."""
    with open(data_path, encoding="utf-8", newline="\n") as data:
        lines = iter_lines(input_path, errors=errors)
        written = 0
        for lineno, branch in enumerate(branches, start=1):
            source = next(lines, None)
            if source is None:
                raise SncseError(f"cannot resume: the partial output has more lines than {input_path}; "
                                 "start again without resuming", path=data_path, setting="resume")
            if branch in SKIP_BRANCHES:
                continue
            written += 1
            if not data.readline().startswith("[" + json.dumps(source.strip()) + ", "):
                raise SncseError(f"cannot resume: the partial output does not match {input_path} (input line "
                                 f"{lineno} differs); start again without resuming", path=data_path, line=written,
                                 setting="resume")


def _resume_point(input_path: Path, output: Path, meta: dict[str, Any], errors: str) -> tuple[int, Counter, int]:
    """(input lines done, branch counts so far, output lines so far) from a partial run, truncating it
    to a consistent state; (0, empty, 0) when there is nothing to resume."""
    data_path, branches_path, meta_path = partial_paths(output)
    if not (data_path.exists() and branches_path.exists() and meta_path.exists()):
        log.info("no partial output of %s to resume; starting from the first line", output)
        return 0, Counter(), 0
    try:
        old = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise SncseError("cannot resume: unreadable metadata; start again without resuming", path=meta_path,
                         setting="resume") from None
    for key, value in meta.items():
        if old.get(key) != value:
            raise SncseError(f"cannot resume: the partial output was made with {key}={old.get(key)!r}, this run "
                             f"has {key}={value!r}; rerun with the same settings or start again without resuming",
                             path=data_path, setting="resume")
    with open(branches_path, encoding="utf-8", errors="replace", newline="\n") as fh:
        branches = [b[:-1] for b in fh if b.endswith("\n")]
    if "" in branches:  # never written by us: keep what precedes it
        branches = branches[: branches.index("")]
    data_lines = _count_complete_lines(data_path)
    # The data file is written before the branches file: keep the longest prefix both cover.
    written = 0
    n_in = 0
    for b in branches:
        w = 0 if b in SKIP_BRANCHES else 1
        if written + w > data_lines:
            break
        written += w
        n_in += 1
    _truncate_to_lines(branches_path, n_in)
    _truncate_to_lines(data_path, written)
    _verify_partial(input_path, data_path, branches[:n_in], errors)
    log.info("resuming after input line %d (%d lines written)", n_in, written)
    return n_in, Counter(branches[:n_in]), written


def _chunks(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _skip(lines: Iterator[str], n: int) -> Iterator[str]:
    for i, line in enumerate(lines):
        if i >= n:
            yield line


def negate_file(
    input_path: str | Path,
    output_path: str | Path | None = None,
    *,
    backend: str = "spacy",
    mode: str = "faithful",
    workers: int = 1,
    batch_size: int = 256,
    chunk_size: int = 1000,
    resume: bool = False,
    errors: str = "strict",
    max_chars: int | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Negate every line of ``input_path`` into ``output_path`` (JSON Lines); return the statistics.

    ``backend`` is a registered negator name; ``model`` is passed to it when given (spaCy pipeline).
    ``chunk_size`` lines are negated, written and flushed at a time (the resume granularity).
    """
    from .. import registry

    t_start = time.perf_counter()
    input_path = Path(input_path)
    output = Path(output_path) if output_path is not None else default_output_path(input_path)
    if mode not in MODES:
        raise SncseError(f"unknown mode '{mode}'; choose one of: {', '.join(MODES)}")
    if errors not in ERRORS:
        raise SncseError(f"unknown errors value '{errors}'; choose one of: {', '.join(ERRORS)}", setting="errors")
    if workers < 1 or batch_size < 1 or chunk_size < 1:
        raise SncseError("workers, batch size and chunk size must be at least 1")
    backend_name = registry.resolve_name("negators", backend)
    # One pass first: count the lines and reject invalid UTF-8 before anything is written.
    n_lines = sum(1 for _ in iter_lines(input_path, errors=errors))
    _check_output(output)
    if output.resolve() == input_path.resolve():
        raise DataError("output would overwrite the input", path=output)

    options: dict[str, Any] = {"mode": mode, "batch_size": batch_size}
    if max_chars is not None:
        options["max_chars"] = max_chars
    if model is not None:
        options["model"] = model
    meta = {"input": str(input_path.resolve()), "backend": backend_name, "mode": mode,
            "max_chars": max_chars, "model": model}
    data_path, branches_path, meta_path = partial_paths(output)
    start, counts, written = _resume_point(input_path, output, meta, errors) if resume else (0, Counter(), 0)
    if start == 0:
        counts, written = Counter(), 0
        if data_path.exists() and not resume:
            log.info("discarding the partial output of an earlier run (resume=True continues it)")
        write_json(meta_path, meta)
        data_path.write_bytes(b"")
        branches_path.write_bytes(b"")

    t_loop = time.perf_counter()
    done_now = 0
    try:
        from .parallel import ChunkNegator

        # workers start before the progress display's thread does (forking a threaded process is unsafe)
        with ChunkNegator(backend_name, options, workers) as negator, \
                open(data_path, "a", encoding="utf-8", newline="\n") as data_fh, \
                open(branches_path, "a", encoding="utf-8", newline="\n") as br_fh, \
                task("negating", total=n_lines, unit="sent") as advance:
            advance(start)
            lines = _skip(iter_lines(input_path, errors=errors), start)
            for results in negator.map(_chunks(lines, chunk_size)):
                # data before branches: after a crash the branches file never runs ahead of the data
                data_fh.write("".join(format_pair(r.sentence, r.negation) for r in results if not r.skipped))
                data_fh.flush()
                br_fh.write("".join(r.branch + "\n" for r in results))
                br_fh.flush()
                counts.update(r.branch for r in results)
                written += sum(1 for r in results if not r.skipped)
                done_now += len(results)
                advance(len(results))
            os.fsync(data_fh.fileno())
    except BaseException:
        if data_path.exists():
            log.warning("stopped after %d of %d lines; the partial output is kept (%s): resume to continue",
                        start + done_now, n_lines, data_path)
        raise
    loop_s = time.perf_counter() - t_loop
    os.replace(data_path, output)
    for p in (branches_path, meta_path):
        p.unlink(missing_ok=True)

    order = FAITHFUL_BRANCHES if mode == "faithful" else IMPROVED_BRANCHES
    known = set(order) | SKIP_BRANCHES
    if all(b in known for b in counts):  # a built-in backend: every branch, zeros included
        branch_counts = {b: counts.get(b, 0) for b in order}
    else:  # a plugin with its own (or no) branch names: what occurred
        branch_counts = {}
    branch_counts.update({b: c for b, c in sorted(counts.items()) if b not in branch_counts})
    skipped = {b: counts.get(b, 0) for b in sorted(SKIP_BRANCHES)}
    if skipped["too_long"]:
        log.warning("%d line(s) longer than max_chars were skipped (branch too_long)", skipped["too_long"])
    stats: dict[str, Any] = {
        "input": str(input_path),
        "output": str(output),
        "backend": backend_name,
        "mode": mode,
        "workers": workers,
        "batch_size": batch_size,
        "lines_in": n_lines,
        "lines_written": written,
        "skipped": skipped,
        "branches": branch_counts,
        "resumed_from_line": start,
        "lines_this_run": done_now,
        "negate_seconds": round(loop_s, 3),
        "lines_per_second": round(done_now / loop_s, 1) if loop_s > 0 else None,
        "total_seconds": round(time.perf_counter() - t_start, 3),
    }
    stats_path = stats_path_for(output)
    write_json(stats_path, stats)
    stats["stats_file"] = str(stats_path)
    return stats
