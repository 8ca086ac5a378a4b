"""Training data tokenized once, stored as flat int32 arrays, and cached on disk.

A column (one "view" of every example: anchor, positive, negation, hard negative) is a flat array
of token ids plus offsets, so that a batch is cut out with a few vectorised numpy operations and no
Python loop over tokens. The anchor uses the original prompt template; the other views use the
view template (SNCSE, Section 4.1; only the ``prompt`` pooler has templates).

The cache file is keyed by the tokenizer (a hash of its full serialisation), the training file's
content hash, the maximum length, both templates, the views and the preprocessing options: change any
of them and the data is tokenized again; nothing stale is ever read.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..errors import DataError, SncseError
from ..io import atomic_write
from ..progress import task

if TYPE_CHECKING:
    from .corpus import TrainExamples

log = logging.getLogger(__name__)

CACHE_VERSION = 1
#: which prompt template each view is wrapped in (matters for the ``prompt`` pooler only)
VIEW_TEMPLATE = {"anchor": "original", "positive": "view", "negation": "view", "hard_negative": "view"}
VIEW_ORDER = ("anchor", "positive", "negation", "hard_negative")
_CHUNK = 8192  # sentences per tokenizer call (the fast tokenizer batches them in Rust)


class TokenizingModel(Protocol):
    """What the data is tokenized with: a ``SentenceEncoder`` has it all (its ``tokenize`` wraps each
    sentence in the prompt template of its view and truncates the sentence, never the template)."""

    tokenizer: Any
    max_length: int
    template: str
    view_template: str
    pooler: Any  # its ``uses_prompt``

    def tokenize(self, sentences: Sequence[str], view: str = "original",
                 max_length: int | None = None) -> list[list[int]]: ...


@dataclass
class TokenColumn:
    """Token ids of one view of all examples: row i is ``flat[offsets[i]:offsets[i+1]]``."""

    flat: np.ndarray  # (total tokens,) int32
    offsets: np.ndarray  # (n + 1,) int64

    @classmethod
    def from_lists(cls, ids: Sequence[Sequence[int]]) -> TokenColumn:
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.fromiter((t for x in ids for t in x), dtype=np.int32, count=int(offsets[-1]))
        return cls(flat, offsets)

    @classmethod
    def concat(cls, parts: Sequence[TokenColumn]) -> TokenColumn:
        if not parts:
            return cls(np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64))
        flat = np.concatenate([p.flat for p in parts])
        lengths = np.concatenate([p.lengths for p in parts])
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(flat, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def row(self, i: int) -> list[int]:
        return self.flat[self.offsets[i] : self.offsets[i + 1]].tolist()


@dataclass
class TokenizedData:
    """Every view a loss needs, tokenized. ``views`` is the order in which a batch stacks them."""

    columns: dict[str, TokenColumn]
    views: tuple[str, ...]
    pad_id: int
    key: str = ""

    def __len__(self) -> int:
        return len(self.columns["anchor"])

    @property
    def lengths(self) -> np.ndarray:
        """Per-example length of the longest view (what a batch is padded to)."""
        return np.max(np.stack([self.columns[v].lengths for v in self.views]), axis=0)


# ------------------------------------------------------------------------------------- planning
def plan_views(loss_views: Sequence[str], examples: TrainExamples, loss_name: str = "") -> tuple[str, ...]:
    """The views a batch stacks for a loss: anchor, positive, then negation and/or hard negative."""
    unknown = set(loss_views) - set(VIEW_ORDER)
    if unknown:
        raise SncseError(f"loss '{loss_name}' asks for unknown views {sorted(unknown)}")
    views = ["anchor", "positive"]
    if "negation" in loss_views:
        if examples.negation is None:
            raise SncseError(
                f"loss '{loss_name}' needs soft negatives (negated sentences) but {examples.source or 'the data'} "
                f"is {examples.format} data without them; produce them with `sncse negate {examples.source or 'FILE'}` "
                "and train on its .negations.jsonl, or pick a loss without negations (infonce, mixcse)"
            )
        views.append("negation")
    if "hard_negative" in loss_views:
        if examples.hard_negative is None:
            raise SncseError(
                f"loss '{loss_name}' needs NLI triplets (premise, entailment, contradiction) but "
                f"{examples.source or 'the data'} is {examples.format} data without hard negatives; pass a "
                "sent0,sent1,hard_neg CSV or a folder with SNLI's s1/s2/labels files"
            )
        views.append("hard_negative")
    return tuple(views)


def _sentences_for(view: str, examples: TrainExamples) -> list[str]:
    if view == "positive" and examples.positive is None:
        return examples.anchor  # unsupervised: the same sentence, a second dropout pass
    col = examples.column(view)
    assert col is not None
    return col


def _aliases_anchor(view: str, examples: TrainExamples, model: TokenizingModel) -> bool:
    """True when a view's tokens are exactly the anchor's (same sentences, no template difference)."""
    if view != "positive" or examples.positive is not None:
        return False
    return not model.pooler.uses_prompt or model.template == model.view_template


# ------------------------------------------------------------------------------------- keys
def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A hash of everything that decides the tokenizer's output."""
    h = hashlib.sha256(type(tokenizer).__name__.encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        h.update(backend.to_str().encode())
    else:  # pragma: no cover - slow tokenizers do not exist in transformers v5
        h.update(str(getattr(tokenizer, "name_or_path", "")).encode())
        h.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    for attr in ("mask_token", "pad_token", "cls_token", "sep_token", "bos_token", "eos_token"):
        h.update(f"{attr}={getattr(tokenizer, attr, None)}".encode())
    return h.hexdigest()


def cache_key(model: TokenizingModel, source_digest: str, views: Sequence[str], **options: Any) -> str:
    spec = {
        "version": CACHE_VERSION,
        "tokenizer": tokenizer_fingerprint(model.tokenizer),
        "source": source_digest,
        "max_length": model.max_length,
        "prompt": bool(model.pooler.uses_prompt),
        "template": model.template if model.pooler.uses_prompt else None,
        "view_template": model.view_template if model.pooler.uses_prompt else None,
        "views": list(views),
        **options,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------- build / cache
def tokenize_examples(model: TokenizingModel, examples: TrainExamples, views: Sequence[str],
                      key: str = "") -> TokenizedData:
    """Tokenize every view of every example with ``model.tokenize`` (templates, truncation)."""
    columns: dict[str, TokenColumn] = {}
    total = sum(len(examples) for v in views if not _aliases_anchor(v, examples, model))
    with task("tokenizing", total=total, unit="sent") as advance:
        for view in views:
            if _aliases_anchor(view, examples, model):
                continue
            sentences = _sentences_for(view, examples)
            parts: list[TokenColumn] = []  # per chunk: Python lists of ids never exist for the whole corpus
            for start in range(0, len(sentences), _CHUNK):
                chunk = sentences[start : start + _CHUNK]
                parts.append(TokenColumn.from_lists(model.tokenize(chunk, view=VIEW_TEMPLATE[view])))
                advance(len(chunk))
            columns[view] = TokenColumn.concat(parts)
    for view in views:
        if view not in columns:
            columns[view] = columns["anchor"]
    data = TokenizedData(columns, tuple(views), pad_id=model.tokenizer.pad_token_id or 0, key=key)
    if model.pooler.uses_prompt:
        check_single_mask(data, model.tokenizer.mask_token_id, examples)
    return data


def check_single_mask(data: TokenizedData, mask_id: int, examples: TrainExamples | None = None) -> None:
    """Exactly one mask token per prompt sequence (a sentence containing the mask token breaks it)."""
    for view in data.views:
        col = data.columns[view]
        if not len(col):
            continue
        counts = np.add.reduceat((col.flat == mask_id).astype(np.int64), col.offsets[:-1])
        counts[col.lengths == 0] = 0
        bad = np.flatnonzero(counts != 1)
        if len(bad):
            i = int(bad[0])
            text = ""
            if examples is not None:
                text = f": {_sentences_for(view, examples)[i][:80]!r}"
            raise DataError(f"{len(bad)} {view} sequence(s) do not have exactly one mask token after wrapping in the "
                            f"prompt template (the sentence contains the mask token?); first is example {i + 1}{text}",
                            path=examples.source if examples is not None else None)


def save_tokenized(data: TokenizedData, path: str | Path) -> None:
    arrays: dict[str, np.ndarray] = {}
    stored = []
    for view in data.views:
        col = data.columns[view]
        if view != "anchor" and col is data.columns["anchor"]:
            continue
        arrays[f"{view}.flat"] = col.flat
        arrays[f"{view}.offsets"] = col.offsets
        stored.append(view)
    meta = {"key": data.key, "views": list(data.views), "stored": stored, "pad_id": data.pad_id}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with atomic_write(path, mode="wb") as fh:
        fh.write(buf.getvalue())


def load_tokenized(path: str | Path, key: str) -> TokenizedData | None:
    """The cached data if ``path`` exists and holds ``key``; None otherwise (a broken file is rebuilt)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(bytes(npz["meta"]).decode())
            if meta.get("key") != key:
                return None
            columns = {v: TokenColumn(npz[f"{v}.flat"], npz[f"{v}.offsets"]) for v in meta["stored"]}
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable token cache %s (%s)", path, exc)
        return None
    for view in meta["views"]:
        columns.setdefault(view, columns["anchor"])
    return TokenizedData(columns, tuple(meta["views"]), pad_id=int(meta["pad_id"]), key=key)


def cache_file(cache_dir: str | Path, key: str) -> Path:
    """Where the tokenized data of ``key`` (:func:`cache_key`) is cached in ``cache_dir``."""
    return Path(cache_dir) / f"tokens-{key[:24]}.npz"


def cached_tokenize(model: TokenizingModel, examples: TrainExamples, views: Sequence[str],
                    cache_dir: str | Path | None, source_digest: str, write: bool = True,
                    **options: Any) -> TokenizedData:
    """:func:`tokenize_examples` through the on-disk cache in ``cache_dir`` (None: no cache).

    ``write=False`` only reads: the other processes of a multi-process run read what rank 0 wrote.
    """
    key = cache_key(model, source_digest, views, **options)
    if cache_dir is None:
        return tokenize_examples(model, examples, views, key=key)
    path = cache_file(cache_dir, key)
    data = load_tokenized(path, key)
    if data is not None and len(data) == len(examples):
        log.info("token cache hit: %s", path)
        return data
    data = tokenize_examples(model, examples, views, key=key)
    if write:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        save_tokenized(data, path)
        log.info("token cache written: %s", path)
    return data
