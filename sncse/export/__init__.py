"""Export trained models: a sentence-transformers folder, a plain Hugging Face folder, or an ONNX graph that
returns the pooled sentence embedding (optionally int8), each with a model card.

>>> from sncse.export import export
>>> export("runs/sncse", "exported/sncse-bert", fmt="sentence-transformers")  # doctest: +SKIP
"""

from .api import FORMATS, ExportResult, export

__all__ = ["FORMATS", "ExportResult", "export"]
