"""Export trained models: a sentence-transformers folder or a plain Hugging Face folder, with a model card.

>>> from sncse.export import export
>>> export("runs/sncse", "exported/sncse-bert", fmt="sentence-transformers")  # doctest: +SKIP
"""

from .api import FORMATS, ExportResult, export

__all__ = ["FORMATS", "ExportResult", "export"]
