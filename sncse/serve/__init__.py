"""Serving a model over HTTP with OpenAI's embeddings API (``sncse serve``).

>>> from sncse.serve import serve
>>> serve("exported/sncse-bert", port=8000)      # doctest: +SKIP

Then any OpenAI client embeds with it::

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused")
    client.embeddings.create(model="sncse-bert", input=["A man is playing a guitar."])

Modules: :mod:`.limits` (the request bounds), :mod:`.app` (the FastAPI app: schema, bounds, API key,
errors), :mod:`.batcher` (concurrent requests batched into one model call). The names below are
imported lazily: reading the bounds imports neither numpy nor the web framework (fastapi and uvicorn
come with the ``serve`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .limits import ServeLimits

__all__ = ["MicroBatcher", "ServeLimits", "create_app", "serve", "served_name"]

if TYPE_CHECKING:
    from .app import create_app, serve, served_name
    from .batcher import MicroBatcher


def __getattr__(name: str) -> Any:
    if name == "MicroBatcher":
        from .batcher import MicroBatcher

        return MicroBatcher
    if name in ("create_app", "serve", "served_name"):
        from . import app

        return getattr(app, name)
    raise AttributeError(name)
