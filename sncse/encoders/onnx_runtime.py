"""``OnnxEncoder``: a folder written by ``sncse export --format onnx``, run with onnxruntime.

The graph maps token ids to the sentence embedding (pooling, the MLP head where inference uses it,
and optionally L2 normalisation are inside it), so the only Python left is tokenization. That is
``SentenceEncoder.tokenize`` itself (the same function, not a copy), so the prompt template, the
truncation of long sentences and the special tokens are exactly the torch path's. ``encode`` and
``similarity`` are :class:`~sncse.encoders.encoding.Encodes`' too: each distinct sentence once,
length-sorted batches, rows in input order, ``normalize`` and ``convert_to``.

>>> import sncse
>>> model = sncse.load("exported/minilm-onnx")          # doctest: +SKIP
>>> model.encode(["A man is playing a guitar."], normalize=True).shape  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import registry
from ..config.schema import ORIGINAL_TEMPLATE, VIEW_TEMPLATE
from ..errors import SncseError
from .encoding import Encodes
from .files import META_FILE, ONNX_FILE
from .model import SentenceEncoder

log = logging.getLogger(__name__)

INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "sentence_embedding"
EXTRA_HINT = "pip install 'sncse[onnx]'"


def import_onnxruntime() -> Any:
    """``onnxruntime``, or a one-line error naming the extra that installs it."""
    try:
        import onnxruntime
    except ImportError:
        raise SncseError(f"running an ONNX model needs onnxruntime, which is not installed: {EXTRA_HINT}") from None
    return onnxruntime


def session_options(threads: int | None = None) -> Any:
    """All of onnxruntime's graph optimisations; ``threads`` intra-op threads (None: one per core)."""
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: ORT's warnings about unused initializers are noise here
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    return options


def _providers(device: str | None) -> tuple[list[Any], str]:
    """onnxruntime execution providers for ``device`` (auto | cpu | cuda | cuda:N) and the device string."""
    ort = import_onnxruntime()
    available = ort.get_available_providers()
    device = str(device or "auto")
    has_cuda = "CUDAExecutionProvider" in available
    if device == "cpu" or (device == "auto" and not has_cuda):
        return ["CPUExecutionProvider"], "cpu"
    if device == "auto" or device.startswith("cuda"):
        if not has_cuda:
            raise SncseError(f"device {device!r}: this onnxruntime has no CUDA provider "
                             "(install onnxruntime-gpu instead of onnxruntime)")
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"], f"cuda:{index}"
    raise SncseError(f"device must be auto, cpu, cuda or cuda:N for an ONNX model, got {device!r}")


class OnnxEncoder(Encodes):
    """A sentence encoder backed by an onnxruntime session: ``encode`` and ``similarity`` as SentenceEncoder."""

    # One tokenization for both runtimes: these are SentenceEncoder's own methods. They read
    # ``tokenizer``, ``pooler.uses_prompt``, ``max_length``, the templates and ``_template_ids``.
    tokenize = SentenceEncoder.tokenize
    special_wrap = SentenceEncoder.special_wrap
    _template_parts = SentenceEncoder._template_parts

    def __init__(self, session: Any, tokenizer: Any, meta: dict[str, Any], device: str = "cpu",
                 path: str | Path | None = None):
        self.session = session
        self.tokenizer = tokenizer
        self.meta = meta
        self.path = Path(path) if path is not None else None
        self.pooler_name = registry.resolve_name("poolers", meta.get("pooler", "cls_before_pooler")).split(".v")[0]
        pooler_cls = registry.get("poolers", self.pooler_name)
        self.pooler = pooler_cls(mask_token_id=tokenizer.mask_token_id) if pooler_cls.uses_prompt else pooler_cls()
        self.mlp = meta.get("mlp", "none")
        self.max_length = int(meta.get("max_length", 32))
        self.inference_max_length = int(meta.get("inference_max_length") or 512)
        self.template = meta.get("template", ORIGINAL_TEMPLATE)
        self.view_template = meta.get("view_template", VIEW_TEMPLATE)
        self.base_encoder = meta.get("base_encoder")
        self._template_ids: dict[str, tuple[list[int], list[int]]] = {}
        self.onnx_info: dict[str, Any] = dict(meta.get("onnx") or {})
        self._inputs = [i.name for i in session.get_inputs()]
        missing = [n for n in INPUT_NAMES if n not in self._inputs]
        if missing:
            raise SncseError(f"the ONNX graph has no input(s) {', '.join(missing)} (inputs: {', '.join(self._inputs)})",
                             path=self.path)
        dim = session.get_outputs()[0].shape[-1]
        self._dim = int(dim) if isinstance(dim, int) else int(meta.get("hidden_size", 0))
        import torch

        self.device = torch.device(device)

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, path: str | Path, pooler: str | None = None, device: str | None = "auto",
             threads: int | None = None, graph: str = ONNX_FILE) -> OnnxEncoder:
        """Open the folder ``path`` (``model.onnx`` + tokenizer + ``sncse_model.json``).

        The pooler is part of the graph: ``pooler`` may only repeat the recorded one. ``threads``:
        onnxruntime intra-op threads (default: one per core); ``graph``: another graph file of the folder.
        """
        from transformers import AutoTokenizer

        path = Path(path).expanduser()
        for name in (graph, META_FILE):
            if not (path / name).is_file():
                raise SncseError(f"not an ONNX export: {name} is missing", path=path)
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        recorded = meta.get("pooler", "cls_before_pooler")
        if pooler is not None and registry.resolve_name("poolers", pooler) != registry.resolve_name("poolers", recorded):
            raise SncseError(f"the pooler is part of this ONNX graph ({recorded}); export the model again with "
                             f"pooler {pooler!r} to use it", path=path)
        ort = import_onnxruntime()
        providers, device_str = _providers(device)
        session = ort.InferenceSession(str(path / graph), session_options(threads), providers=providers)
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        return cls(session, tokenizer, meta, device=device_str, path=path)

    @property
    def hidden_size(self) -> int:
        return self._dim

    @property
    def training(self) -> bool:
        return False

    def eval(self) -> OnnxEncoder:
        return self

    def metadata(self) -> dict[str, Any]:
        return dict(self.meta)

    # ------------------------------------------------------------------ inference
    def collate(self, ids: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
        """Right-pad id lists into int64 ``input_ids`` / ``attention_mask`` arrays (as SentenceEncoder.collate)."""
        longest = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = np.full((len(ids), longest), pad, dtype=np.int64)
        attention = np.zeros((len(ids), longest), dtype=np.int64)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = x
            attention[i, : len(x)] = 1
        return {"input_ids": input_ids, "attention_mask": attention}

    def _check_masks(self, input_ids: np.ndarray) -> None:
        """The prompt pooler's rule, as in the torch path: exactly one mask token per sequence."""
        counts = (input_ids == self.tokenizer.mask_token_id).sum(1)
        bad = np.flatnonzero(counts != 1)
        if len(bad):
            raise ValueError(f"prompt pooler: sequences {bad[:5].tolist()} have {counts[bad[:5]].tolist()} mask "
                             "tokens, expected 1")

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """(B, L) int64 token ids -> (B, H) float32 sentence vectors, as the graph computes them."""
        if self.pooler.uses_prompt:
            self._check_masks(input_ids)
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        return self.session.run([OUTPUT_NAME], {k: v for k, v in feed.items() if k in self._inputs})[0]

    __call__ = forward

    def _embed_batches(self, ids: list[list[int]], batches: list[list[int]], amp: str,
                       advance: Callable[[int], None]) -> np.ndarray:
        """The graph's rows (``amp`` is accepted and ignored: the precision is the graph's)."""
        out = np.empty((len(ids), self.hidden_size), dtype=np.float32)
        for idx in batches:
            out[idx] = self(**self.collate([ids[i] for i in idx]))
            advance(len(idx))
        return out

    def _rows(self, out: np.ndarray, order: list[int], normalize: bool, convert_to: str) -> Any:
        if normalize:  # as torch.nn.functional.normalize: x / max(||x||, 1e-12)
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        result = out[np.asarray(order, dtype=np.int64)] if order else out[:0]
        if convert_to == "numpy":
            return result
        import torch

        return torch.from_numpy(np.ascontiguousarray(result))

    def precision(self, amp: str = "auto") -> str:
        """What ``encode`` computes in: the graph's weights, ``fp32`` or the quantization (``amp`` is ignored)."""
        return str(self.onnx_info.get("quantize") or "fp32")

    def __repr__(self) -> str:
        quant = self.onnx_info.get("quantize")
        return (f"OnnxEncoder({str(self.path)!r}, pooler={self.pooler_name!r}, dim={self.hidden_size}"
                + (f", quantize={quant!r}" if quant else "") + f", device={str(self.device)!r})")
