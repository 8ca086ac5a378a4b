"""sncse: sentence embeddings by contrastive learning with soft negative samples.

>>> import sncse
>>> model = sncse.load("minilm")            # a run dir, exported folder, HF model or registered name
>>> emb = model.encode(["A man is playing a guitar."], normalize=True)
"""

from __future__ import annotations

import logging

from .encoders.loading import load
from .version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__", "load"]
