"""Serving a model over HTTP with OpenAI's embeddings API (``sncse serve``).

>>> from sncse.serve import serve
>>> serve("exported/sncse-bert", port=8000)      # doctest: +SKIP

Then any OpenAI client embeds with it::

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused")
    client.embeddings.create(model="sncse-bert", input=["A man is playing a guitar."])

Modules: :mod:`.app` (the FastAPI app: schema, limits, API key, errors), :mod:`.batcher` (concurrent
requests batched into one model call). fastapi and uvicorn come with the ``serve`` extra and are
imported only when an app is built.
"""

from __future__ import annotations

from .app import ServeLimits, create_app, serve, served_name
from .batcher import MicroBatcher

__all__ = ["MicroBatcher", "ServeLimits", "create_app", "serve", "served_name"]
