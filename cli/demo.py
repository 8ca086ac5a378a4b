"""``sncse demo``: a Gradio page that shows what soft negatives change, under several models side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sncse.demo.defaults import MAX_CHARS, TOP_K

from .common import BatchSizeOpt, DeviceOpt, PoolerOpt, console, handle_errors, state


@handle_errors
def demo(
    models: Annotated[list[str], typer.Argument(metavar="MODEL [MODEL ...]", help="Models to compare (run dirs, "
                                                "exported folders, registered encoders, Hugging Face names), e.g. "
                                                "the starting encoder and the trained run.")],
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Also show the nearest lines of this corpus: a "
                                                "text file (embedded now by every model), an `sncse encode` .npy "
                                                "or a saved index (searched with the model that embedded it).")] = None,
    negator: Annotated[str, typer.Option("--negator", help="Registered negator (spacy, stanza, a plugin).")] = "spacy",
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Corpus lines shown per model.")] = TOP_K,
    max_chars: Annotated[int, typer.Option("--max-chars", help="Longest sentence accepted (characters).")] = MAX_CHARS,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port.")] = 7860,
    batch_size: BatchSizeOpt = None,
    pooler: PoolerOpt = None,
    device: DeviceOpt = "auto",
) -> None:
    """Open a page where you type a sentence and see its soft negatives (faithful and improved rules), a
    paraphrase you type, and the cosine of each pair under every model, side by side.

    The page listens on 127.0.0.1 (no share link). Stop with Ctrl-C.
    """
    from sncse.demo import SoftNegativeDemo, launch

    page = SoftNegativeDemo.load(models, corpus=corpus, negator=negator, pooler=pooler, device=device,
                                 max_chars=max_chars, top_k=top_k, show_progress=not state.quiet,
                                 **({"batch_size": batch_size} if batch_size else {}))
    console.print(f"demo page: http://{host}:{port}/ (Ctrl-C stops it)", highlight=False)
    launch(page, host=host, port=port, quiet=state.quiet)


def register(app: typer.Typer) -> None:
    app.command("demo", epilog="Example: sncse demo minilm runs/sncse --corpus corpus.txt")(demo)
