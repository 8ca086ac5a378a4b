"""Cosine-similarity search over sentence embeddings: exact (torch) or approximate (faiss).

Both backends answer the same call, ``index.search(queries, k)``, with the same :class:`Hit` lists,
best first; scores are cosine similarities (rows are L2-normalised before scoring; a zero row scores 0).

- ``exact`` (default): a matrix product with the queries, chunk by chunk over the corpus rows, keeping
  the running top k per query, so the scores in memory are one chunk's however large the corpus. Rows
  in memory are normalised once and kept; a memory-mapped ``.npy`` (``open_embeddings``,
  ``Index.load``) is never loaded whole: each search reads and normalises one chunk at a time.
- ``faiss``: a ``faiss-cpu`` index (extra ``faiss``), by default HNSW (``"HNSW32"``, ``efSearch`` 128)
  over inner products of the normalised rows: sub-linear search, approximate ranks. Any
  ``faiss.index_factory`` string works (``"IVF1024,Flat"`` with ``nprobe``, ...).

Scores are rounded to 6 decimals, like the STS evaluator's cosines: float32 carries about 7 significant
digits, and below that a matrix product gives two identical rows scores 1 ulp apart. Rounded, a
repeated sentence ties exactly, and hits with equal scores are listed in row order.
``save(dir)`` writes ``index.json`` (what the index holds and which model made it), the vectors
(``embeddings.npy`` or ``faiss.index``) and ``texts.jsonl``; ``Index.load(dir)`` reads them back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, SncseError
from ..io import atomic_write, iter_lines, read_json, write_json

log = logging.getLogger(__name__)

KINDS = ("exact", "faiss")
INDEX_FILE = "index.json"
TEXTS_FILE = "texts.jsonl"
EMBEDDINGS_FILE = "embeddings.npy"  # exact
FAISS_FILE = "faiss.index"  # faiss
#: every file ``Index.save`` may write into its folder
SAVED_FILES = (INDEX_FILE, TEXTS_FILE, EMBEDDINGS_FILE, FAISS_FILE)
FORMAT_VERSION = 1
DEFAULT_FAISS_FACTORY = "HNSW32"
DEFAULT_FAISS_PARAMS = {"efSearch": 128}
SCORE_DECIMALS = 6


@dataclass(frozen=True)
class Hit:
    """One search result: ``rank`` from 1, the corpus ``row`` (0-based) and ``line`` (1-based line of the
    corpus file, or position in the sentence list), its ``text`` when known, and the cosine ``score``."""

    rank: int
    row: int
    line: int
    text: str | None
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "line": self.line, "text": self.text, "score": self.score}


def _normalize(x: np.ndarray) -> np.ndarray:
    """Rows to unit length in float32; zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


class Index:
    """Base of the backends: rows, their texts and line numbers, the model that embeds queries."""

    kind = ""

    def __init__(self, dim: int, rows: int, texts: Sequence[str] | None = None,
                 lines: Sequence[int] | np.ndarray | None = None, model: Any = None,
                 info: dict[str, Any] | None = None):
        if texts is not None and len(texts) != rows:
            raise DataError(f"{len(texts)} texts for {rows} embeddings; they must match one to one")
        if lines is not None and len(lines) != rows:
            raise DataError(f"{len(lines)} line numbers for {rows} embeddings")
        self.dim = dim
        self.rows = rows
        self.texts = list(texts) if texts is not None else None
        self.lines = np.asarray(lines, dtype=np.int64) if lines is not None else np.arange(1, rows + 1)
        self.model = model
        self.info = dict(info or {})

    def __len__(self) -> int:
        return self.rows

    # -------------------------------------------------------------------- queries
    def _query_vectors(self, queries: str | Sequence[str] | np.ndarray, batch_size: int) -> np.ndarray:
        if isinstance(queries, np.ndarray):
            vectors = queries.reshape(1, -1) if queries.ndim == 1 else queries
        else:
            texts = [queries] if isinstance(queries, str) else list(queries)
            vectors = self._encoder().encode(texts, batch_size=batch_size, normalize=True, show_progress=False)
        if vectors.shape[1] != self.dim:
            raise SncseError(f"queries have {vectors.shape[1]} dimensions, the index {self.dim}; embed them with "
                             f"the corpus's model ({self.info.get('model')})")
        return _normalize(vectors)

    def _encoder(self) -> Any:
        """The model that embeds text queries: the one given, else the one recorded (loaded once)."""
        if self.model is None:
            name = self.info.get("model")
            if not name:
                raise SncseError("this index has no model to embed text queries; pass model= or query vectors")
            from ..encoders import SentenceEncoder

            self.model = SentenceEncoder.load(name, pooler=self.info.get("pooler"))
        return self.model

    def search(self, queries: str | Sequence[str] | np.ndarray, k: int = 10,
               batch_size: int = 128) -> list[list[Hit]]:
        """The ``k`` nearest rows of each query (a string, a list of strings, or query vectors), best
        first: one list of :class:`Hit` per query."""
        if k < 1:
            raise SncseError(f"k must be at least 1, got {k}", setting="top_k")
        vectors = self._query_vectors(queries, batch_size)
        scores, rows = self.search_vectors(vectors, min(k, self.rows))
        scores = np.round(scores.astype(np.float64), SCORE_DECIMALS)  # float64: 0.989064, not 0.98906397...
        order = np.lexsort((np.where(rows < 0, np.iinfo(np.int64).max, rows), -scores), axis=1)
        scores, rows = np.take_along_axis(scores, order, 1), np.take_along_axis(rows, order, 1)
        return [[Hit(rank=r + 1, row=int(row), line=int(self.lines[row]),
                     text=self.texts[row] if self.texts is not None else None, score=float(score))
                 for r, (score, row) in enumerate(zip(s, i, strict=True)) if row >= 0]
                for s, i in zip(scores, rows, strict=True)]

    def search_vectors(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each (Q, k), for L2-normalised float32 query vectors; rows -1 where fewer
        than ``k`` were found."""
        raise NotImplementedError

    # -------------------------------------------------------------------- persistence
    def _vectors_to(self, directory: Path) -> dict[str, Any]:
        raise NotImplementedError

    def save(self, directory: str | Path) -> Path:
        """Write the index to ``directory`` (created if needed); ``index.json`` is written last, so a
        folder without it is never mistaken for a complete index."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / INDEX_FILE).unlink(missing_ok=True)
        extra = self._vectors_to(directory)
        if self.texts is not None or not np.array_equal(self.lines, np.arange(1, self.rows + 1)):
            with atomic_write(directory / TEXTS_FILE) as fh:
                for line, text in zip(self.lines.tolist(), self.texts or [None] * self.rows, strict=True):
                    fh.write(json.dumps([line, text], ensure_ascii=False) + "\n")
        write_json(directory / INDEX_FILE, {"format_version": FORMAT_VERSION, "kind": self.kind, "dim": self.dim,
                                            "rows": self.rows, **self.info, **extra})
        return directory

    @classmethod
    def load(cls, directory: str | Path, model: Any = None) -> Index:
        """Read an index written by ``save``; ``model`` embeds text queries (default: the recorded one,
        loaded on the first text query)."""
        directory = Path(directory)
        meta = read_json(directory / INDEX_FILE)
        kind = meta.get("kind")
        if kind not in KINDS:
            raise DataError(f"unknown index kind {kind!r}", path=directory / INDEX_FILE)
        texts, lines = None, None
        if (directory / TEXTS_FILE).is_file():
            pairs = [json.loads(x) for x in iter_lines(directory / TEXTS_FILE)]
            lines = [p[0] for p in pairs]
            texts = [p[1] for p in pairs] if pairs and pairs[0][1] is not None else None
        info = {k: v for k, v in meta.items() if k not in ("format_version", "kind", "dim", "rows", "faiss_file",
                                                         "embeddings_file")}
        if kind == "exact":
            from ..embed.npy import open_rows

            emb = open_rows(directory / meta["embeddings_file"], meta.get("rows"), meta.get("dim"))
            return ExactIndex(emb, texts=texts, lines=lines, model=model, info=info, normalized=True)
        faiss = _faiss()
        raw = np.fromfile(directory / meta["faiss_file"], dtype=np.uint8)
        return FaissIndex(faiss.deserialize_index(raw), texts=texts, lines=lines, model=model, info=info)


class ExactIndex(Index):
    """Exact cosine search: corpus chunks of ``chunk_rows`` rows times a block of queries, top k merged."""

    kind = "exact"

    def __init__(self, embeddings: np.ndarray, texts: Sequence[str] | None = None,
                 lines: Sequence[int] | np.ndarray | None = None, model: Any = None,
                 info: dict[str, Any] | None = None, normalized: bool = False, chunk_rows: int = 16384,
                 device: str = "cpu"):
        if embeddings.ndim != 2:
            raise DataError(f"embeddings must be a 2-D array (rows, dim), got shape {embeddings.shape}")
        super().__init__(embeddings.shape[1], embeddings.shape[0], texts, lines, model, info)
        self.normalized = normalized
        self.chunk_rows = chunk_rows
        self.device = device
        self._resident = None
        if isinstance(embeddings, np.memmap):
            # stays on disk: each search converts (and normalises) one chunk at a time
            self.embeddings = embeddings
        else:
            # in memory anyway: normalise once and keep it as a tensor (no copy for normalised float32)
            import torch

            unit = embeddings if normalized and embeddings.dtype == np.float32 else _normalize(embeddings)
            self.embeddings = np.ascontiguousarray(unit, dtype=np.float32)
            self.normalized = True
            self._resident = torch.from_numpy(self.embeddings).to(device)

    def _chunk(self, start: int):
        import torch

        if self._resident is not None:
            return self._resident[start : start + self.chunk_rows]
        block = np.array(self.embeddings[start : start + self.chunk_rows], dtype=np.float32)  # a writable copy
        if not self.normalized:
            block = _normalize(block)
        return torch.from_numpy(block).to(self.device)

    def search_vectors(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        n_q = len(queries)
        best_s = torch.full((n_q, k), -torch.inf)
        best_i = torch.full((n_q, k), -1, dtype=torch.long)
        q_block = max(1, (1 << 24) // self.chunk_rows)  # at most 16M scores (64 MB) in memory at once
        q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(self.device)
        with torch.no_grad():
            for start in range(0, self.rows, self.chunk_rows):
                chunk = self._chunk(start)
                for qs in range(0, n_q, q_block):
                    scores = q[qs : qs + q_block] @ chunk.T
                    top_s, top_i = scores.topk(min(k, scores.shape[1]), dim=1)
                    top_s = top_s.round(decimals=SCORE_DECIMALS)  # ties as in search(): broken by row
                    merged_s = torch.cat([best_s[qs : qs + q_block], top_s.cpu()], dim=1)
                    merged_i = torch.cat([best_i[qs : qs + q_block], top_i.cpu() + start], dim=1)
                    keep_s, keep = _top_by_score_then_row(merged_s, merged_i, k)
                    best_s[qs : qs + q_block] = keep_s
                    best_i[qs : qs + q_block] = torch.gather(merged_i, 1, keep)
        return best_s.numpy(), best_i.numpy()

    def _vectors_to(self, directory: Path) -> dict[str, Any]:
        from ..embed.npy import write_rows

        blocks = (_normalize(np.asarray(self.embeddings[s : s + 65536])) if not self.normalized
                  else np.asarray(self.embeddings[s : s + 65536], dtype=np.float32)
                  for s in range(0, self.rows, 65536))
        write_rows(directory / EMBEDDINGS_FILE, blocks, self.rows, self.dim, "float32")
        return {"embeddings_file": EMBEDDINGS_FILE}


def _top_by_score_then_row(scores, rows, k: int):
    """Top ``k`` columns per row of ``scores``, ties broken by the smaller corpus row (-1 = empty last)."""
    import torch

    # sort by row first (empties last), then stably by score: equal scores keep the row order
    order = torch.argsort(torch.where(rows < 0, torch.iinfo(torch.long).max, rows), dim=1, stable=True)
    by_score = torch.argsort(torch.gather(scores, 1, order), dim=1, descending=True, stable=True)
    keep = torch.gather(order, 1, by_score[:, :k])
    return torch.gather(scores, 1, keep), keep


def _faiss():
    try:
        import faiss
    except ImportError:
        raise SncseError("the faiss index needs faiss-cpu: pip install 'sncse[faiss]' (or faiss-cpu)") from None
    return faiss


class FaissIndex(Index):
    """Approximate (or any ``faiss.index_factory``) inner-product search over normalised rows."""

    kind = "faiss"

    def __init__(self, index: Any, texts: Sequence[str] | None = None,
                 lines: Sequence[int] | np.ndarray | None = None, model: Any = None,
                 info: dict[str, Any] | None = None):
        super().__init__(index.d, index.ntotal, texts, lines, model, info)
        self.index = index
        self.set_params(self.info.get("faiss_params") or {})

    @classmethod
    def build(cls, embeddings: np.ndarray, factory: str = DEFAULT_FAISS_FACTORY,
              params: dict[str, Any] | None = None, **kwargs: Any) -> FaissIndex:
        """Build from (N, d) embeddings (normalised here), adding 65,536 rows at a time."""
        faiss = _faiss()
        dim = embeddings.shape[1]
        try:
            index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as exc:
            raise SncseError(f"faiss cannot build index {factory!r}: {str(exc).splitlines()[-1]}") from None
        if not index.is_trained:  # e.g. IVF: learn the coarse quantizer on (up to) 100k rows
            index.train(_normalize(embeddings[: 100_000]))
        for start in range(0, len(embeddings), 65536):
            index.add(_normalize(embeddings[start : start + 65536]))
        info = {**kwargs.pop("info", {}), "faiss_factory": factory,
                "faiss_params": dict(DEFAULT_FAISS_PARAMS if params is None else params)}
        return cls(index, info=info, **kwargs)

    def set_params(self, params: dict[str, Any]) -> None:
        """Search-time faiss parameters (``{"efSearch": 64}`` for HNSW, ``{"nprobe": 32}`` for IVF)."""
        if not params:
            return
        faiss = _faiss()
        space = faiss.ParameterSpace()
        for name, value in params.items():
            try:
                space.set_index_parameter(self.index, name, value)
            except RuntimeError:
                log.warning("faiss index %s has no parameter %s; ignored", self.info.get("faiss_factory"), name)

    def search_vectors(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, rows = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, rows

    def _vectors_to(self, directory: Path) -> dict[str, Any]:
        faiss = _faiss()
        with atomic_write(directory / FAISS_FILE, "wb", encoding=None) as fh:
            fh.write(faiss.serialize_index(self.index).tobytes())
        return {"faiss_file": FAISS_FILE}


def make_index(embeddings: np.ndarray, kind: str = "exact", *, texts: Sequence[str] | None = None,
               lines: Sequence[int] | np.ndarray | None = None, model: Any = None,
               info: dict[str, Any] | None = None, normalized: bool = False,
               faiss_factory: str = DEFAULT_FAISS_FACTORY, faiss_params: dict[str, Any] | None = None) -> Index:
    """An index of ``kind`` (exact | faiss) over ``embeddings`` (rows = ``texts``/``lines`` if given)."""
    if kind not in KINDS:
        raise SncseError(f"index kind must be one of {', '.join(KINDS)}, got {kind!r}", setting="kind")
    if kind == "exact":
        return ExactIndex(embeddings, texts=texts, lines=lines, model=model, info=info, normalized=normalized)
    return FaissIndex.build(embeddings, faiss_factory, faiss_params, texts=texts, lines=lines, model=model,
                            info=info or {})
