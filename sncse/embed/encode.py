"""Embed every line of a corpus into ``OUT.npy``: in chunks, resumable, shardable, written atomically.

Output. ``OUT.npy`` holds one row per input line, in input order (float32, or float16 to halve it;
L2-normalised rows with ``normalize``). ``OUT.npy.json`` beside it (the sidecar) says what the rows
are: model, pooler, dim, count, dtype, normalize, precision, the input's path, sha256 and line range.
Both are renamed into place only when complete.

Precision. ``amp`` (:mod:`sncse.encoders.amp`) is ``auto`` by default: bf16 autocast on a CUDA device with native
bf16 (fp16 on an older one), fp32 on the CPU: embedding a corpus is bulk work, where a GPU's bf16
throughput matters most; ``amp="off"`` gives fp32 everywhere. The sidecar
records what ran (``precision``: ``fp32``, ``bf16``, ``fp16``), and shards are merged only when their
precisions agree, so rows from a CPU and a GPU never end up in one array unnoticed. A sidecar written
before precision was recorded has none; its precision is unknown (``auto`` gave bf16 on a GPU, fp32 on a
CPU), so such shards merge only with each other.

Chunks. The input is embedded ``chunk_size`` lines at a time (one ``SentenceEncoder.encode`` call:
repeated lines embedded once, length-sorted batches). Each finished chunk is saved atomically under
``.OUT.npy.partial/``; ``resume=True`` keeps the chunks a killed run finished (after checking that the
settings and the input's sha256 are the same) and embeds only the rest. At the end the chunks are
concatenated into ``OUT.npy`` and the partial folder is removed.

Shards. ``shard="K/N"`` embeds only shard K's lines (whole chunks counted from the first line, see
:mod:`sncse.shards`) into ``OUT.shard-K-of-N.npy``. Every chunk holds the same lines, sharded or not,
so each line meets the same batch-mates and gets the same float bits: :func:`merge_shards` of the N
outputs is byte for byte the array of one unsharded run (same machine and settings).
"""

from __future__ import annotations

import datetime as _dt
import logging
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config.schema import AmpMode
from ..errors import DataError, SncseError
from ..io import atomic_write, read_json, write_json
from ..outputs import PathPlan
from ..progress import forward_to, task
from ..resumable import check_same_settings, chunked, log_fresh_start
from ..shards import Shard, parse_shard
from .corpus import CorpusScan, read_corpus_lines, scan_corpus
from .npy import open_rows, write_rows

log = logging.getLogger(__name__)

DTYPES = ("float32", "float16")
DEFAULT_CHUNK_SIZE = 4096
SIDECAR_VERSION = 1
#: sidecar keys every shard of one corpus must share for the shards to be merged
SHARED_KEYS = ("model", "pooler", "dim", "dtype", "normalize", "precision", "input_sha256", "input_lines",
               "format", "chunk_size", "empty_lines")


def sidecar_path(output: str | Path) -> Path:
    """``emb.npy`` -> ``emb.npy.json``."""
    return Path(str(output) + ".json")


def partial_dir(output: str | Path) -> Path:
    """The folder of finished chunks of an incomplete run: ``.emb.npy.partial`` beside the output."""
    output = Path(output)
    return output.with_name(f".{output.name}.partial")


def read_sidecar(array_path: str | Path) -> dict[str, Any]:
    """The sidecar of an ``encode_file`` output (``DataError`` if it is missing)."""
    path = sidecar_path(array_path)
    if not path.is_file():
        raise DataError(f"no sidecar {path.name} beside the array (written by encode_file / sncse encode)",
                        path=array_path)
    return read_json(path)


def _chunk_path(partial: Path, index: int) -> Path:
    return partial / f"chunk-{index:08d}.npy"


def _finished_chunk(path: Path, rows: int, dim: int, dtype: str) -> bool:
    """A chunk file a killed run completed (written atomically, so it is whole or absent)."""
    try:
        arr = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return arr.shape == (rows, dim) and arr.dtype == np.dtype(dtype)


def _open_partial(partial: Path, meta: dict[str, Any], resume: bool) -> None:
    """Check (``resume``) or start the partial folder; a stale one is replaced when not resuming."""
    meta_path = partial / "meta.json"
    if resume and meta_path.is_file():
        check_same_settings(read_json(meta_path), meta, partial)
        return
    log_fresh_start(resume, partial.exists(), partial)
    if partial.exists():  # chunks without their settings are not trusted
        shutil.rmtree(partial)
    partial.mkdir()
    write_json(meta_path, meta)


def _chunks(path: Path, fmt: str, first: int, last: int, size: int) -> Iterator[tuple[int, list[str]]]:
    """(global chunk index, texts) for input lines ``first`` .. ``last - 1``; ``first`` is a multiple of
    ``size``, so chunk boundaries are the same whichever shard reads them."""
    return enumerate(chunked(read_corpus_lines(path, fmt, first, last), size), start=first // size)


def _embed_chunk(model: Any, texts: list[str], dim: int, batch_size: int, normalize: bool,
                 dtype: str, amp: str) -> np.ndarray:
    """One row per text; an empty text (allowed only with empty_lines="zero") gets a zero row."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    keep = [i for i, t in enumerate(texts) if t]
    if keep:
        out[keep] = model.encode([texts[i] for i in keep], batch_size=batch_size, normalize=normalize,
                                 amp=amp, show_progress=True)
    return out.astype(dtype, copy=False)


def _write_npy(output: Path, parts: Sequence[Path], rows: int, dim: int, dtype: str) -> None:
    """Concatenate the saved row blocks ``parts`` into ``output``."""
    write_rows(output, (np.load(p, mmap_mode="r") for p in parts), rows, dim, dtype)


def _model_meta(model: Any, model_name: str | None) -> dict[str, Any]:
    return {"model": model_name or getattr(model, "base_encoder", None) or type(model).__name__,
            "pooler": getattr(model, "pooler_name", None),
            "dim": int(model.hidden_size),
            "max_length": getattr(model, "inference_max_length", None)}


@dataclass(frozen=True)
class _Run:
    """One checked run: the loaded model, its input's scan, the lines it covers and the settings a
    resumed run must share."""

    model: Any
    input_path: Path
    output: Path
    scan: CorpusScan
    first: int  # input lines first .. last - 1 (0-based)
    last: int
    meta: dict[str, Any]

    @property
    def dim(self) -> int:
        return int(self.meta["dim"])


@dataclass
class _Progress:
    """What the chunk loop did: the chunk files in order, chunks kept from a stopped run, lines embedded."""

    parts: list[Path] = field(default_factory=list)
    resumed: int = 0
    embedded: int = 0
    loop_s: float = 0.0


def encode_file(
    model: Any,
    input_path: str | Path,
    output: str | Path,
    *,
    fmt: str = "auto",
    batch_size: int = 128,
    normalize: bool = False,
    dtype: str = "float32",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    resume: bool = False,
    shard: str | Shard | None = None,
    empty_lines: str = "error",
    pooler: str | None = None,
    device: str = "auto",
    model_name: str | None = None,
    amp: AmpMode = "auto",
    paths: PathPlan | None = None,
) -> dict[str, Any]:
    """Embed every line of ``input_path`` into ``output`` (``.npy``) and its sidecar; return the sidecar
    plus timing. ``model`` is a ``SentenceEncoder`` or anything ``SentenceEncoder.load`` takes (loaded
    only after the input has been checked). ``paths``: the caller's plan of paths (its own outputs),
    checked with this run's before any work. ``amp``: the precision (module docstring)."""
    t_start = time.perf_counter()
    input_path = Path(input_path)
    shard = parse_shard(shard)
    output = shard.output_path(output)
    _check_options(output, dtype, batch_size, chunk_size)
    run = _prepare_run(model, input_path, output, shard, fmt=fmt, normalize=normalize, dtype=dtype,
                       chunk_size=chunk_size, empty_lines=empty_lines, pooler=pooler, device=device,
                       model_name=model_name, amp=amp, paths=paths)
    partial = partial_dir(output)
    _open_partial(partial, run.meta, resume)
    progress = _embed_chunks(run, partial, chunk_size, batch_size, normalize, dtype, amp, resume)
    if progress.resumed:
        log.info("resumed: %d finished chunk(s) kept, %d line(s) embedded now", progress.resumed, progress.embedded)
    sidecar = _finish(run, progress.parts, dtype)
    shutil.rmtree(partial)
    return {**sidecar, "output": str(output), "sidecar": str(sidecar_path(output)), "resumed_chunks": progress.resumed,
            "lines_this_run": progress.embedded, "encode_seconds": round(progress.loop_s, 3),
            "sentences_per_second": (round(progress.embedded / progress.loop_s, 1)
                                     if progress.embedded and progress.loop_s > 0 else None),
            "total_seconds": round(time.perf_counter() - t_start, 3)}


def _check_options(output: Path, dtype: str, batch_size: int, chunk_size: int) -> None:
    if dtype not in DTYPES:
        raise SncseError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}", setting="dtype")
    if batch_size < 1 or chunk_size < 1:
        raise SncseError("batch size and chunk size must be at least 1")
    if output.suffix != ".npy":
        raise DataError("output must be a .npy file name", path=output)


def _prepare_run(model: Any, input_path: Path, output: Path, shard: Shard, *, fmt: str, normalize: bool,
                 dtype: str, chunk_size: int, empty_lines: str, pooler: str | None, device: str,
                 model_name: str | None, amp: AmpMode, paths: PathPlan | None) -> _Run:
    """Check the paths, the device and the input before the model loads; then load it (a name) and
    gather the settings the sidecar records."""
    from ..encoders.resolve import read_model

    plan = _plan_outputs(output, paths).read(input_path, "the input")
    read_model(plan, model)
    plan.write(partial_dir(output), "the partial output", replaced=True, parents=False).check()
    if isinstance(model, str | Path):  # a device this machine lacks fails before the corpus is read
        from ..encoders.model import resolve_device

        resolve_device(device)
    scan: CorpusScan = scan_corpus(input_path, fmt, empty_lines)
    first, last = shard.line_range(scan.lines, block=chunk_size)

    if isinstance(model, str | Path):
        from ..encoders import SentenceEncoder

        model_name = model_name or str(model)
        model = SentenceEncoder.load(str(model), pooler=pooler, device=device)
    info = _model_meta(model, model_name)
    info["precision"] = model.precision(amp) if callable(getattr(model, "precision", None)) else None
    meta = {**info, "normalize": normalize, "dtype": dtype, "input": str(input_path.resolve()),
            "input_sha256": scan.sha256, "input_lines": scan.lines, "format": scan.format,
            "chunk_size": chunk_size, "empty_lines": empty_lines, "shard": str(shard), "line_range": [first, last]}
    return _Run(model, input_path, output, scan, first, last, meta)


def _embed_chunks(run: _Run, partial: Path, chunk_size: int, batch_size: int, normalize: bool, dtype: str,
                  amp: AmpMode, resume: bool) -> _Progress:
    """Embed each chunk of the run's lines into its own file under ``partial`` (keeping, with
    ``resume``, the chunks a stopped run finished)."""
    progress = _Progress()
    t_loop = time.perf_counter()
    try:
        with task("encoding", total=run.last - run.first, unit="sent") as advance:
            for index, texts in _chunks(run.input_path, run.scan.format, run.first, run.last, chunk_size):
                path = _chunk_path(partial, index)
                progress.parts.append(path)
                if resume and _finished_chunk(path, len(texts), run.dim, dtype):
                    progress.resumed += 1
                    advance(len(texts))
                    continue
                with forward_to(advance):  # encode's own progress, on this one bar
                    block = _embed_chunk(run.model, texts, run.dim, batch_size, normalize, dtype, amp)
                advance(len(texts) - len(dict.fromkeys(t for t in texts if t)))  # repeats, empties: done too
                with atomic_write(path, "wb", encoding=None) as fh:
                    np.save(fh, block)
                progress.embedded += len(texts)
    except BaseException:
        log.warning("stopped; %d finished chunk(s) are kept in %s: resume to continue",
                    len(progress.parts) - 1, partial)
        raise
    progress.loop_s = time.perf_counter() - t_loop
    return progress


def _finish(run: _Run, parts: Sequence[Path], dtype: str) -> dict[str, Any]:
    """Concatenate the chunks into the output and write its sidecar; the sidecar."""
    _write_npy(run.output, parts, run.last - run.first, run.dim, dtype)
    empty_here = sum(1 for n in run.scan.empty if run.first < n <= run.last)
    sidecar = {"version": SIDECAR_VERSION, **{k: v for k, v in run.meta.items() if k != "line_range"},
               "count": run.last - run.first, "line_range": [run.first, run.last], "empty_lines_zeroed": empty_here,
               "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    write_json(sidecar_path(run.output), sidecar)
    return sidecar


def _precision(sidecar: dict[str, Any]) -> str:
    return str(sidecar.get("precision") or "unrecorded (an older sidecar)")


def _plan_outputs(output: Path, paths: PathPlan | None) -> PathPlan:
    """An array and its sidecar, written."""
    return (paths or PathPlan()).write(output, "the output", parents=False).write(sidecar_path(output), "the sidecar",
                                                                                 parents=False)


def merge_shards(shards: Sequence[str | Path], output: str | Path, paths: PathPlan | None = None) -> dict[str, Any]:
    """Join the ``.npy`` outputs of ``encode_file(..., shard="K/N")`` for K = 1..N into ``output``: the
    array (and sidecar) one unsharded run writes. Refuses shards of different runs, gaps or overlaps,
    and a shard whose array does not hold the rows its sidecar describes."""
    paths_in = [Path(p) for p in shards]
    if not paths_in:
        raise SncseError("no shard files to merge")
    output = Path(output)
    if output.suffix != ".npy":
        raise DataError("output must be a .npy file name", path=output)
    plan = _plan_outputs(output, paths)
    for p in paths_in:
        plan.read(p, "a shard").read(sidecar_path(p), "a shard's sidecar")
    plan.check()
    cars = sorted(((read_sidecar(p), p) for p in paths_in), key=lambda cp: cp[0]["line_range"][0])
    ref, ref_path = cars[0]
    for car, p in cars[1:]:
        if car.get("precision") != ref.get("precision"):
            raise DataError(f"precision {_precision(car)}, {ref_path.name} {_precision(ref)}: shards of mixed "
                            "precision are not merged; encode every shard with the same amp setting", path=p)
        for key in SHARED_KEYS:
            if car.get(key) != ref.get(key):
                raise DataError(f"not a shard of the same run as {ref_path}: {key}={car.get(key)!r} there "
                                f"{ref.get(key)!r}", path=p)
    at = 0
    for car, p in cars:
        start, stop = car["line_range"]
        if start > at:
            raise DataError(f"input lines {at + 1}-{start} are in none of the shards given (a shard missing?)",
                            path=p)
        if start < at:
            raise DataError(f"overlaps the previous shard (lines {start + 1}-{at})", path=p)
        at = stop
    if at != ref["input_lines"]:
        raise DataError(f"input lines {at + 1}-{ref['input_lines']} are in none of the shards given "
                        "(a shard missing?)", path=cars[-1][1])
    arrays = [open_rows(p, car["count"], car["dim"], car["dtype"]) for car, p in cars]  # all checked first
    write_rows(output, arrays, at, ref["dim"], ref["dtype"])
    sidecar = {**ref, "shard": "1/1", "count": at, "line_range": [0, at],
               "empty_lines_zeroed": sum(c.get("empty_lines_zeroed", 0) for c, _ in cars),
               "merged_from": [str(p) for _, p in cars],
               "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    write_json(sidecar_path(output), sidecar)
    return {**sidecar, "output": str(output), "sidecar": str(sidecar_path(output))}
