"""One entry point for ``sncse search``: open or build the index, embed the queries, collect the hits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..embed.encode import sidecar_path
from ..errors import SncseError
from ..outputs import PathPlan
from . import index_corpus_file, open_embeddings
from .index import SAVED_FILES, Index

log = logging.getLogger(__name__)


def open_index(corpus: str | Path, model: Any = None, kind: str = "exact", texts: str | Path | None = None,
               batch_size: int = 128, show_progress: bool = True, **options: Any) -> Index:
    """A saved index folder, an ``sncse encode`` ``.npy`` (with its texts), or a text corpus embedded
    now with ``model`` (needed only for the last)."""
    corpus = Path(corpus)
    if corpus.is_dir():
        index = Index.load(corpus, model=model)
        if index.kind != kind:
            log.info("%s is a saved %s index; searching it as such", corpus, index.kind)
        return index
    if corpus.suffix == ".npy":
        return open_embeddings(corpus, texts=texts, kind=kind, model=model, **options)
    if model is None:
        raise SncseError("a text corpus is embedded before it is searched: a model is needed")
    return index_corpus_file(model, corpus, kind=kind, batch_size=batch_size, show_progress=show_progress,
                             **options)


def plan_paths(model: Any, corpus: str | Path, texts: str | Path | None = None,
               save_index: str | Path | None = None, paths: PathPlan | None = None) -> PathPlan:
    """What a search reads (the model's folder, the corpus, an array's sidecar, the texts) and writes
    (the files of a saved index)."""
    from ..encoders.resolve import read_model

    plan = read_model(paths or PathPlan(), model)
    corpus = Path(corpus)
    plan.read(corpus, "the corpus", folder=corpus.is_dir()).read(texts, "the texts")
    if corpus.suffix == ".npy":
        plan.read(sidecar_path(corpus), "the corpus's sidecar")
    if save_index is not None:
        plan.write(save_index, "the saved index", folder=True)
        for name in SAVED_FILES:
            plan.write(Path(save_index) / name, "the saved index")
    return plan


def _warn_if_other_model(index: Index, name: str, encoder: Any) -> None:
    recorded, pooler = index.info.get("model"), index.info.get("pooler")
    if recorded and recorded != name:
        log.warning("the corpus was embedded with %s, the queries are embedded with %s: scores are only "
                    "meaningful with the same model", recorded, name)
    if pooler and pooler != getattr(encoder, "pooler_name", pooler):
        log.warning("the corpus was embedded with pooler %s, the queries with %s", pooler, encoder.pooler_name)


def run_search(model: str | Any, corpus: str | Path, queries: Sequence[str], top_k: int = 10,
               kind: str = "exact", texts: str | Path | None = None, save_index: str | Path | None = None,
               batch_size: int = 128, pooler: str | None = None, device: str = "auto",
               show_progress: bool = True, paths: PathPlan | None = None) -> dict[str, Any]:
    """``{"results": [{"query", "hits": [{"rank", "line", "text", "score"}]}], "index": {...}}``.
    ``paths``: the caller's plan of paths (its own outputs), checked with the search's before any work."""
    queries = list(queries)
    if not queries:
        raise SncseError("no queries to search for")
    if not all(q.strip() for q in queries):
        raise SncseError("a query is empty; give some text to search for")
    if top_k < 1:
        raise SncseError(f"top k must be at least 1, got {top_k}", setting="top_k")
    plan_paths(model, corpus, texts, save_index, paths).check()
    is_text = not (Path(corpus).is_dir() or Path(corpus).suffix == ".npy")
    # an array or a saved index is checked (sidecar, texts) before the model is loaded
    index = None if is_text else open_index(corpus, kind=kind, texts=texts)
    if isinstance(model, str | Path):
        from ..encoders import SentenceEncoder

        name, encoder = str(model), SentenceEncoder.load(str(model), pooler=pooler, device=device)
    else:
        name, encoder = getattr(model, "base_encoder", None) or type(model).__name__, model
    if index is None:
        index = open_index(corpus, model=encoder, kind=kind, batch_size=batch_size, show_progress=show_progress)
    else:
        index.model = encoder
        _warn_if_other_model(index, name, encoder)
    hits = index.search(queries, k=top_k, batch_size=batch_size)
    if save_index is not None:
        index.info.setdefault("model", name)
        index.save(save_index)
    return {"results": [{"query": q, "hits": [h.as_dict() for h in hs]} for q, hs in zip(queries, hits, strict=True)],
            "index": {"kind": index.kind, "rows": len(index), "dim": index.dim, **index.info}}
