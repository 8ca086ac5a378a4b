"""File names of a saved ``SentenceEncoder`` directory, beside the Hugging Face backbone's own files.

- ``sncse_model.json``: pooler, MLP-head mode, templates, lengths, base encoder (what ``load`` needs to
  rebuild the model exactly; its presence is what marks a folder as a saved sncse model);
- ``sncse_head.safetensors``: SimCSE's MLP head, kept when the model uses it at inference;
- ``model.onnx``: beside ``sncse_model.json`` (and no PyTorch weights) it marks an ONNX export, whose
  graph ends at the sentence embedding (``sncse.encoders.onnx_runtime``).

A weights file that cannot be read (cut short by a copy, not safetensors) is a ``DataError`` naming it
(:func:`reading_weights`, :func:`load_weights`), never the reader's own exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import DataError

META_FILE = "sncse_model.json"
HEAD_FILE = "sncse_head.safetensors"
ONNX_FILE = "model.onnx"
WEIGHTS_FILE = "model.safetensors"  # the backbone's weights, as save_pretrained writes them


@contextmanager
def reading_weights(path: str | Path) -> Iterator[None]:
    """Report a weights file that is cut short or not safetensors at all (``SafetensorError``) as a
    DataError naming ``path``; a folder stands for the ``model.safetensors`` in it."""
    from safetensors import SafetensorError

    try:
        yield
    except SafetensorError as exc:
        path = Path(path)
        if path.is_dir() and (path / WEIGHTS_FILE).exists():
            path = path / WEIGHTS_FILE
        raise DataError(f"cannot read the weights ({exc}): the file is cut short or not a safetensors file; "
                        "copy or save the model again", path=path) from None


def load_weights(path: str | Path) -> dict[str, Any]:
    """The tensors of a ``.safetensors`` file (on the CPU), a damaged file reported as above."""
    from safetensors.torch import load_file

    with reading_weights(path):
        return load_file(str(path))
