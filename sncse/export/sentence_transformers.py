"""sentence-transformers export: a folder that ``SentenceTransformer(DIR)`` loads offline, with no
custom code and no ``trust_remote_code``, and that reproduces ``SentenceEncoder.encode``.

Layout (the Transformer module lives in the folder root, as in current sentence-transformers models)::

    DIR/config.json, model.safetensors, tokenizer files      the Hugging Face backbone
    DIR/sncse_model.json [, sncse_head.safetensors]          so that ``sncse.load(DIR)`` gives the same model
    DIR/modules.json, sentence_bert_config.json, config_sentence_transformers.json
    DIR/1_Pooling/ (cls, mean) or 1_WordWeights/ + 2_Pooling/ (prompt) or 1_WeightedLayerPooling/ +
        2_Pooling/ (avg_first_last): the pooling the model is evaluated with
    DIR/N_Dense/ (model.mlp == "always" only), DIR/N_Normalize/ (normalize only)
    DIR/README.md                                            model card

Which modules reproduce a pooler is the pooler's own declaration (``Pooler.sentence_transformers``,
:mod:`sncse.encoders.st_modules`), so a pooler plugin exports like the built-ins:

- ``cls`` / ``cls_before_pooler``: ``Pooling(cls)``; ``mean``: ``Pooling(mean)``.
- ``avg_first_last`` (SimCSE): all hidden states, ``WeightedLayerPooling`` over the first and last
  layer, ``Pooling(mean)``.
- ``prompt`` (PromptBERT / SNCSE Eq. 1): the template as the tokenizer's chat template,
  ``WordWeights`` selecting the mask token, ``Pooling(mean)``; needs sentence-transformers >= 6.0,
  checked at export time when sentence-transformers is installed.

The chat template does not touch ``sncse``'s own tokenization (it builds the template from
``sncse_model.json``), so the same folder serves both libraries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..encoders.model import SentenceEncoder
from ..encoders.st_modules import STModule, STPooling
from ..errors import SncseError
from ..io import atomic_write, write_json
from ..version import __version__
from .hf import keeps_head, write_backbone

log = logging.getLogger(__name__)

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


def _release(version: str) -> tuple[int, ...]:
    """``6.2.0rc1`` -> (6, 2, 0): the numeric release, for comparing versions."""
    return tuple(int(x) for x in re.findall(r"\d+", version.split("+")[0])[:3])


def check_st_version(pooler: str, needed: str | None, installed: str | None) -> None:
    """Refuse to write a folder the installed sentence-transformers would load wrongly (an older
    release ignores the prompt pooler's chat template and returns zero vectors)."""
    if needed is None:
        return
    if installed is None:
        log.warning("sentence-transformers is not installed; the '%s' export needs sentence-transformers >= %s "
                    "to load", pooler, needed)
        return
    if _release(installed) < _release(needed):
        raise SncseError(f"the '{pooler}' pooler exports to sentence-transformers >= {needed}, but "
                         f"{installed} is installed; upgrade it (pip install 'sncse[st]') or use the hf format")


# ---------------------------------------------------------------------------------------- plan
def st_pooling(model: SentenceEncoder) -> STPooling:
    """The pooler's sentence-transformers modules (its own declaration)."""
    plan = model.pooler.sentence_transformers(model)
    if plan is None:
        raise SncseError(f"pooler '{model.pooler_name}' declares no sentence-transformers export "
                         "(Pooler.sentence_transformers); use the hf format")
    return plan


def head_modules(model: SentenceEncoder, normalize: bool) -> list[STModule]:
    """After the pooling: SimCSE's MLP head when inference uses it (``mlp: always``), ``Normalize``."""
    modules = []
    if keeps_head(model):
        assert model.head is not None
        dense = model.head.dense
        weights = {"linear.weight": dense.weight.detach().cpu().contiguous()}
        if dense.bias is not None:
            weights["linear.bias"] = dense.bias.detach().cpu().contiguous()
        modules.append(STModule("Dense", {
            "in_features": dense.in_features, "out_features": dense.out_features, "bias": dense.bias is not None,
            "activation_function": "torch.nn.modules.activation.Tanh"}, weights))
    if normalize:
        modules.append(STModule("Normalize"))
    return modules


# ---------------------------------------------------------------------------------------- writer
def write_modules(directory: Path, modules: Sequence[STModule]) -> list[dict[str, Any]]:
    """Each module in its folder ``<idx>_<kind>`` (the Transformer is module 0, in the root) ->
    the entries of ``modules.json``."""
    from safetensors.torch import save_file

    entries: list[dict[str, Any]] = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]
    for idx, module in enumerate(modules, start=1):
        path = f"{idx}_{module.kind}"
        folder = directory / path
        folder.mkdir()
        if module.config is not None:
            write_json(folder / "config.json", module.config)
        if module.weights:
            save_file(module.weights, str(folder / "model.safetensors"))
        entries.append({"idx": idx, "name": str(idx), "path": path,
                        "type": f"sentence_transformers.models.{module.kind}"})
    return entries


def export_sentence_transformers(model: SentenceEncoder, directory: str | Path, normalize: bool = False) -> Path:
    """Write the sentence-transformers folder for ``model`` (with its current pooler) into ``directory``."""
    plan = st_pooling(model)
    check_st_version(model.pooler_name, plan.min_version, _st_version())
    directory = Path(directory)
    write_backbone(model, directory)
    for name, text in plan.files.items():
        with atomic_write(directory / name) as fh:
            fh.write(text)
    modules = write_modules(directory, [*plan.modules, *head_modules(model, normalize)])
    write_json(directory / "modules.json", modules)
    write_json(directory / "sentence_bert_config.json",
               {"max_seq_length": int(model.inference_max_length), "do_lower_case": False, **plan.transformer})
    write_json(directory / "config_sentence_transformers.json", {
        "__version__": _versions(),
        "model_type": "SentenceTransformer",
        "prompts": {},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    log.info("wrote sentence-transformers folder %s (pooler %s, %d modules)", directory, model.pooler_name,
             len(modules))
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
    if model.pooler.uses_prompt:
        features = st[0].preprocess(probes)
        mask = features["attention_mask"].bool()
        st_ids = [row[m].tolist() for row, m in zip(features["input_ids"], mask, strict=True)]
        report["token_ids_match"] = st_ids == model.tokenize(probes, max_length=model.inference_max_length)
    del st
    return report
