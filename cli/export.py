"""``sncse export``: a trained model as a sentence-transformers or Hugging Face folder with a model card."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DeviceOpt, JsonOpt, PoolerOpt, console, handle_errors, out, state, write_json_output


@handle_errors
def export(
    source: Annotated[str, typer.Argument(metavar="RUN_DIR", help="Run directory of `sncse train` (or any model "
                                          "`sncse.load` accepts: saved model, HF folder, registered name).")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="DIR", help="Folder to create.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="sentence-transformers | hf")] = "sentence-transformers",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty DIR.")] = False,
    pooler: PoolerOpt = None,
    normalize: Annotated[bool, typer.Option("--normalize", help="Add a Normalize module (sentence-transformers "
                                            "returns unit-length vectors).")] = False,
    verify: Annotated[bool | None, typer.Option("--verify/--no-verify", help="Reload with sentence-transformers "
                                                "and compare embeddings (default: when it is installed).")] = None,
    device: DeviceOpt = "auto",
    json_file: JsonOpt = None,
) -> None:
    """Export a trained model to a folder that loads with SentenceTransformer(DIR) or AutoModel + sncse.load(DIR).

    The folder is built in a temporary directory and renamed into place when complete. The training-only
    MLP head is dropped (kept only for model.mlp: always); a README.md model card records the training
    setup and the run's STS scores.
    """
    from sncse.export import export as do_export

    result = do_export(source, output, fmt, overwrite=overwrite, pooler=pooler, normalize=normalize,
                       verify=verify, device=device)
    write_json_output(json_file, result.to_dict())
    if json_file == "-":
        return
    check = ""
    if result.verification:
        check = f", verified (max |diff| {result.verification['max_abs_diff']:.1e})"
    out.print(f"exported {source} -> [bold]{result.path}[/] ({result.format}, pooler {result.pooler}, "
              f"MLP head {result.head}{check})", highlight=False)
    if not state.quiet and result.format == "sentence-transformers":
        console.print(f"load it with: SentenceTransformer({str(result.path)!r})", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("export", epilog="Example: sncse export runs/sncse -o exported/sncse-bert "
                "--format sentence-transformers")(export)
