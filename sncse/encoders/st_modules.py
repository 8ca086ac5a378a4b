"""How a pooler is rebuilt from sentence-transformers modules, declared by the pooler itself.

Each :class:`~sncse.encoders.poolers.Pooler` answers ``pooler.sentence_transformers(model)`` with an
:class:`STPooling` (or None: no such export), and ``sncse.export.sentence_transformers`` writes it:
the modules that follow the ``Transformer`` (a ``Pooling`` last), the keys the ``Transformer`` needs
in ``sentence_bert_config.json``, files for the folder root, and the oldest sentence-transformers
release that reproduces the pooler. A pooler plugin exports by overriding that one method.

The prompt pooler's pieces live here too: sentence-transformers' ``Pooling`` cannot pick the mask
token and its ``prompts`` can only *prepend* text, while the template has text after the sentence.
So the template goes into the tokenizer's chat template (``chat_template.jinja``): from version 6,
sentence-transformers renders plain-text inputs through a chat template when its Transformer
declares the ``message`` modality, truncates, and restores the template tail that truncation cut
(the sentence is truncated, never the template, as in ``SentenceEncoder.tokenize``). A
``WordWeights`` module with weight 1 for the mask token and 0 for every other token, followed by
``Pooling(mean)`` (whose denominator is then the summed weights, 1), returns the hidden state at the
mask. Older releases ignore the chat template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import torch

from ..errors import SncseError
from .prompt import special_wrap, split_template

#: the sentence-transformers release that renders inputs through a chat template (prompt pooler)
ST_CHAT_TEMPLATE_VERSION = "6.0"
_TEXT_MODALITY = {"method": "forward", "method_output_name": "last_hidden_state"}


class PooledModel(Protocol):
    """What the modules of a pooler's export are made from (a ``SentenceEncoder`` has it all)."""

    backbone: Any  # its ``config.num_hidden_layers``
    tokenizer: Any
    template: str

    @property
    def hidden_size(self) -> int: ...


@dataclass
class STModule:
    """One sentence-transformers module: its class in ``sentence_transformers.models``, its
    ``config.json`` and, if it has any, its weights (``model.safetensors``)."""

    kind: str
    config: dict[str, Any] | None = None
    weights: dict[str, torch.Tensor] | None = None


@dataclass
class STPooling:
    """What reproduces a pooler after the ``Transformer`` module."""

    modules: list[STModule]  # in order, the ``Pooling`` module last
    transformer: dict[str, Any] = field(default_factory=dict)  # extra keys of sentence_bert_config.json
    files: dict[str, str] = field(default_factory=dict)  # file name -> text, in the folder root
    min_version: str | None = None  # oldest sentence-transformers release that reproduces the pooler


def pooling(hidden_size: int, mode: Literal["cls", "mean"]) -> STModule:
    """``Pooling`` in the pre-6.0 key names, which every sentence-transformers release (and
    ``sncse.load``) reads."""
    return STModule("Pooling", {
        "word_embedding_dimension": hidden_size,
        "pooling_mode_cls_token": mode == "cls",
        "pooling_mode_mean_tokens": mode == "mean",
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })


def first_last_layers(model: PooledModel) -> STPooling:
    """SimCSE's ``avg_first_last``: all hidden states from the backbone, ``WeightedLayerPooling`` from
    layer 1 with weight 1 on the first and the last layer and 0 elsewhere -> ``(h_1 + h_L) / 2`` per
    token, then ``Pooling(mean)``."""
    layers = int(model.backbone.config.num_hidden_layers)
    if layers < 1:
        raise SncseError("avg_first_last needs at least one transformer layer")
    weights = [0.0] * layers
    weights[0] = weights[-1] = 1.0
    return STPooling(
        modules=[STModule("WeightedLayerPooling",
                          {"word_embedding_dimension": model.hidden_size, "layer_start": 1, "num_hidden_layers": layers},
                          {"layer_weights": torch.tensor(weights, dtype=torch.float32)}),
                 pooling(model.hidden_size, "mean")],
        transformer={"config_args": {"output_hidden_states": True}})


def prompt_template(model: PooledModel) -> STPooling:
    """The prompt pooler (PromptBERT / SNCSE Eq. 1): chat template + ``WordWeights`` + ``Pooling(mean)``."""
    return STPooling(
        modules=[STModule("WordWeights", mask_word_weights(model)), pooling(model.hidden_size, "mean")],
        transformer={
            "transformer_task": "feature-extraction",
            "modality_config": {"text": dict(_TEXT_MODALITY), "message": {**_TEXT_MODALITY, "format": "flat"}},
            "module_output_name": "token_embeddings",
        },
        files={"chat_template.jinja": chat_template(model)},
        min_version=ST_CHAT_TEMPLATE_VERSION)


def _special_text(model: PooledModel) -> tuple[str, str]:
    """The special tokens a single sequence is wrapped in ([CLS], [SEP]), as text."""
    tok = model.tokenizer
    head, tail = special_wrap(tok)
    return "".join(tok.convert_ids_to_tokens(head)), "".join(tok.convert_ids_to_tokens(tail))


def chat_template(model: PooledModel) -> str:
    """A Jinja chat template rendering the user message as ``[CLS] <template with sentence> [SEP]``.

    Only ``user`` messages are rendered (a sentence-transformers ``prompt`` arrives as a ``system``
    message and is ignored); message content may be a string or a list of ``{"type": "text"}`` parts.
    """
    before, after = split_template(model.template, model.tokenizer.mask_token)
    head, tail = _special_text(model)
    prefix, suffix = head + before, after + tail

    def literal(text: str) -> str:
        return "{{ " + json.dumps(text) + " }}"

    return (
        "{#- sncse prompt template (PromptBERT / SNCSE): the hidden state at the mask token is the embedding -#}\n"
        "{%- for message in messages if message['role'] == 'user' -%}"
        + literal(prefix)
        + "{%- if message['content'] is string -%}{{ message['content'] }}"
        "{%- else -%}{%- for part in message['content'] if part['type'] == 'text' -%}{{ part['text'] }}"
        "{%- endfor -%}{%- endif -%}"
        + literal(suffix)
        + "{%- endfor -%}"
    )


def mask_word_weights(model: PooledModel) -> dict[str, Any]:
    """``WordWeights`` config selecting the mask token: weight 1 at its id, 0 for all others.

    ``WordWeights`` looks weights up by token string (and its lower-case form), so any other vocabulary
    entry that would match the mask string is renamed to keep the selection to exactly one id.
    """
    tok = model.tokenizer
    mask, mask_id = tok.mask_token, tok.mask_token_id
    vocab = tok.convert_ids_to_tokens(list(range(len(tok))))
    clean: list[str] = []
    for i, t in enumerate(vocab):
        if i != mask_id and (t is None or t == mask or t.lower() == mask):
            t = f"[sncse-unused-{i}]"
        clean.append(t)
    if clean[mask_id] != mask:
        raise SncseError(f"tokenizer maps its mask token {mask!r} to id {mask_id} but id {mask_id} is {clean[mask_id]!r}")
    return {"vocab": clean, "word_weights": {mask: 1.0}, "unknown_word_weight": 0.0}
