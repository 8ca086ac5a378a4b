"""A stock ``SentenceTransformer`` of any model ``sncse`` can name, with the pooler ``sncse`` would use.

``sentence_transformer("minilm", pooler="mean")`` is all-MiniLM-L6-v2 as ``sncse train`` trains it: the
backbone and ``Pooling(mean)``, without the ``Normalize`` module of the published folder (SimCSE's MLP
head, held by the loss, then sees the same pooled vectors in both trainers). The model is built from
sentence-transformers' own modules (what ``sncse export`` writes), so what ``SentenceTransformerTrainer``
saves from it loads with ``SentenceTransformer(DIR)`` alone: no ``trust_remote_code``, no ``sncse``.

The prompt pooler is not offered here. SNCSE wraps a sentence in one template and its positive and soft
negative in another (``model.template`` and ``model.view_template``), and a sentence-transformers model
applies one preprocessing to every column. Train prompt-pooled models with ``sncse train``; their
``sncse export`` folder loads with stock sentence-transformers >= 6.0, again without
``trust_remote_code`` (the template travels as the tokenizer's chat template).
"""

from __future__ import annotations

import logging
import tempfile
from typing import TYPE_CHECKING

from ..encoders.model import SentenceEncoder
from ..errors import SncseError
from ..export.sentence_transformers import export_sentence_transformers

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


def sentence_transformer(model: str = "minilm", pooler: str | None = None, max_seq_length: int | None = None,
                         device: str | None = None) -> SentenceTransformer:
    """``model`` (a registered encoder, run directory, saved or exported model, Hugging Face folder or hub
    name: what ``sncse.load`` takes) as a ``SentenceTransformer`` with ``pooler`` (default: the model's
    own), truncating at ``max_seq_length`` tokens (default: what the backbone takes; SimCSE and SNCSE
    train on 32 and evaluate whole sentences, so set it for training and back for evaluation).
    A training-only MLP head of a saved model is not carried over: the loss holds its own. The pooling is
    a fixed function in ``sncse``, so the layer weights of ``avg_first_last`` (a ``WeightedLayerPooling``
    module) are frozen."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import WeightedLayerPooling

    from ..encoders.loading import load

    encoder = load(model, pooler=pooler, device="cpu")
    if not isinstance(encoder, SentenceEncoder):
        raise SncseError(f"'{model}' is an ONNX graph; training needs the model's weights (the folder it was "
                         "exported from)")
    if encoder.pooler.uses_prompt:
        raise SncseError("the prompt pooler trains the anchor and its views with two templates, which one "
                         "sentence-transformers model cannot apply; train it with `sncse train` (its export "
                         "loads with sentence-transformers >= 6.0), or choose a pooler such as mean or cls",
                         setting="pooler")
    with tempfile.TemporaryDirectory(prefix="sncse-st-") as folder:
        export_sentence_transformers(encoder, folder)
        st = SentenceTransformer(folder, device=device, local_files_only=True)
    for module in st:
        if isinstance(module, WeightedLayerPooling):
            module.requires_grad_(False)
    if max_seq_length is not None:
        st.max_seq_length = max_seq_length
    log.info("%s as a SentenceTransformer: %s", model, " -> ".join(type(m).__name__ for m in st))
    return st
