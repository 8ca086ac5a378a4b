"""``sncse.load``: any model a path or name gives, ready to encode.

Which kind of model a path names is worked out by :mod:`sncse.encoders.resolve`. Everything a load
needs (the entry points, torch or onnxruntime) is imported when a model is loaded, so ``import sncse``,
which hands this function on, imports nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import SentenceEncoder
    from .onnx_runtime import OnnxEncoder


def load(path: str, pooler: str | None = None, device: str = "auto") -> SentenceEncoder | OnnxEncoder:
    """Load a model for encoding: a ``sncse train`` run directory, an exported folder, a
    sentence-transformers folder, a Hugging Face model, or a registered encoder name.

    An ONNX export (``sncse export --format onnx``) runs with onnxruntime (``OnnxEncoder``, the same
    ``encode`` / ``similarity``); everything else is a PyTorch ``SentenceEncoder``.
    """
    from .resolve import resolve_model_path

    if resolve_model_path(str(path)).kind == "onnx":
        from .onnx_runtime import OnnxEncoder

        return OnnxEncoder.load(path, pooler=pooler, device=device)
    from .model import SentenceEncoder

    return SentenceEncoder.load(path, pooler=pooler, device=device)
