"""``sncse search``: the nearest corpus lines of each query, by cosine similarity (exact or faiss)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    BatchSizeOpt,
    DeviceOpt,
    JsonOpt,
    PoolerOpt,
    at_least,
    console,
    handle_errors,
    not_blank,
    out,
    path_plan,
    state,
    write_json_output,
)


@handle_errors
def search(
    model: Annotated[str, typer.Argument(help="The model that embeds the queries (and a text corpus): run dir, "
                                              "saved model, registered encoder or Hugging Face name.")],
    corpus: Annotated[Path, typer.Option("--corpus", help="A text file (one sentence per line, or `sncse negate` "
                                         "JSONL; embedded now), an `sncse encode` .npy, or a saved index "
                                         "folder (--save-index).")],
    query: Annotated[list[str] | None, typer.Option("--query", help="A query sentence; repeatable.",
                                                    callback=not_blank)] = None,
    queries: Annotated[Path | None, typer.Option("--queries", help="A file of queries, one per line "
                                                 "(empty lines skipped).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Hits per query.", callback=at_least(1))] = 10,
    index_kind: Annotated[str, typer.Option("--index", help="exact (torch, chunked) or faiss (approximate "
                                            "HNSW; needs the faiss extra).")] = "exact",
    texts: Annotated[Path | None, typer.Option("--texts", help="With a .npy corpus: the file its rows were "
                                               "embedded from (default: the input named in its sidecar).")] = None,
    save_index: Annotated[Path | None, typer.Option("--save-index", help="Also save the index to this folder "
                                                    "(reuse it as --corpus).")] = None,
    batch_size: BatchSizeOpt = None,
    pooler: PoolerOpt = None,
    device: DeviceOpt = "auto",
    json_file: JsonOpt = None,
) -> None:
    """Find the corpus lines most similar to each query (cosine similarity of the embeddings).

    A hit's line is its 1-based line in the corpus file. --json writes one {query, hits: [{rank,
    line, text, score}]} per query. For large corpora, embed once with `sncse encode` and search the
    .npy (memory-mapped), or save an index with --save-index.
    """
    from sncse.io import iter_lines
    from sncse.search.run import run_search

    asked = list(query or [])
    plan = path_plan(json_file).read(queries, "the queries")
    if queries is not None:
        asked += [q.strip() for q in iter_lines(queries) if q.strip()]
    result = run_search(model, corpus, asked, top_k=top_k, kind=index_kind, texts=texts, save_index=save_index,
                        batch_size=batch_size or 128, pooler=pooler, device=device,
                        show_progress=not state.quiet, paths=plan)
    write_json_output(json_file, result["results"])
    if json_file == "-":
        return
    if json_file:
        console.print(f"wrote {json_file}", highlight=False)
    _print_tables(result["results"])
    if save_index:
        console.print(f"index saved to {save_index}", highlight=False)


def _print_tables(results: list[dict]) -> None:
    from rich.table import Table

    for item in results:
        table = Table(title=f"query: {item['query']}", title_justify="left")
        for name, justify in (("rank", "right"), ("line", "right"), ("score", "right"), ("text", "left")):
            table.add_column(name, justify=justify)
        for hit in item["hits"]:
            table.add_row(str(hit["rank"]), str(hit["line"]), f"{hit['score']:.4f}",
                          hit["text"] if hit["text"] is not None else "[dim]-[/]")
        out.print(table)


def register(app: typer.Typer) -> None:
    app.command("search", epilog='Example: sncse search minilm --corpus corpus.npy --query "a man plays guitar" '
                "--top-k 5")(search)
