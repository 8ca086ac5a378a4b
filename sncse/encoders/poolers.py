"""Poolers: how a sequence of hidden states becomes one sentence vector.

All poolers share one call signature, ``pooler(outputs, batch) -> (B, H)``, where ``outputs`` is the
Hugging Face model output (``last_hidden_state``, and ``hidden_states`` when ``needs_all_layers``)
and ``batch`` holds ``input_ids`` and ``attention_mask``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .st_modules import PooledModel, STPooling, first_last_layers, pooling, prompt_template


class Pooler(nn.Module):
    """Base class. ``uses_prompt`` poolers need the input wrapped in a template with one mask token."""

    name: str = ""
    uses_prompt: bool = False
    needs_all_layers: bool = False

    def forward(self, outputs: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def sentence_transformers(self, model: PooledModel) -> STPooling | None:
        """The sentence-transformers modules that reproduce this pooler for ``model`` (see
        :mod:`sncse.encoders.st_modules`); None: this pooler has no sentence-transformers export."""
        return None


class CLSPooler(Pooler):
    """The [CLS] vector. With ``model.mlp: train`` this is SimCSE's ``cls`` pooler (MLP in training only)."""

    name = "cls"

    def forward(self, outputs, batch):
        return outputs.last_hidden_state[:, 0]

    def sentence_transformers(self, model):
        return STPooling([pooling(model.hidden_size, "cls")])


class CLSBeforePoolerPooler(CLSPooler):
    """SimCSE's ``cls_before_pooler``: the raw [CLS] vector; recipes pair it with ``model.mlp: none``."""

    name = "cls_before_pooler"


class MeanPooler(Pooler):
    """Mean of the last layer over non-padding tokens (Sentence-BERT's default)."""

    name = "mean"

    def forward(self, outputs, batch):
        mask = batch["attention_mask"].unsqueeze(-1).to(outputs.last_hidden_state.dtype)
        return (outputs.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def sentence_transformers(self, model):
        return STPooling([pooling(model.hidden_size, "mean")])


class AvgFirstLastPooler(Pooler):
    """Mean over tokens of the average of the first and last transformer layers.

    As SimCSE's ``models.py``: ``hidden_states[1]`` (the first layer's output, not the embeddings).
    """

    name = "avg_first_last"
    needs_all_layers = True

    def forward(self, outputs, batch):
        hs = outputs.hidden_states
        mask = batch["attention_mask"].unsqueeze(-1).to(hs[-1].dtype)
        avg = (hs[1] + hs[-1]) / 2.0
        return (avg * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def sentence_transformers(self, model):
        return first_last_layers(model)


class PromptPooler(Pooler):
    """PromptBERT / SNCSE: the last hidden state at the template's single mask token.

    Reference: Jiang et al., 2022, "PromptBERT: Improving BERT Sentence Embeddings with Prompts";
    Wang et al., 2022, "SNCSE", Eq. 1-2.
    """

    name = "prompt"
    uses_prompt = True

    def __init__(self, mask_token_id: int | None = None):
        super().__init__()
        self.mask_token_id = mask_token_id

    def forward(self, outputs, batch):
        if self.mask_token_id is None:
            raise RuntimeError("prompt pooler has no mask_token_id; build it through SentenceEncoder")
        is_mask = batch["input_ids"] == self.mask_token_id
        # Exactly one mask per sequence: anything else means the template was truncated or doubled.
        # The check costs a host sync, so it runs in evaluation only; training batches come from
        # SentenceEncoder.tokenize, which builds every sequence with exactly one mask. An ONNX graph
        # (traced) leaves it to its runtime, which checks the token ids before running the graph.
        if not self.training and not torch.compiler.is_compiling() and not torch.jit.is_tracing():
            counts = is_mask.sum(1)
            if bool((counts != 1).any()):
                bad = (counts != 1).nonzero().flatten().tolist()
                raise ValueError(
                    f"prompt pooler: sequences {bad[:5]} have {counts[bad[:5]].tolist()} mask tokens, expected 1")
        position = is_mask.int().argmax(dim=1)  # (B,) index of the mask token, no sync
        rows = torch.arange(position.shape[0], device=position.device)
        return outputs.last_hidden_state[rows, position]

    def sentence_transformers(self, model):
        return prompt_template(model)


class MLPHead(nn.Module):
    """SimCSE's ``MLPLayer``: Linear + Tanh over the pooled vector (SNCSE Eq. 2)."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(x))
