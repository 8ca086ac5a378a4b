"""Semantic search: an index over sentence embeddings, exact or approximate, one results API.

>>> import sncse
>>> from sncse.search import build_index
>>> model = sncse.load("minilm")
>>> index = build_index(model, ["A man plays a guitar.", "A woman slices an onion."])
>>> index.search("someone is playing music", k=1)[0][0].text
'A man plays a guitar.'

``open_embeddings`` puts an index over the output of ``sncse encode`` (rows and texts matched through
its sidecar); ``index_corpus_file`` embeds a text file first. See ``sncse.search.index`` for the backends.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.corpus import file_digest
from ..embed.corpus import read_corpus_lines, resolve_format
from ..embed.encode import read_sidecar, sidecar_path
from ..embed.npy import open_rows
from ..errors import DataError
from .index import KINDS, ExactIndex, FaissIndex, Hit, Index, make_index

log = logging.getLogger(__name__)

__all__ = ["KINDS", "ExactIndex", "FaissIndex", "Hit", "Index", "build_index", "index_corpus_file",
           "make_index", "open_embeddings"]


def _model_info(model: Any) -> dict[str, Any]:
    return {"model": getattr(model, "base_encoder", None), "pooler": getattr(model, "pooler_name", None)}


def build_index(model: Any, sentences: Sequence[str], kind: str = "exact", batch_size: int = 128,
                show_progress: bool = True, lines: Sequence[int] | None = None, **options: Any) -> Index:
    """Embed ``sentences`` with ``model`` (normalised) and index them; a hit's ``line`` is its 1-based
    position in ``sentences`` unless ``lines`` says otherwise. ``options``: ``faiss_factory``,
    ``faiss_params`` (see ``make_index``)."""
    sentences = list(sentences)
    emb = model.encode(sentences, batch_size=batch_size, normalize=True, show_progress=show_progress)
    return make_index(emb, kind, texts=sentences, lines=lines, model=model, info=_model_info(model),
                      normalized=True, **options)


def index_corpus_file(model: Any, path: str | Path, fmt: str = "auto", kind: str = "exact",
                      batch_size: int = 128, show_progress: bool = True, **options: Any) -> Index:
    """Embed and index every non-empty line of a corpus file (text, or ``sncse negate`` JSONL); empty
    lines are left out (counted in the log) and hits keep their line numbers in the file."""
    fmt = resolve_format(path, fmt)
    texts, lines = [], []
    for n, text in enumerate(read_corpus_lines(path, fmt), start=1):
        if text:
            texts.append(text)
            lines.append(n)
    if len(lines) < (lines[-1] if lines else 0):
        log.info("%s: %d empty line(s) are not indexed", path, lines[-1] - len(lines))
    if not texts:
        raise DataError("no non-empty line to index", path=path)
    index = build_index(model, texts, kind=kind, batch_size=batch_size, show_progress=show_progress, lines=lines,
                        **options)
    index.info["corpus"] = str(path)
    return index


def _texts_for(array_path: Path, rows: int, car: dict[str, Any] | None,
               texts: str | Path | None) -> tuple[list[str] | None, np.ndarray]:
    """The corpus lines behind an array's rows, and their 1-based line numbers."""
    first, last = car["line_range"] if car else (0, rows)
    if last - first != rows:
        raise DataError(f"the sidecar says {last - first} rows, the array has {rows}", path=array_path)
    lines = np.arange(first + 1, last + 1)
    if texts is None and car is None:
        log.warning("%s has no sidecar and no texts were given: hits will have line numbers only", array_path)
        return None, lines
    if texts is None:
        source = Path(car["input"])
        if not source.is_file():
            raise DataError(f"the corpus this array was embedded from ({source}) is not there; give the texts "
                            "file", path=sidecar_path(array_path), setting="texts")
        if file_digest(source) != car["input_sha256"]:
            raise DataError(f"the corpus {source} changed since it was embedded (sha256 differs); re-encode it "
                            "or give the texts file", path=sidecar_path(array_path), setting="texts")
    else:
        source = Path(texts)
    fmt = car["format"] if car else resolve_format(source)
    got = list(read_corpus_lines(source, fmt, first, last))
    if len(got) != rows:
        where = f"lines {first + 1}-{last} of " if car else ""
        raise DataError(f"{len(got)} texts in {where}{source} for {rows} embeddings; they must match one to one",
                        path=source, setting="texts")
    return got, lines


def open_embeddings(path: str | Path, texts: str | Path | None = None, kind: str = "exact", model: Any = None,
                    **options: Any) -> Index:
    """An index over a ``.npy`` of embeddings (memory-mapped for exact search). The rows' texts come
    from ``texts`` or the corpus recorded in the sidecar (refused if it changed since); line numbers
    follow the sidecar's line range (a shard's rows keep their lines in the whole corpus)."""
    path = Path(path)
    car = read_sidecar(path) if sidecar_path(path).is_file() else None
    emb = open_rows(path, *((car.get("count"), car.get("dim"), car.get("dtype")) if car else ()))
    rows_texts, lines = _texts_for(path, len(emb), car, texts)
    info = {"model": car.get("model"), "pooler": car.get("pooler")} if car else {}
    info["embeddings"] = str(path)
    return make_index(emb, kind, texts=rows_texts, lines=lines, model=model, info=info,
                      normalized=bool(car and car.get("normalize") and emb.dtype == np.float32), **options)
