"""``sncse export``: a trained model as a sentence-transformers or Hugging Face folder with a model card."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import (
    DeviceOpt,
    JsonOpt,
    PoolerOpt,
    console,
    handle_errors,
    out,
    path_plan,
    state,
    write_json_output,
)


@handle_errors
def export(
    source: Annotated[str, typer.Argument(metavar="RUN_DIR", help="Run directory of `sncse train` (or any model "
                                          "`sncse.load` accepts: saved model, HF folder, registered name).")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="DIR", help="Folder to create.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="sentence-transformers | hf | onnx")] = "sentence-transformers",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty DIR.")] = False,
    pooler: PoolerOpt = None,
    normalize: Annotated[bool, typer.Option("--normalize", help="Unit-length embeddings: a Normalize module "
                                            "(sentence-transformers), an L2 normalisation in the graph (onnx).")] = False,
    verify: Annotated[bool | None, typer.Option("--verify/--no-verify", help="Reload with sentence-transformers "
                                                "(onnx: onnxruntime) and compare embeddings (default: when it is "
                                                "installed; always for onnx).")] = None,
    quantize: Annotated[str | None, typer.Option("--quantize", help="onnx only: int8 = dynamic int8 quantization "
                                                 "of the graph.")] = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="With --quantize: print the 7-task STS average "
                                        "before and after on the local data.")] = True,
    device: DeviceOpt = "auto",
    json_file: JsonOpt = None,
) -> None:
    """Export a trained model to a folder that loads with SentenceTransformer(DIR) or AutoModel + sncse.load(DIR),
    or (--format onnx) an ONNX graph that returns the pooled sentence embedding.

    The folder is built in a temporary directory and renamed into place when complete. The training-only
    MLP head is dropped (kept only for model.mlp: always); a README.md model card records the training
    setup and the run's STS scores.
    """
    from sncse.export import export as do_export

    result = do_export(source, output, fmt, overwrite=overwrite, pooler=pooler, normalize=normalize,
                       verify=verify, device=device, quantize=quantize, check=check, show_progress=not state.quiet,
                       paths=path_plan(json_file))
    write_json_output(json_file, result.to_dict())
    if json_file == "-":
        return
    verified = ""
    if result.verification:
        verified = f", verified (max |diff| {result.verification['max_abs_diff']:.1e})"
    quantized = (result.onnx or {}).get("quantization")
    if quantized:
        verified += f", {quantized['mode']} (min cosine to fp32 {quantized['min_cosine_to_fp32']:.4f})"
    out.print(f"exported {source} -> [bold]{result.path}[/] ({result.format}, pooler {result.pooler}, "
              f"MLP head {result.head}{verified})", highlight=False)
    sts = (result.onnx or {}).get("sts_check")
    if sts and "skipped" in sts:
        console.print(f"[yellow]STS check skipped[/]: {sts['skipped']}", highlight=False)
    elif sts:
        out.print(f"STS avg. (7 test sets): fp32 {sts['fp32_avg']:.2f} -> {result.onnx['quantization']['mode']} "
                  f"{sts['int8_avg']:.2f} ({sts['change']:+.2f})", highlight=False)
    if not state.quiet and result.format == "sentence-transformers":
        console.print(f"load it with: SentenceTransformer({str(result.path)!r})", highlight=False)
    elif not state.quiet and result.format == "onnx":
        console.print(f"load it with: sncse.load({str(result.path)!r}) (onnxruntime)", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("export", epilog="Example: sncse export runs/sncse -o exported/sncse-bert "
                "--format sentence-transformers")(export)
