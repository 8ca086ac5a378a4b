"""``SentenceEncoder``: a Hugging Face backbone, a pooler, and SimCSE's optional training-only MLP.

One object serves training (``forward`` on token ids), evaluation and users (``encode``), and
persistence (``save``/``load``): a saved directory holds the backbone in Hugging Face format plus
``sncse_model.json`` (pooler, head, templates, max length), so every later command uses the pooler
the model was trained with.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import registry
from ..config.schema import ORIGINAL_TEMPLATE, VIEW_TEMPLATE, AmpMode, MlpMode, ModelConfig, choices
from ..errors import SncseError
from ..io import umask_modes
from .amp import autocast
from .amp import precision as amp_precision
from .encoding import Encodes
from .files import HEAD_FILE, META_FILE, load_weights
from .poolers import MLPHead, Pooler
from .prompt import special_wrap, split_template

log = logging.getLogger(__name__)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``auto`` (CUDA where there is one, else the CPU) or the device named; a device this machine
    lacks (``cuda`` without CUDA, ``cuda:3`` with two GPUs) is an SncseError, not a failure later."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise SncseError(f"unknown device {str(device)!r}; use auto, cpu, cuda or cuda:N", setting="device") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise SncseError(f"device {str(device)!r} is not available: this PyTorch build or machine has no "
                             "CUDA GPU; use auto or cpu", setting="device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise SncseError(f"device {str(device)!r} is not available: this machine has "
                             f"{torch.cuda.device_count()} CUDA GPU(s), numbered from 0", setting="device")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise SncseError(f"device {str(device)!r} is not available on this machine; use auto or cpu", setting="device")
    return dev


class _HostCopies:
    """Rows computed on ``device`` -> ``out`` (a host tensor), ``depth`` batches in flight: on CUDA each
    batch is copied to pinned host memory without waiting (``non_blocking``), and a batch's rows are
    written into ``out`` once its copy has finished, so the host never waits for the batch just queued."""

    def __init__(self, out: torch.Tensor, device: torch.device, depth: int = 2):
        self.out, self.device, self.cuda, self.depth = out, device, device.type == "cuda", depth
        self.pending: list[tuple[list[int], torch.Tensor, Any]] = []

    def add(self, rows: list[int], values: torch.Tensor) -> None:
        if not self.cuda:
            self.out[rows] = values
            return
        host = values.to("cpu", non_blocking=True)  # into pinned memory, asynchronously
        done = torch.cuda.Event()
        done.record(torch.cuda.current_stream(self.device))
        self.pending.append((rows, host, done))
        while len(self.pending) > self.depth:
            self._land()

    def _land(self) -> None:
        rows, host, done = self.pending.pop(0)
        done.synchronize()
        self.out[rows] = host

    def finish(self) -> None:
        while self.pending:
            self._land()


class SentenceEncoder(Encodes, nn.Module):
    """A sentence encoder: ``backbone`` -> ``pooler`` -> (``head`` in training) -> vector."""

    def __init__(
        self,
        backbone: nn.Module,
        tokenizer: Any,
        pooler: str = "cls",
        mlp: MlpMode = "train",
        max_length: int = 32,
        template: str = ORIGINAL_TEMPLATE,
        view_template: str = VIEW_TEMPLATE,
        base_encoder: str | None = None,
        inference_max_length: int | None = None,
    ):
        super().__init__()
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.pooler_name = registry.base_name(registry.resolve_name("poolers", pooler))
        pooler_cls = registry.get("poolers", pooler)
        if pooler_cls.uses_prompt:
            if tokenizer.mask_token_id is None:
                raise SncseError(f"pooler 'prompt' needs a tokenizer with a mask token; {type(tokenizer).__name__} has none")
            self.pooler: Pooler = pooler_cls(mask_token_id=tokenizer.mask_token_id)
        else:
            self.pooler = pooler_cls()
        if mlp not in choices(MlpMode):
            raise SncseError(f"mlp must be one of {'|'.join(choices(MlpMode))}, got {mlp!r}")
        self.mlp = mlp
        self.head = MLPHead(backbone.config.hidden_size) if mlp != "none" else None
        self.max_length = max_length
        # SimCSE/SNCSE evaluation pads but does not cut sentences to the training length: encode()
        # truncates only at what the backbone can take.
        limit = getattr(backbone.config, "max_position_embeddings", 512) or 512
        if getattr(backbone.config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
            limit -= 2  # RoBERTa's position ids start after the padding index
        self.inference_max_length = min(inference_max_length or limit, limit)
        self.template = template
        self.view_template = view_template
        self.base_encoder = base_encoder
        self._template_ids: dict[str, tuple[list[int], list[int]]] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(cls, cfg: ModelConfig) -> SentenceEncoder:
        """Build from ``model.*`` config: a registered encoder name, a local directory or a hub name."""
        name = cfg.encoder
        if registry.is_registered("encoders", name) and not Path(name).exists():
            builder = registry.get("encoders", name)
        else:
            builder = registry.get("encoders", "hf")
        backbone, tokenizer = builder(name, attn_implementation=cfg.attn_implementation)
        if cfg.dropout is not None:
            for m in backbone.modules():
                if isinstance(m, nn.Dropout):
                    m.p = cfg.dropout
        return cls(backbone, tokenizer, pooler=cfg.pooler, mlp=cfg.mlp, max_length=cfg.max_length,
                   template=cfg.template, view_template=cfg.view_template, base_encoder=name)

    @property
    def device(self) -> torch.device:
        return next(self.backbone.parameters()).device

    @property
    def hidden_size(self) -> int:
        return int(self.backbone.config.hidden_size)

    # ------------------------------------------------------------------ tokenization
    def _template_parts(self, view: str) -> tuple[list[int], list[int]]:
        """Token ids of the template before and after ``{sentence}``, cached per view."""
        if view not in self._template_ids:
            template = self.template if view == "original" else self.view_template
            parts = split_template(template, self.tokenizer.mask_token)
            ids = [self.tokenizer(part, add_special_tokens=False)["input_ids"] for part in parts]
            self._template_ids[view] = (ids[0], ids[1])
        return self._template_ids[view]

    def special_wrap(self) -> tuple[list[int], list[int]]:
        """The special tokens the tokenizer puts before and after a single sequence ([CLS] ... [SEP])."""
        if not hasattr(self, "_wrap"):
            self._wrap = special_wrap(self.tokenizer)
        return self._wrap

    def tokenize(self, sentences: Sequence[str], view: str = "original",
                 max_length: int | None = None) -> list[list[int]]:
        """Token ids with special tokens, at most ``max_length`` (default: the training length), unpadded.

        ``view`` is "original" or "view" (positive / soft negative); it only matters for the prompt
        pooler, whose two templates differ. Too long a sentence is truncated, never the template.
        """
        sentences = list(sentences)
        max_length = max_length or self.max_length
        if not self.pooler.uses_prompt:
            return self.tokenizer(sentences, add_special_tokens=True, truncation=True,
                                  max_length=max_length)["input_ids"]
        before, after = self._template_parts(view)
        head, tail = self.special_wrap()
        budget = max_length - len(before) - len(after) - len(head) - len(tail)
        if budget < 1:
            raise SncseError(f"max_length {max_length} leaves no room for the sentence in the prompt template")
        body = self.tokenizer(sentences, add_special_tokens=False)["input_ids"]
        prefix, suffix = head + before, after + tail
        return [prefix + ids[:budget] + suffix for ids in body]

    def collate(self, ids: Sequence[Sequence[int]], device: torch.device | None = None,
                pad_to_multiple_of: int | None = None) -> dict[str, torch.Tensor]:
        """Pad a list of id lists into ``input_ids``/``attention_mask`` tensors."""
        longest = max(len(x) for x in ids)
        if pad_to_multiple_of:
            longest = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
        pad = self.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(ids), longest), pad, dtype=torch.long)
        attention = torch.zeros((len(ids), longest), dtype=torch.long)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = torch.as_tensor(x, dtype=torch.long)
            attention[i, : len(x)] = 1
        batch = {"input_ids": input_ids, "attention_mask": attention}
        if device is not None:
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        return batch

    # ------------------------------------------------------------------ forward
    def uses_head(self) -> bool:
        return self.head is not None and (self.mlp == "always" or (self.mlp == "train" and self.training))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                use_head: bool | None = None) -> torch.Tensor:
        """(B, L) token ids -> (B, H) sentence vectors."""
        outputs = self.backbone(input_ids=input_ids, attention_mask=attention_mask,
                                output_hidden_states=self.pooler.needs_all_layers, return_dict=True)
        pooled = self.pooler(outputs, {"input_ids": input_ids, "attention_mask": attention_mask})
        if self.uses_head() if use_head is None else (use_head and self.head is not None):
            pooled = self.head(pooled)
        return pooled

    @torch.no_grad()
    def _embed_batches(self, ids: list[list[int]], batches: list[list[int]], amp: AmpMode,
                       advance: Callable[[int], None]) -> torch.Tensor:
        """Evaluation mode (dropout off, training-only head off) on the model's device. On CUDA each
        finished batch is copied to the host while the next one runs, so the device holds a few
        batches, never all the rows."""
        was_training = self.training
        self.eval()
        device = self.device
        out = torch.empty((len(ids), self.hidden_size), dtype=torch.float32)
        copies = _HostCopies(out, device)
        for idx in batches:
            batch = self.collate([ids[i] for i in idx], device=device)
            with autocast(device, amp):
                emb = self(**batch)
            copies.add(idx, emb.float())
            advance(len(idx))
        copies.finish()
        self.train(was_training)
        return out

    def _rows(self, out: torch.Tensor, order: list[int], normalize: bool, convert_to: str) -> np.ndarray | torch.Tensor:
        if normalize:
            out = torch.nn.functional.normalize(out, dim=-1)
        result = out[torch.as_tensor(order, dtype=torch.long)] if order else out[:0]
        return result.numpy() if convert_to == "numpy" else result

    def precision(self, amp: AmpMode = "auto") -> str:
        """What ``encode(amp=amp)`` computes in on this model's device: ``fp32``, ``bf16`` or ``fp16``."""
        return amp_precision(self.device, amp)


    # ------------------------------------------------------------------ persistence
    def metadata(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "pooler": self.pooler_name,
            "mlp": self.mlp,
            "max_length": self.max_length,
            "template": self.template,
            "view_template": self.view_template,
            "base_encoder": self.base_encoder,
            "inference_max_length": self.inference_max_length,
            "hidden_size": self.hidden_size,
        }

    def save(self, directory: str | Path) -> Path:
        """Hugging Face backbone + tokenizer, ``sncse_model.json`` and the MLP head if any."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.backbone.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        if self.head is not None:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()},
                      str(directory / HEAD_FILE))
        (directory / META_FILE).write_text(json.dumps(self.metadata(), indent=2) + "\n", encoding="utf-8")
        for weights in directory.glob("*.safetensors"):  # safetensors writes 0600: follow the umask
            umask_modes(weights)
        return directory

    @classmethod
    def load(cls, path: str | Path, pooler: str | None = None, device: str | torch.device | None = "auto",
             attn_implementation: str | None = "sdpa") -> SentenceEncoder:
        """Load a run directory, a saved model, a sentence-transformers folder, a registered encoder
        name or a Hugging Face model (directory or hub name), all the same way.

        ``pooler`` overrides the recorded one.
        """
        from .resolve import resolve_model_path

        target = resolve_device(device)  # a device this machine lacks fails before the weights load
        spec = resolve_model_path(str(path))
        if spec.kind == "onnx":
            raise SncseError(f"{path}: an ONNX export runs with onnxruntime (sncse.load) and has no PyTorch "
                             "weights; use the model it was exported from")
        builder = registry.get("encoders", spec.builder)
        backbone, tokenizer = builder(spec.source, attn_implementation=attn_implementation)
        meta = spec.meta
        model = cls(
            backbone, tokenizer,
            pooler=pooler or meta.get("pooler", "cls_before_pooler"),
            mlp=meta.get("mlp", "none"),
            max_length=int(meta.get("max_length", 32)),
            template=meta.get("template", ORIGINAL_TEMPLATE),
            view_template=meta.get("view_template", VIEW_TEMPLATE),
            base_encoder=meta.get("base_encoder", str(path)),
            inference_max_length=meta.get("inference_max_length"),
        )
        if model.head is not None and spec.head_file is not None:
            model.head.load_state_dict(load_weights(spec.head_file))
        elif model.head is not None and model.mlp == "always":
            raise SncseError(f"{path}: the model uses its MLP head at inference but {HEAD_FILE} is missing")
        model.eval()
        return model.to(target)
