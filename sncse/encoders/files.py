"""File names of a saved ``SentenceEncoder`` directory, beside the Hugging Face backbone's own files.

- ``sncse_model.json``: pooler, MLP-head mode, templates, lengths, base encoder (what ``load`` needs to
  rebuild the model exactly; its presence is what marks a folder as a saved sncse model);
- ``sncse_head.safetensors``: SimCSE's MLP head, kept when the model uses it at inference.
"""

from __future__ import annotations

META_FILE = "sncse_model.json"
HEAD_FILE = "sncse_head.safetensors"
