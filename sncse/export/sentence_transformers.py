"""sentence-transformers export: a folder that ``SentenceTransformer(DIR)`` loads offline, with no
custom code and no ``trust_remote_code``, and that reproduces ``SentenceEncoder.encode``.

Layout (the Transformer module lives in the folder root, as in current sentence-transformers models)::

    DIR/config.json, model.safetensors, tokenizer files      the Hugging Face backbone
    DIR/sncse_model.json [, sncse_head.safetensors]          so that ``sncse.load(DIR)`` gives the same model
    DIR/modules.json, sentence_bert_config.json, config_sentence_transformers.json
    DIR/1_Pooling/config.json                                the pooling the model is evaluated with
    DIR/N_Dense/ (model.mlp == "always" only), DIR/N_Normalize/ (--normalize only)
    DIR/README.md                                            model card

Poolers and their sentence-transformers modules:

- ``cls`` / ``cls_before_pooler``: ``Pooling(cls)``; ``mean``: ``Pooling(mean)``.
- ``avg_first_last`` (SimCSE): the backbone returns all hidden states (``config_args``:
  ``output_hidden_states``) and ``WeightedLayerPooling`` from layer 1 with weights 1 on the first and
  last layer and 0 elsewhere gives ``(h_1 + h_L) / 2`` per token; then ``Pooling(mean)``.
- ``prompt`` (PromptBERT / SNCSE Eq. 1): sentence-transformers' ``Pooling`` cannot pick the mask
  token and its ``prompts`` can only *prepend* text, while the template has text after the sentence.
  So the template goes into the tokenizer's chat template (``chat_template.jinja``): from version 6,
  sentence-transformers renders plain-text inputs through a chat template when its Transformer
  declares the ``message`` modality, truncates, and restores the template tail that truncation cut
  (the sentence is truncated, never the template, as in ``SentenceEncoder.tokenize``). A
  ``WordWeights`` module with weight 1 for the mask token and 0 for every other token, followed by
  ``Pooling(mean)`` (whose denominator is then the summed weights, 1), returns the hidden state at
  the mask. Needs sentence-transformers >= 6.0; older versions ignore the chat template.

The chat template does not touch ``sncse``'s own tokenization (it builds the template from
``sncse_model.json``), so the same folder serves both libraries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..encoders.model import MASK_PLACEHOLDER, SentenceEncoder
from ..errors import SncseError
from ..io import write_json
from .hf import keeps_head, write_backbone

log = logging.getLogger(__name__)

ST_MIN_VERSION_PROMPT = "6.0"
POOLERS = ("cls", "cls_before_pooler", "mean", "avg_first_last", "prompt")
_POOLING_MODE = {"cls": "cls", "cls_before_pooler": "cls", "mean": "mean", "avg_first_last": "mean", "prompt": "mean"}
_TEXT_MODALITY = {"method": "forward", "method_output_name": "last_hidden_state"}

# Probe sentences for verify(): short, punctuated, a repeated-word long one (exercises truncation).
PROBES = (
    "A man is playing a guitar.",
    "A man is not playing a guitar.",
    "The cat sat on the mat , and then it left .",
    "two dogs run through a field",
    "Nobody knows where the old station was built, or why.",
)


def _st_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("sentence-transformers")
    except metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str]:
    import torch
    import transformers

    out = {"sncse": __version__, "transformers": transformers.__version__, "pytorch": torch.__version__}
    st = _st_version()
    if st:
        out["sentence_transformers"] = st
    return out


# ---------------------------------------------------------------------------------------- prompt pooler
def _special_text(model: SentenceEncoder) -> tuple[str, str]:
    """The special tokens a single sequence is wrapped in ([CLS], [SEP]), as text."""
    head, tail = model.special_wrap()
    tok = model.tokenizer
    return "".join(tok.convert_ids_to_tokens(head)), "".join(tok.convert_ids_to_tokens(tail))


def chat_template(model: SentenceEncoder) -> str:
    """A Jinja chat template rendering the user message as ``[CLS] <template with sentence> [SEP]``.

    Only ``user`` messages are rendered (a sentence-transformers ``prompt`` arrives as a ``system``
    message and is ignored); message content may be a string or a list of ``{"type": "text"}`` parts.
    """
    if "{sentence}" not in model.template or model.template.count(MASK_PLACEHOLDER) != 1:
        raise SncseError(f"template must contain '{{sentence}}' and exactly one {MASK_PLACEHOLDER}: {model.template!r}")
    before, after = model.template.split("{sentence}")
    mask = model.tokenizer.mask_token
    head, tail = _special_text(model)
    prefix = head + before.replace(MASK_PLACEHOLDER, mask)
    suffix = after.replace(MASK_PLACEHOLDER, mask) + tail

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


def mask_word_weights(model: SentenceEncoder) -> dict[str, Any]:
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


# ---------------------------------------------------------------------------------------- writer
def _pooling_config(model: SentenceEncoder) -> dict[str, Any]:
    mode = _POOLING_MODE[model.pooler_name]
    # The pre-6.0 key names: every sentence-transformers release (and sncse.load) reads them.
    return {
        "word_embedding_dimension": model.hidden_size,
        "pooling_mode_cls_token": mode == "cls",
        "pooling_mode_mean_tokens": mode == "mean",
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }


def _layer_weights(num_layers: int) -> list[float]:
    """Weights over hidden_states[1:] for (h_1 + h_L) / 2 (SimCSE ``avg_first_last``)."""
    if num_layers < 1:
        raise SncseError("avg_first_last needs at least one transformer layer")
    weights = [0.0] * num_layers
    weights[0] = 1.0
    weights[-1] = 1.0
    return weights


def export_sentence_transformers(model: SentenceEncoder, directory: str | Path, normalize: bool = False) -> Path:
    """Write the sentence-transformers folder for ``model`` (with its current pooler) into ``directory``."""
    import torch
    from safetensors.torch import save_file

    pooler = model.pooler_name
    if pooler not in POOLERS:
        raise SncseError(f"pooler '{pooler}' has no sentence-transformers export; supported: {', '.join(POOLERS)}")
    directory = Path(directory)
    write_backbone(model, directory)

    bert_config: dict[str, Any] = {"max_seq_length": int(model.inference_max_length), "do_lower_case": False}
    modules: list[dict[str, Any]] = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]

    def add(kind: str, folder: str) -> Path:
        idx = len(modules)
        path = f"{idx}_{folder}"
        modules.append({"idx": idx, "name": str(idx), "path": path, "type": f"sentence_transformers.models.{kind}"})
        (directory / path).mkdir()
        return directory / path

    if pooler == "prompt":
        template = chat_template(model)
        (directory / "chat_template.jinja").write_text(template, encoding="utf-8")
        bert_config.update({
            "transformer_task": "feature-extraction",
            "modality_config": {"text": dict(_TEXT_MODALITY), "message": {**_TEXT_MODALITY, "format": "flat"}},
            "module_output_name": "token_embeddings",
        })
        write_json(add("WordWeights", "WordWeights") / "config.json", mask_word_weights(model))
    elif pooler == "avg_first_last":
        bert_config["config_args"] = {"output_hidden_states": True}
        layers = int(model.backbone.config.num_hidden_layers)
        folder = add("WeightedLayerPooling", "WeightedLayerPooling")
        write_json(folder / "config.json",
                   {"word_embedding_dimension": model.hidden_size, "layer_start": 1, "num_hidden_layers": layers})
        save_file({"layer_weights": torch.tensor(_layer_weights(layers), dtype=torch.float32)},
                  str(folder / "model.safetensors"))

    write_json(add("Pooling", "Pooling") / "config.json", _pooling_config(model))

    if keeps_head(model):
        assert model.head is not None
        folder = add("Dense", "Dense")
        dense = model.head.dense
        write_json(folder / "config.json", {
            "in_features": dense.in_features, "out_features": dense.out_features, "bias": dense.bias is not None,
            "activation_function": "torch.nn.modules.activation.Tanh",
        })
        weights = {"linear.weight": dense.weight.detach().cpu().contiguous()}
        if dense.bias is not None:
            weights["linear.bias"] = dense.bias.detach().cpu().contiguous()
        save_file(weights, str(folder / "model.safetensors"))
    if normalize:
        add("Normalize", "Normalize")

    write_json(directory / "modules.json", modules)
    write_json(directory / "sentence_bert_config.json", bert_config)
    write_json(directory / "config_sentence_transformers.json", {
        "__version__": _versions(),
        "model_type": "SentenceTransformer",
        "prompts": {},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    log.info("wrote sentence-transformers folder %s (pooler %s, %d modules)", directory, pooler, len(modules))
    return directory


# ---------------------------------------------------------------------------------------- verification
def verify_sentence_transformers(model: SentenceEncoder, directory: str | Path,
                                 sentences: Sequence[str] | None = None, normalize: bool = False) -> dict[str, Any]:
    """Load ``directory`` with sentence-transformers (offline) and compare with ``model.encode``.

    Returns ``{"max_abs_diff", "max_rel_diff", "sentences", "token_ids_match"}``: the largest absolute
    difference between the two libraries' embeddings, that difference relative to the largest
    embedding component, and (prompt pooler) whether both tokenize every probe identically,
    template and truncation included. A long probe exceeding the maximum length is always added.
    """
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise SncseError("verifying the export needs sentence-transformers: pip install 'sncse[st]' "
                         "(or skip the check with --no-verify)") from None
    probes = list(sentences or PROBES)
    probes.append(" ".join(["people"] * (model.inference_max_length + 8)))  # longer than any limit
    device = str(model.device)
    st = SentenceTransformer(str(directory), device=device, local_files_only=True)
    ours = model.encode(probes, batch_size=8, normalize=normalize, amp="off", show_progress=False)
    theirs = np.asarray(st.encode(probes, batch_size=8, convert_to_numpy=True, normalize_embeddings=False))
    diff = float(np.abs(ours - theirs).max()) if ours.size else 0.0
    scale = max(float(np.abs(ours).max()) if ours.size else 0.0, 1e-12)
    report: dict[str, Any] = {"max_abs_diff": diff, "max_rel_diff": diff / scale, "sentences": len(probes)}
    if model.pooler_name == "prompt":
        features = st[0].preprocess(probes)
        mask = features["attention_mask"].bool()
        st_ids = [row[m].tolist() for row, m in zip(features["input_ids"], mask, strict=True)]
        report["token_ids_match"] = st_ids == model.tokenize(probes, max_length=model.inference_max_length)
    del st
    return report
