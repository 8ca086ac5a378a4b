"""The negation driver behind ``sncse negate``: negate a file into JSON Lines in input order, written
atomically, resumable, with statistics.

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

Sharding. ``shard="K/N"`` negates only shard K's contiguous range of input lines (whole chunks, see
:mod:`sncse.shards`) into ``<output>.shard-K-of-N.jsonl``; the N outputs concatenated in order are the
unsharded output byte for byte, because every chunk holds the same lines either way.

Output formats (``fmt``, :mod:`sncse.negation.formats`). ``pairs`` (the default) is SNCSE's
``[sentence, negation]`` lines above; ``records`` (JSON Lines) and ``parquet`` hold the same pairs as
the named columns :data:`RECORD_COLUMNS`. Either is converted from the finished pairs when the run
completes, so resuming works the same for every format.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SncseError
from ..io import iter_lines, plain_stem, write_json
from ..outputs import PathPlan
from ..progress import task
from ..resumable import check_same_settings, chunked, log_fresh_start
from ..shards import Shard, parse_shard
from .base import FAITHFUL_BRANCHES, IMPROVED_BRANCHES, MODES, SKIP_BRANCHES
from .formats import OUTPUT_FORMATS, RECORD_COLUMNS, format_pair, format_record

log = logging.getLogger(__name__)

ERRORS = ("strict", "replace")


def default_output_path(input_path: str | Path, fmt: str = "pairs") -> Path:
    """``corpus.txt`` -> ``corpus.negations.jsonl`` beside it (``.gz`` dropped first; ``.parquet`` for
    the parquet format)."""
    return Path(input_path).with_name(plain_stem(input_path)
                                      + (".negations.parquet" if fmt == "parquet" else ".negations.jsonl"))


def stats_path_for(output: str | Path) -> Path:
    """``x.negations.jsonl`` (or ``.parquet``) -> ``x.negations.stats.json``."""
    p = Path(output)
    stem = next((p.name[: -len(ext)] for ext in (".jsonl", ".parquet") if p.name.endswith(ext)), p.name)
    return p.with_name(stem + ".stats.json")


def partial_paths(output: str | Path) -> tuple[Path, Path, Path]:
    """(partial data, partial branches, partial meta) paths beside ``output``."""
    p = Path(output)
    base = p.with_name(f".{p.name}.partial")
    return base, base.with_name(base.name + ".branches"), base.with_name(base.name + ".meta.json")


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


def _range_lines(input_path: Path, errors: str, start: int, stop: int) -> Iterator[str]:
    """Input lines ``start`` .. ``stop - 1`` (0-based)."""
    for i, line in enumerate(iter_lines(input_path, errors=errors)):
        if i >= stop:
            return
        if i >= start:
            yield line


def _verify_partial(lines: Iterator[str], input_path: Path, data_path: Path, branches: list[str],
                    first_line: int) -> None:
    """Every sentence already written must be its input line (stripped): a partial output of another
    input, or of an edited one, is refused rather than silently continued."""
    with open(data_path, encoding="utf-8", newline="\n") as data:
        written = 0
        for lineno, branch in enumerate(branches, start=first_line + 1):
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


def _read_partial_meta(meta_path: Path, data_path: Path, meta: dict[str, Any]) -> None:
    """Refuse to continue a partial output made with other settings."""
    try:
        old = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise SncseError("cannot resume: unreadable metadata; start again without resuming", path=meta_path,
                         setting="resume") from None
    check_same_settings(old, meta, data_path)


def _consistent_prefix(branches: list[str], data_lines: int) -> tuple[int, int]:
    """(input lines, output lines) of the longest prefix both partial files cover. The data file is
    written before the branches file, so the branches never run ahead of the data after a crash."""
    written = n_in = 0
    for b in branches:
        w = 0 if b in SKIP_BRANCHES else 1
        if written + w > data_lines:
            break
        written += w
        n_in += 1
    return n_in, written


def _resume_point(input_path: Path, output: Path, meta: dict[str, Any], errors: str,
                  first_line: int, last_line: int) -> tuple[int, Counter, int]:
    """(input lines done, branch counts so far, output lines so far) of a partial run over input lines
    ``first_line`` .. ``last_line - 1``, truncating it to a consistent state; (0, empty, 0) when there
    is nothing to resume."""
    data_path, branches_path, meta_path = partial_paths(output)
    if not (data_path.exists() and branches_path.exists() and meta_path.exists()):
        return 0, Counter(), 0
    _read_partial_meta(meta_path, data_path, meta)
    with open(branches_path, encoding="utf-8", errors="replace", newline="\n") as fh:
        branches = [b[:-1] for b in fh if b.endswith("\n")]
    if "" in branches:  # never written by us: keep what precedes it
        branches = branches[: branches.index("")]
    n_in, written = _consistent_prefix(branches, _count_complete_lines(data_path))
    _truncate_to_lines(branches_path, n_in)
    _truncate_to_lines(data_path, written)
    lines = _range_lines(input_path, errors, first_line, last_line)
    _verify_partial(lines, input_path, data_path, branches[:n_in], first_line)
    log.info("resuming after input line %d (%d lines written)", first_line + n_in, written)
    return n_in, Counter(branches[:n_in]), written


def _start_partial(input_path: Path, output: Path, meta: dict[str, Any], errors: str, resume: bool,
                   first_line: int, last_line: int) -> tuple[int, Counter, int]:
    """Resume the partial output (``resume``) or start a fresh one; returns what ``_resume_point`` does."""
    data_path, branches_path, meta_path = partial_paths(output)
    if resume:
        done, counts, written = _resume_point(input_path, output, meta, errors, first_line, last_line)
        if done:
            return done, counts, written
    log_fresh_start(resume, data_path.exists(), data_path)
    write_json(meta_path, meta)
    data_path.write_bytes(b"")
    branches_path.write_bytes(b"")
    return 0, Counter(), 0


def _negate_into_partial(negator: Any, lines: Iterator[str], chunk_size: int, output: Path,
                         advance: Any) -> tuple[Counter, int]:
    """Negate ``lines`` chunk by chunk, appending to the partial files; (branch counts, lines written)
    of this run. ``advance`` is told the input lines done after each chunk."""
    data_path, branches_path, _ = partial_paths(output)
    counts: Counter = Counter()
    written = 0
    with open(data_path, "a", encoding="utf-8", newline="\n") as data_fh, \
            open(branches_path, "a", encoding="utf-8", newline="\n") as br_fh:
        for results in negator.map(chunked(lines, chunk_size)):
            # data before branches: after a crash the branches file never runs ahead of the data
            data_fh.write("".join(format_pair(r.sentence, r.negation) for r in results if not r.skipped))
            data_fh.flush()
            br_fh.write("".join(r.branch + "\n" for r in results))
            br_fh.flush()
            counts.update(r.branch for r in results)
            written += sum(1 for r in results if not r.skipped)
            advance(len(results))
        os.fsync(data_fh.fileno())
    return counts, written


def _branch_counts(counts: Counter, mode: str) -> dict[str, int]:
    """Every branch of a built-in backend (zeros included, in rule order); a plugin's own names as they
    occurred."""
    order = FAITHFUL_BRANCHES if mode == "faithful" else IMPROVED_BRANCHES
    known = set(order) | SKIP_BRANCHES
    branch_counts = {b: counts.get(b, 0) for b in order} if all(b in known for b in counts) else {}
    branch_counts.update({b: c for b, c in sorted(counts.items()) if b not in branch_counts})
    return branch_counts


def _check_options(mode: str, errors: str, workers: int, batch_size: int, chunk_size: int,
                   fmt: str = "pairs") -> None:
    if mode not in MODES:
        raise SncseError(f"unknown mode '{mode}'; choose one of: {', '.join(MODES)}")
    if errors not in ERRORS:
        raise SncseError(f"unknown errors value '{errors}'; choose one of: {', '.join(ERRORS)}", setting="errors")
    if fmt not in OUTPUT_FORMATS:
        raise SncseError(f"unknown output format '{fmt}'; choose one of: {', '.join(OUTPUT_FORMATS)}",
                         setting="fmt")
    if fmt == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise SncseError("the parquet format needs pyarrow: pip install 'sncse[st]' (or pip install pyarrow)",
                             setting="fmt") from None
    if workers < 1 or batch_size < 1 or chunk_size < 1:
        raise SncseError("workers, batch size and chunk size must be at least 1")


@dataclass(frozen=True)
class _Run:
    """One checked run: where it reads and writes, the negator, and the input lines it covers."""

    input_path: Path
    output: Path
    shard: Shard
    backend: str  # the registered name, version included
    options: dict[str, Any]  # the negator's options
    meta: dict[str, Any]  # the settings a resumed run must share
    first: int  # input lines first .. last - 1 (0-based)
    last: int


@dataclass
class _Progress:
    """What the negation loop did: lines before it (resumed) and in it, branch counts, lines written."""

    done_before: int = 0
    done_now: int = 0
    written: int = 0
    counts: Counter = field(default_factory=Counter)
    loop_s: float = 0.0


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
    shard: str | Shard | None = None,
    paths: PathPlan | None = None,
    fmt: str = "pairs",
) -> dict[str, Any]:
    """Negate every line of ``input_path`` into ``output_path``; return the statistics.

    ``backend`` is a registered negator name; ``model`` is passed to it when given (spaCy pipeline).
    ``chunk_size`` lines are negated, written and flushed at a time (the resume granularity).
    ``shard`` ("K/N") negates only shard K's lines, into the output name with ``.shard-K-of-N`` added.
    ``paths``: the caller's plan of paths (its own outputs), checked with this run's before any work.
    ``fmt``: ``pairs`` (``[sentence, negation]`` JSON Lines), ``records`` (JSON Lines with the
    named fields of :data:`RECORD_COLUMNS`) or ``parquet`` (the same columns).
    """
    t_start = time.perf_counter()
    shard = parse_shard(shard)
    _check_options(mode, errors, workers, batch_size, chunk_size, fmt)
    run = _prepare_run(Path(input_path), output_path, shard, backend, mode, errors, batch_size,
                       chunk_size, max_chars, model, paths, fmt)
    progress = _negate_range(run, workers, chunk_size, errors, resume)
    _publish(run.output, fmt)
    return _write_stats(run.output, {
        "input": str(run.input_path), "output": str(run.output), "backend": run.backend, "mode": mode,
        "format": fmt, "workers": workers, "batch_size": batch_size, "shard": str(run.shard),
        "line_range": [run.first, run.last],
        "lines_in": run.last - run.first, "lines_written": progress.written,
    }, progress.counts, mode, resumed_from=run.first + progress.done_before if progress.done_before else 0,
        done_now=progress.done_now, loop_s=progress.loop_s, total_s=time.perf_counter() - t_start)


def _prepare_run(input_path: Path, output_path: str | Path | None, shard: Shard, backend: str, mode: str,
                 errors: str, batch_size: int, chunk_size: int, max_chars: int | None, model: str | None,
                 paths: PathPlan | None, fmt: str) -> _Run:
    """Check the paths and the input before anything is written; the lines this run (shard) covers."""
    from .. import registry

    output = shard.output_path(output_path if output_path is not None
                               else default_output_path(input_path, fmt))
    plan_paths(input_path, output, paths).check()
    backend_name = registry.resolve_name("negators", backend)
    # One pass first: count the lines and reject invalid UTF-8 before anything is written.
    n_lines = sum(1 for _ in iter_lines(input_path, errors=errors))
    first, last = shard.line_range(n_lines, block=chunk_size)
    # only the options given: a plugin negator need not take max_chars or model
    options = {k: v for k, v in {"mode": mode, "batch_size": batch_size, "max_chars": max_chars,
                                 "model": model}.items() if v is not None}
    meta: dict[str, Any] = {"input": str(input_path.resolve()), "backend": backend_name, "mode": mode,
                            "max_chars": max_chars, "model": model}
    if not shard.is_whole:  # a shard's lines depend on the chunk size: resume only the same range
        meta.update(shard=str(shard), line_range=[first, last])
    return _Run(input_path, output, shard, backend_name, options, meta, first, last)


def _negate_range(run: _Run, workers: int, chunk_size: int, errors: str, resume: bool) -> _Progress:
    """Negate the run's lines into the partial output (continuing it with ``resume``); a run that
    stops keeps the partial output and says how far it got."""
    from .parallel import ChunkNegator

    progress = _Progress()
    t_loop = time.perf_counter()
    try:
        # workers start before the progress display's thread does (forking a threaded process is unsafe),
        # and the negator loads before the partial files exist: a model that fails to load leaves none
        with ChunkNegator(run.backend, run.options, workers) as negator:
            progress.done_before, progress.counts, progress.written = _start_partial(
                run.input_path, run.output, run.meta, errors, resume, run.first, run.last)
            with task("negating", total=run.last - run.first, unit="sent") as advance:
                advance(progress.done_before)

                def step(n: int) -> None:
                    progress.done_now += n
                    advance(n)

                lines = _range_lines(run.input_path, errors, run.first + progress.done_before, run.last)
                new_counts, new_written = _negate_into_partial(negator, lines, chunk_size, run.output, step)
    except BaseException:
        if partial_paths(run.output)[0].exists():
            log.warning("stopped after %d of %d lines; the partial output is kept (%s): resume to continue",
                        progress.done_before + progress.done_now, run.last - run.first,
                        partial_paths(run.output)[0])
        raise
    progress.loop_s = time.perf_counter() - t_loop
    progress.counts.update(new_counts)
    progress.written += new_written
    return progress


def plan_paths(input_path: str | Path, output: str | Path, paths: PathPlan | None = None) -> PathPlan:
    """What a run over ``input_path`` into ``output`` (its final name, shard included) reads and writes."""
    plan = (paths or PathPlan()).read(input_path, "the input").write(output, "the output", parents=False)
    plan.write(stats_path_for(output), "the statistics file", parents=False)
    plan.write(converted_tmp_path(output), "the output being converted", parents=False)
    for path in partial_paths(output):
        plan.write(path, "the partial output", parents=False)
    return plan


def _publish(output: Path, fmt: str = "pairs") -> None:
    """Put the complete partial output (always ``pairs``, so that it can be resumed) in place in
    ``fmt`` (JSON Lines gzip-compressed when the output's name ends in ``.gz``) and drop its
    bookkeeping files."""
    data_path, branches_path, meta_path = partial_paths(output)
    if fmt != "pairs":
        _convert_pairs(data_path, output, fmt)
        data_path.unlink()
    elif output.name.endswith(".gz"):
        packed = data_path.with_name(data_path.name + ".gz")
        with open(data_path, "rb") as src, open(packed, "wb") as raw, \
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as dst:  # mtime 0: reproducible bytes
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(packed, output)
        data_path.unlink()
    else:
        os.replace(data_path, output)
    for p in (branches_path, meta_path):
        p.unlink(missing_ok=True)


def converted_tmp_path(output: Path) -> Path:
    """Where ``--format records/parquet`` output is built before it is renamed into place."""
    return output.with_name(f".{output.name}.tmp")


def _convert_pairs(pairs_path: Path, output: Path, fmt: str) -> None:
    """The ``[sentence, negation]`` lines of ``pairs_path`` as named columns (:data:`RECORD_COLUMNS`):
    JSON Lines (``records``) or a Parquet table, written beside ``output`` and renamed into place."""
    tmp = converted_tmp_path(output)
    with open(pairs_path, encoding="utf-8", newline="\n") as src:
        pairs = (json.loads(line) for line in src)
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            rows = list(pairs)
            sentences = [sentence for sentence, _ in rows]
            columns = (sentences, sentences, [negation for _, negation in rows])
            pq.write_table(pa.table({name: pa.array(col, pa.string())
                                     for name, col in zip(RECORD_COLUMNS, columns, strict=True)}), tmp)
        else:
            with open(tmp, "wb") as raw, (gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
                                          if output.name.endswith(".gz") else nullcontext(raw)) as dst:
                for sentence, negation in pairs:
                    dst.write(format_record(sentence, negation).encode("utf-8"))
    os.replace(tmp, output)


def _write_stats(output: Path, head: dict[str, Any], counts: Counter, mode: str, *, resumed_from: int,
                 done_now: int, loop_s: float, total_s: float) -> dict[str, Any]:
    """``<output stem>.stats.json``: the run's settings, per-branch counts, skips and throughput."""
    skipped = {b: counts.get(b, 0) for b in sorted(SKIP_BRANCHES)}
    if skipped["too_long"]:
        log.warning("%d line(s) longer than max_chars were skipped (branch too_long)", skipped["too_long"])
    stats: dict[str, Any] = {
        **head,
        "skipped": skipped,
        "branches": _branch_counts(counts, mode),
        "resumed_from_line": resumed_from,
        "lines_this_run": done_now,
        "negate_seconds": round(loop_s, 3),
        "lines_per_second": round(done_now / loop_s, 1) if loop_s > 0 else None,
        "total_seconds": round(total_s, 3),
    }
    stats_path = stats_path_for(output)
    write_json(stats_path, stats)
    stats["stats_file"] = str(stats_path)
    return stats
