"""Plain Hugging Face export: backbone + tokenizer + ``sncse_model.json``.

The folder loads with ``transformers.AutoModel.from_pretrained(DIR)`` (the encoder alone) and with
``sncse.load(DIR)`` (encoder + the pooler it was trained with). SimCSE's MLP over the pooled vector is
training-only under ``model.mlp: train`` (SNCSE Eq. 2; SimCSE ``mlp_only_train``) and is dropped; it
is kept (``sncse_head.safetensors``) only when ``model.mlp: always``, i.e. when inference uses it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ..encoders.files import HEAD_FILE, META_FILE
from ..encoders.model import SentenceEncoder
from ..io import atomic_write

log = logging.getLogger(__name__)


def keeps_head(model: SentenceEncoder) -> bool:
    """Whether the exported model needs the MLP head at inference (``mlp == "always"``)."""
    return model.head is not None and model.mlp == "always"


def export_metadata(model: SentenceEncoder) -> dict[str, Any]:
    """``sncse_model.json`` of the exported model: the training-only head is recorded as absent."""
    meta = model.metadata()
    meta["mlp"] = "always" if keeps_head(model) else "none"
    return meta


def write_backbone(model: SentenceEncoder, directory: str | Path) -> Path:
    """Write the Hugging Face files, ``sncse_model.json`` and (for ``mlp: always``) the head."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.backbone.save_pretrained(directory)
    model.tokenizer.save_pretrained(directory)
    if keeps_head(model):
        assert model.head is not None
        tensors = {k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()}
        save_file(tensors, str(directory / HEAD_FILE))
    with atomic_write(directory / META_FILE) as fh:
        fh.write(json.dumps(export_metadata(model), indent=2) + "\n")
    return directory


def export_hf(model: SentenceEncoder, directory: str | Path) -> Path:
    """Write a plain Hugging Face folder (see the module docstring) into ``directory``."""
    path = write_backbone(model, directory)
    log.info("wrote Hugging Face folder %s (pooler %s, head %s)", path, model.pooler_name,
             "kept" if keeps_head(model) else "dropped")
    return path
