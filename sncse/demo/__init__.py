"""The demo page (``sncse demo``): a sentence, its soft negatives and a paraphrase, scored by every model.

>>> from sncse.demo import SoftNegativeDemo, launch
>>> demo = SoftNegativeDemo.load(["minilm", "runs/sncse"], corpus="corpus.txt")   # doctest: +SKIP
>>> demo.compare("A man is playing a guitar.", "Someone is playing the guitar.").table()  # doctest: +SKIP
>>> launch(demo, port=7860)                                                         # doctest: +SKIP

Modules: :mod:`.compare` (what the page computes, plain functions, no Gradio), :mod:`.app` (the
Gradio page; gradio comes with the ``demo`` extra and is imported only when a page is built).
"""

from __future__ import annotations

from .app import build_app, launch
from .compare import MAX_CHARS, Comparison, DemoView, SoftNegativeDemo

__all__ = ["MAX_CHARS", "Comparison", "DemoView", "SoftNegativeDemo", "build_app", "launch"]
