"""``export()``: a run directory (or any model ``sncse.load`` accepts) -> a self-contained folder.

The folder is built in a temporary directory beside the target and renamed into place only when it
is complete (and, for sentence-transformers, verified), so an interrupted export never leaves a
half-written model where a user expects one. A non-empty target is refused unless ``overwrite``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..encoders.resolve import is_run_dir
from ..errors import SncseError
from ..io import atomic_write, temp_dir_beside, umask_modes
from ..outputs import PathPlan
from ..rundir.reader import RunRecord, read_run
from .hf import export_hf, keeps_head
from .model_card import model_card
from .sentence_transformers import export_sentence_transformers, verify_sentence_transformers

if TYPE_CHECKING:
    from ..encoders.model import SentenceEncoder

log = logging.getLogger(__name__)

_ALIASES = {"st": "sentence-transformers", "sentence_transformers": "sentence-transformers",
            "huggingface": "hf", "transformers": "hf"}
# Largest |sncse - sentence-transformers| difference accepted, relative to the largest embedding value.
VERIFY_RTOL = 1e-3


@dataclass
class ExportResult:
    path: Path
    format: str
    pooler: str
    head: str  # "kept" | "dropped" | "none"
    source_kind: str  # "run" or "model"
    verification: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)
    onnx: dict[str, Any] | None = None  # onnx format: graph, quantization and STS check (sncse.export.onnx)

    def to_dict(self) -> dict[str, Any]:
        out = {"path": str(self.path), "format": self.format, "pooler": self.pooler, "head": self.head,
               "source_kind": self.source_kind, "verification": self.verification, "files": self.files}
        if self.onnx is not None:
            out["onnx"] = self.onnx
        return out


def normalize_format(fmt: str) -> str:
    name = _ALIASES.get(fmt.lower(), fmt.lower())
    if name not in FORMATS:
        raise SncseError(f"unknown export format '{fmt}'; choose {', '.join(FORMATS[:-1])} or {FORMATS[-1]}")
    return name


def check_target(output: Path, overwrite: bool) -> None:
    """Refuse a target that is a file, or a non-empty directory without ``overwrite``."""
    if output.exists() and not output.is_dir():
        raise SncseError("export target exists and is not a directory", path=output)
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise SncseError("export target is not empty (overwriting replaces it)", path=output, setting="overwrite")


def _move_into_place(tmp: Path, output: Path) -> None:
    if output.is_dir():
        if any(output.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{output.name}.old.", dir=output.parent))
            os.rmdir(old)
            os.rename(output, old)
            os.rename(tmp, output)
            shutil.rmtree(old, ignore_errors=True)
            return
        os.rmdir(output)
    os.rename(tmp, output)


@dataclass(frozen=True)
class _Options:
    """What the caller asked of the folder's contents."""

    normalize: bool
    verify: bool
    quantize: str | None
    check: bool
    show_progress: bool


@dataclass(frozen=True)
class _Exporter:
    """One format: ``prepare(verify, quantize)`` checks the options before the model loads and returns
    whether to verify; ``write(model, folder, options)`` writes the folder and returns (the
    verification, the ONNX details), either None where the format has none."""

    prepare: Callable[[bool | None, str | None], bool]
    write: Callable[[SentenceEncoder, Path, _Options], tuple[dict[str, Any] | None, dict[str, Any] | None]]


def _no_quantize(fmt: str, quantize: str | None) -> None:
    if quantize is not None:
        raise SncseError(f"quantization applies to the onnx format only, not {fmt}")


def _verify_by_default() -> bool:
    """Whether sentence-transformers is installed to verify with (a warning where it is not)."""
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        log.warning("sentence-transformers is not installed: the export is not verified")
        return False
    return True


def _prepare_sentence_transformers(verify: bool | None, quantize: str | None) -> bool:
    _no_quantize("sentence-transformers", quantize)
    return _verify_by_default() if verify is None else bool(verify)


def _prepare_hf(verify: bool | None, quantize: str | None) -> bool:
    _no_quantize("hf", quantize)
    if verify is None:
        _verify_by_default()  # the same warning as the other formats; a Hugging Face folder is never verified
    return False


def _prepare_onnx(verify: bool | None, quantize: str | None) -> bool:
    from .onnx import check_quantize, require_onnx

    if quantize is not None:
        check_quantize(quantize)
    require_onnx()  # before loading the model: a missing extra fails in a second
    return True if verify is None else bool(verify)


def _write_sentence_transformers(model: SentenceEncoder, folder: Path,
                                 options: _Options) -> tuple[dict[str, Any] | None, None]:
    export_sentence_transformers(model, folder, normalize=options.normalize)
    if not options.verify:
        return None, None
    verification = verify_sentence_transformers(model, folder, normalize=options.normalize)
    if verification.get("token_ids_match") is False:
        raise SncseError(
            "sentence-transformers tokenizes the prompt template differently from sncse with this "
            "tokenizer: rendered as one string, punctuation merges across the sentence/template "
            "boundary (byte-level BPE vocabularies with merges such as '.\"'); export with "
            "--format hf, or with another --pooler")
    if verification["max_rel_diff"] > VERIFY_RTOL:
        raise RuntimeError(
            f"the exported folder does not reproduce the model: max |diff| "
            f"{verification['max_abs_diff']:.3g} (relative {verification['max_rel_diff']:.3g})")
    log.info("verified: sentence-transformers reproduces sncse within %.2e", verification["max_abs_diff"])
    return verification, None


def _write_hf(model: SentenceEncoder, folder: Path, options: _Options) -> tuple[None, None]:
    if options.normalize:
        log.warning("--normalize applies to the sentence-transformers format only; ignored")
    export_hf(model, folder)
    return None, None


def _write_onnx(model: SentenceEncoder, folder: Path,
                options: _Options) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    from .onnx import export_onnx

    onnx_info = export_onnx(model, folder, normalize=options.normalize, quantize=options.quantize,
                            verify=options.verify, check=options.check, show_progress=options.show_progress)
    return onnx_info.pop("verification"), onnx_info


#: the export formats, in the order the help lists them
EXPORTERS: dict[str, _Exporter] = {
    "sentence-transformers": _Exporter(_prepare_sentence_transformers, _write_sentence_transformers),
    "hf": _Exporter(_prepare_hf, _write_hf),
    "onnx": _Exporter(_prepare_onnx, _write_onnx),
}
FORMATS = tuple(EXPORTERS)


def export(source: str | Path, output: str | Path, fmt: str = "sentence-transformers", *,
           overwrite: bool = False, pooler: str | None = None, normalize: bool = False,
           verify: bool | None = None, device: str = "cpu", quantize: str | None = None,
           check: bool = True, show_progress: bool = True, paths: PathPlan | None = None) -> ExportResult:
    """Export ``source`` (run dir, saved model, HF dir, registered name) to ``output``.

    ``pooler`` overrides the recorded pooler; ``normalize`` adds a ``Normalize`` module (unit-length
    embeddings in sentence-transformers; an L2 normalisation at the end of the ONNX graph); ``verify``
    (default: when sentence-transformers is installed; always for onnx) reloads the folder with
    sentence-transformers (onnxruntime) and checks it reproduces ``sncse``'s embeddings. ONNX only:
    ``quantize="int8"`` quantizes the graph, and ``check`` then reports the 7-task STS average
    before and after on the local data. ``paths``: the caller's plan of paths (its own outputs), checked
    with the export's before any work.
    """
    from ..encoders.model import SentenceEncoder
    from ..encoders.resolve import read_model

    fmt = normalize_format(fmt)
    exporter = EXPORTERS[fmt]
    output = Path(output).expanduser()
    read_model(paths or PathPlan(), source, "the model exported").write(output, "the export", replaced=True).check()
    check_target(output, overwrite)
    options = _Options(normalize, exporter.prepare(verify, quantize), quantize, check, show_progress)

    model = SentenceEncoder.load(str(source), pooler=pooler, device=device)
    run: RunRecord | None = read_run(source) if is_run_dir(source) else None
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_dir_beside(output)
    try:
        verification, onnx_info = exporter.write(model, tmp, options)
        with atomic_write(tmp / "README.md") as fh:
            fh.write(model_card(model, fmt, str(source), run=run, verification=verification, onnx=onnx_info))
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        umask_modes(tmp)  # as readable as the user's other folders, whatever each writer chose
        _move_into_place(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    head = "kept" if keeps_head(model) else ("dropped" if model.head is not None else "none")
    return ExportResult(output, fmt, model.pooler_name, head, "run" if run is not None else "model",
                        verification, files, onnx_info)
