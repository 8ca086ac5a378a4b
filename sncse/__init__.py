"""sncse: sentence embeddings by contrastive learning with soft negative samples.

>>> import sncse
>>> model = sncse.load("minilm")            # a run dir, exported folder, HF model or registered name
>>> emb = model.encode(["A man is playing a guitar."], normalize=True)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from .encoders.model import SentenceEncoder
    from .encoders.onnx_runtime import OnnxEncoder


def load(path: str, pooler: str | None = None, device: str = "auto") -> SentenceEncoder | OnnxEncoder:
    """Load a model for encoding: a ``sncse train`` run directory, an exported folder, a
    sentence-transformers folder, a Hugging Face model, or a registered encoder name.

    An ONNX export (``sncse export --format onnx``) runs with onnxruntime (``OnnxEncoder``, the same
    ``encode`` / ``similarity``); everything else is a PyTorch ``SentenceEncoder``.
    """
    from .encoders.resolve import resolve_model_path

    if resolve_model_path(str(path)).kind == "onnx":
        from .encoders.onnx_runtime import OnnxEncoder

        return OnnxEncoder.load(path, pooler=pooler, device=device)
    from .encoders.model import SentenceEncoder

    return SentenceEncoder.load(path, pooler=pooler, device=device)


__all__ = ["__version__", "load"]
