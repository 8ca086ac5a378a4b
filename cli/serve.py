"""``sncse serve``: a model behind OpenAI's ``/v1/embeddings`` (FastAPI + uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from sncse.serve.limits import ServeLimits

from .common import BatchSizeOpt, DeviceOpt, PoolerOpt, handle_errors, state


@handle_errors
def serve(
    model: Annotated[str, typer.Argument(help="What to serve: an `sncse export` folder (either format), a run "
                                              "directory, a saved model, a registered encoder or a Hugging Face name.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface; set an "
                                      "API key then).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port.")] = 8000,
    name: Annotated[str | None, typer.Option("--name", help="The model name clients send (default: the folder's "
                                             "name).")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="SNCSE_API_KEY", show_envvar=True,
                                                help="Require Authorization: Bearer KEY on every request.")] = None,
    max_inputs: Annotated[int, typer.Option("--max-inputs", help="Most texts in one request (more: 413).")] = ServeLimits.max_inputs,
    max_chars: Annotated[int, typer.Option("--max-chars", help="Most characters in one text (more: 413).")] = ServeLimits.max_chars,
    max_batch: Annotated[int, typer.Option("--max-batch", help="Most texts of concurrent requests embedded in "
                                           "one model call.")] = ServeLimits.max_batch,
    batch_wait_ms: Annotated[float, typer.Option("--batch-wait-ms", help="Wait this long after a request for "
                                                 "others to batch with (0: batch only what is already "
                                                 "waiting).")] = ServeLimits.max_wait_ms,
    normalize: Annotated[bool, typer.Option("--normalize/--no-normalize", help="Unit-length vectors, as "
                                            "OpenAI's.")] = True,
    batch_size: BatchSizeOpt = None,
    pooler: PoolerOpt = None,
    device: DeviceOpt = "auto",
) -> None:
    """Serve a model with OpenAI's embeddings API: POST /v1/embeddings, GET /v1/models, GET /health.

    Any OpenAI client works: OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=KEY or "unused").
    Concurrent requests are embedded together. Stop with Ctrl-C.
    """
    from sncse.serve import serve as run_server

    limits = ServeLimits(max_inputs=max_inputs, max_chars=max_chars, max_batch=max_batch,
                         max_wait_ms=batch_wait_ms, encode_batch_size=batch_size or ServeLimits.encode_batch_size)
    run_server(model, host=host, port=port, name=name, api_key=api_key, limits=limits, normalize=normalize,
               pooler=pooler, device=device, log_level="warning" if state.quiet else "info")


def register(app: typer.Typer) -> None:
    app.command("serve", epilog="Example: sncse serve exported/sncse-bert --port 8000")(serve)
