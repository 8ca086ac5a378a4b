"""``sncse encode``: one embedding per corpus line into a .npy array (+ JSON sidecar); resumable, shardable.
``sncse merge-embeddings``: join the shards of a ``--shard K/N`` run into that one array."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    BatchSizeOpt,
    DeviceOpt,
    JsonOpt,
    PoolerOpt,
    ShardOpt,
    at_least,
    console,
    handle_errors,
    out,
    path_plan,
    write_json_output,
)


@handle_errors
def encode(
    model: Annotated[str, typer.Argument(help="Run dir, saved model, sentence-transformers dir, registered encoder "
                                              "(minilm, tiny-bert) or Hugging Face name.")],
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="One sentence per line (gzip ok), or the "
                                               "JSONL of `sncse negate` (its first column is embedded).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .npy array to write (one row per input "
                                         "line); its sidecar goes to OUT.npy.json.")],
    fmt: Annotated[str, typer.Option("--format", help="auto | text | negations (auto: negations if the first "
                                     "line is a [sentence, negation] list).")] = "auto",
    dtype: Annotated[str, typer.Option("--dtype", help="float32 or float16 (half the size).")] = "float32",
    normalize: Annotated[bool, typer.Option("--normalize", help="L2-normalise every row (dot product = "
                                            "cosine).")] = False,
    amp: Annotated[str, typer.Option("--amp", help="Precision of the encoder: auto (bf16 on CUDA with native "
                                     "bf16, else fp16; fp32 on the CPU) | off (fp32) | bf16 | fp16. Recorded in the "
                                     "sidecar; shards of mixed precision are not merged.")] = "auto",
    batch_size: BatchSizeOpt = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Lines embedded and saved at a time (the "
                                            "resume and shard granularity; repeats are embedded once within a "
                                            "chunk).", callback=at_least(1))] = 4096,
    resume: Annotated[bool, typer.Option("--resume", help="Keep the chunks an interrupted run finished and "
                                         "embed only the rest.")] = False,
    empty_lines: Annotated[str, typer.Option("--empty-lines", help="error (stop at the first empty line) or "
                                             "zero (write a zero vector for it, keeping line N = row N).")] = "error",
    shard: ShardOpt = None,
    pooler: PoolerOpt = None,
    device: DeviceOpt = "auto",
    json_file: JsonOpt = None,
) -> None:
    """Embed every line of INPUT: OUT.npy with one row per line, in input order, plus OUT.npy.json
    (model, pooler, dim, count, dtype, normalize, precision, input sha256 and line range).

    Written atomically, chunk by chunk (--resume continues a killed run). With --shard K/N each
    machine embeds one contiguous range into OUT.shard-K-of-N.npy; `sncse merge-embeddings` joins
    them into the array one run would have written (docs/scaling.md).
    """
    from sncse.embed import encode_file

    summary = encode_file(model, input_path, output, fmt=fmt, batch_size=batch_size or 128, normalize=normalize,
                          dtype=dtype, chunk_size=chunk_size, resume=resume, shard=shard,
                          empty_lines=empty_lines, pooler=pooler, device=device, amp=amp,
                          paths=path_plan(json_file))
    write_json_output(json_file, summary)
    if json_file == "-":
        return
    rate = summary["sentences_per_second"]
    resumed = f", {summary['resumed_chunks']} chunk(s) resumed" if summary["resumed_chunks"] else ""
    out.print(f"{summary['count']:,} x {summary['dim']} {summary['dtype']} embeddings ({summary['precision']}) of "
              f"{input_path} "
              f"(lines {summary['line_range'][0] + 1:,}-{summary['line_range'][1]:,}) -> {summary['output']}"
              + (f" ({rate:,.0f} sentences/s{resumed})" if rate else resumed), highlight=False, soft_wrap=True)
    console.print(f"sidecar: {summary['sidecar']}", highlight=False)


@handle_errors
def merge_embeddings(
    output: Annotated[Path, typer.Argument(metavar="OUT.npy", help="The merged array to write.")],
    shards: Annotated[list[Path], typer.Argument(metavar="SHARD.npy...", help="The shard arrays of one "
                                                 "`sncse encode --shard K/N` run, in any order.")],
    json_file: JsonOpt = None,
) -> None:
    """Join the N shard arrays of one `sncse encode --shard K/N` run into OUT.npy (and its sidecar),
    checking that they come from the same run and cover every line exactly once."""
    from sncse.embed import merge_shards

    summary = merge_shards(shards, output, paths=path_plan(json_file))
    write_json_output(json_file, summary)
    if json_file == "-":
        return
    out.print(f"{summary['count']:,} rows from {len(shards)} shard(s) -> {summary['output']}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("encode", epilog="Example: sncse encode minilm corpus.txt -o corpus.npy --normalize")(encode)
    app.command("merge-embeddings", epilog="Example: sncse merge-embeddings corpus.npy "
                "corpus.shard-*-of-4.npy")(merge_embeddings)
