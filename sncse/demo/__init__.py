"""The demo page (``sncse demo``): a sentence, its soft negatives and a paraphrase, scored by every model.

>>> from sncse.demo import SoftNegativeDemo, launch
>>> demo = SoftNegativeDemo.load(["minilm", "runs/sncse"], corpus="corpus.txt")   # doctest: +SKIP
>>> demo.compare("A man is playing a guitar.", "Someone is playing the guitar.").table()  # doctest: +SKIP
>>> launch(demo, port=7860)                                                         # doctest: +SKIP

Modules: :mod:`.defaults` (the page's bounds), :mod:`.compare` (what the page computes, plain
functions, no Gradio), :mod:`.app` (the Gradio page; gradio comes with the ``demo`` extra). The names
below are imported lazily: reading the defaults imports neither numpy nor gradio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .defaults import MAX_CHARS, TOP_K

__all__ = ["MAX_CHARS", "TOP_K", "Comparison", "DemoView", "SoftNegativeDemo", "build_app", "launch"]

if TYPE_CHECKING:
    from .app import build_app, launch
    from .compare import Comparison, DemoView, SoftNegativeDemo


def __getattr__(name: str) -> Any:
    if name in ("Comparison", "DemoView", "SoftNegativeDemo"):
        from . import compare

        return getattr(compare, name)
    if name in ("build_app", "launch"):
        from . import app

        return getattr(app, name)
    raise AttributeError(name)
