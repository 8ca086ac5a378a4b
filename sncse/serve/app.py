"""The embedding server: OpenAI's ``/v1/embeddings`` on FastAPI, over any model ``sncse.load`` reads.

Endpoints:

- ``POST /v1/embeddings``: OpenAI's request (``input``: a string or a list of strings, ``model``,
  ``encoding_format``: ``float`` or ``base64``, ``dimensions``, ``user``) and response (``object:
  list``, ``data[i] = {object: embedding, index, embedding}``, ``model``, ``usage``). ``base64`` is
  the little-endian float32 bytes of each vector, what the official ``openai`` client asks for by
  default and decodes. ``usage`` counts the token ids the model read (special tokens included).
- ``GET /v1/models``: the one model served (``client.models.list()``).
- ``GET /health``: ``{"status": "ok", "model", "dimensions", "batching": {...}}`` (no API key needed).

Errors use OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, with a one-line
message: 401 (missing or wrong API key), 404 (another model name), 413 (too many inputs, an input
or a body too long), 422 (malformed request: not a string, an empty string, token-id input, an
unsupported ``dimensions``). Texts are embedded by a :class:`~sncse.serve.batcher.MicroBatcher`:
concurrent requests share model calls.

FastAPI reads the endpoints' annotations at run time, so this module does not postpone them
(no ``from __future__ import annotations``): the request model is a local class.
"""

import base64
import logging
import secrets
from contextlib import asynccontextmanager
from typing import Any

import numpy as np

from ..errors import SncseError
from .batcher import MicroBatcher
from .limits import ServeLimits

log = logging.getLogger(__name__)

EXTRA_HINT = "pip install 'sncse[serve]'"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class RequestError(Exception):
    """A request the server refuses: HTTP status, one-line message, the parameter at fault."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def error_body(message: str, kind: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def parse_inputs(value: Any, limits: ServeLimits) -> list[str]:
    """``input`` as a list of texts, within the limits; a :class:`RequestError` says what is wrong."""
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list):
        raise RequestError(422, f"input must be a string or a list of strings, not {type(value).__name__}", "input")
    if not texts:
        raise RequestError(422, "input is an empty list", "input")
    if len(texts) > limits.max_inputs:
        raise RequestError(413, f"input has {len(texts):,} texts; the limit is {limits.max_inputs:,} per request",
                           "input")
    for i, text in enumerate(texts):
        where = "input" if isinstance(value, str) else f"input[{i}]"
        if isinstance(text, int | list) and not isinstance(text, bool):
            raise RequestError(422, "token-id input is not supported; send the text", "input")
        if not isinstance(text, str):
            raise RequestError(422, f"{where} must be a string, not {type(text).__name__}", "input")
        if not text.strip():
            raise RequestError(422, f"{where} is empty", "input")
        if len(text) > limits.max_chars:
            raise RequestError(413, f"{where} has {len(text):,} characters; the limit is {limits.max_chars:,}",
                               "input")
    return texts


def encode_vector(vector: np.ndarray, fmt: str) -> list[float] | str:
    """One embedding as OpenAI sends it: a list of floats, or base64 of its little-endian float32 bytes."""
    if fmt == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return np.asarray(vector, dtype=np.float32).tolist()


def served_name(model: str) -> str:
    """The name clients send as ``model``: the folder's name, or the name the model was loaded by."""
    from pathlib import PurePath

    return PurePath(str(model)).name or str(model)


def model_runner(model: Any, normalize: bool, batch_size: int):
    """``texts -> [(vector, token count)]`` with ``model`` (what the batcher calls, in its thread)."""

    def run(texts: list[str]) -> list[tuple[np.ndarray, int]]:
        emb = model.encode(texts, batch_size=batch_size, normalize=normalize, show_progress=False)
        counts = [len(ids) for ids in model.tokenize(texts, max_length=model.inference_max_length)]
        return list(zip(np.asarray(emb, dtype=np.float32), counts, strict=True))

    return run


def create_app(model: Any, name: str, *, api_key: str | None = None, limits: ServeLimits | None = None,
               normalize: bool = True) -> Any:
    """A FastAPI app serving ``model`` (a loaded encoder: ``encode``, ``tokenize``, ``hidden_size``)
    as ``name``. ``api_key``: required as ``Authorization: Bearer KEY`` when set. ``normalize``:
    unit-length vectors, as OpenAI's are."""
    try:
        from fastapi import FastAPI, Request
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import JSONResponse
        from pydantic import BaseModel, ConfigDict
    except ImportError:
        raise SncseError(f"the embedding server needs fastapi and uvicorn, which are not installed: {EXTRA_HINT}") from None

    limits = limits or ServeLimits()
    dim = int(model.hidden_size)
    batcher: MicroBatcher[tuple[np.ndarray, int]] = MicroBatcher(
        model_runner(model, normalize, limits.encode_batch_size), max_batch=limits.max_batch,
        max_wait_ms=limits.max_wait_ms)

    class EmbeddingRequest(BaseModel):
        model_config = ConfigDict(extra="ignore")
        input: Any
        model: str
        encoding_format: str = "float"
        dimensions: int | None = None
        user: str | None = None

    @asynccontextmanager
    async def lifespan(app: Any):
        await batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(title="sncse embeddings", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.batcher = batcher

    def refuse(status: int, message: str, param: str | None = None, code: str | None = None,
               kind: str = "invalid_request_error") -> JSONResponse:
        return JSONResponse(error_body(message, kind, param, code), status_code=status)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if api_key is not None and request.url.path != "/health":
            given = request.headers.get("authorization", "")
            token = given[7:] if given[:7].lower() == "bearer " else ""
            if not secrets.compare_digest(token.encode(), api_key.encode()):
                return refuse(401, "missing or wrong API key (send Authorization: Bearer KEY)",
                              code="invalid_api_key", kind="authentication_error")
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_body_bytes:
            return refuse(413, f"request body of {int(length):,} bytes; the limit is {limits.max_body_bytes:,}")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return refuse(422, f"{loc or 'request body'}: {first['msg']}", loc or None)

    @app.exception_handler(RequestError)
    async def refused(request: Request, exc: RequestError) -> JSONResponse:
        return refuse(exc.status, exc.message, exc.param, exc.code)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": name, "dimensions": dim, "batching": batcher.stats.to_dict()}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "sncse"}]}

    @app.post("/v1/embeddings")
    async def embeddings(body: EmbeddingRequest) -> JSONResponse:
        if body.model != name:
            raise RequestError(404, f"model '{body.model}' is not served here; this server serves '{name}'",
                               "model", "model_not_found")
        if body.encoding_format not in ("float", "base64"):
            raise RequestError(422, f"encoding_format must be float or base64, got '{body.encoding_format}'",
                               "encoding_format")
        if body.dimensions is not None and body.dimensions != dim:
            raise RequestError(422, f"dimensions {body.dimensions} is not supported: this model's embeddings have "
                               f"{dim}", "dimensions")
        texts = parse_inputs(body.input, limits)
        results = await batcher.submit(texts)
        tokens = sum(count for _, count in results)
        data = [{"object": "embedding", "index": i, "embedding": encode_vector(vec, body.encoding_format)}
                for i, (vec, _) in enumerate(results)]
        return JSONResponse({"object": "list", "data": data, "model": name,
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    return app


def serve(model: str, host: str = "127.0.0.1", port: int = 8000, *, name: str | None = None,
          api_key: str | None = None, limits: ServeLimits | None = None, normalize: bool = True,
          pooler: str | None = None, device: str = "auto", log_level: str = "info") -> None:
    """Load ``model`` (anything ``sncse.load`` reads) and serve it with uvicorn until interrupted."""
    try:
        import uvicorn
    except ImportError:
        raise SncseError(f"the embedding server needs fastapi and uvicorn, which are not installed: {EXTRA_HINT}") from None
    from ..encoders.loading import load

    if host not in LOOPBACK and api_key is None:
        log.warning("serving on %s without an API key: anyone who can reach this address can use the model", host)
    encoder = load(model, pooler=pooler, device=device)
    app = create_app(encoder, name or served_name(model), api_key=api_key, limits=limits, normalize=normalize)
    log.info("serving %s as '%s' on http://%s:%d/v1/embeddings", model, name or served_name(model), host, port)
    uvicorn.run(app, host=host, port=port, log_level=log_level)

