"""``sncse train``: train a sentence encoder with SimCSE, SNCSE (and its PL/NL ablations), MixCSE or
supervised SimCSE."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .common import JsonOpt, console, handle_errors, path_plan, state, write_json_output
from .config import ConfigOpt, SetOpt

EPILOG = (
    "Example: sncse train -c configs/tiny.yaml -o runs/tiny --set train.max_steps=4\n\n"
    "Multi-GPU: torchrun --nproc_per_node 4 -m sncse_cli.main train -c configs/sncse-bert-base.yaml"
)


@handle_errors
def train(
    config: ConfigOpt = None,
    loss: Annotated[str | None, typer.Option("--loss", help="infonce | pl | nl | bml | mixcse | sup "
                                             "(or a plugin's loss); sets loss.name.")] = None,
    encoder: Annotated[str | None, typer.Option("--encoder", help="Registered encoder (tiny-bert, minilm), "
                                                "Hugging Face name or local directory; sets model.encoder.")] = None,
    pooler: Annotated[str | None, typer.Option("--pooler", help="cls | cls_before_pooler | mean | "
                                               "avg_first_last | prompt; sets model.pooler.")] = None,
    data: Annotated[str | None, typer.Option("--data", help="Training file: text, `sncse negate` JSONL, "
                                             "sent0,sent1,hard_neg CSV or an SNLI folder; sets data.train_file.")] = None,
    output_dir: Annotated[str | None, typer.Option("--output-dir", "-o", help="Run directory; sets "
                                                   "train.output_dir.")] = None,
    mini_batch_size: Annotated[int | None, typer.Option("--mini-batch-size", help="Gradient cache: encode the "
                                                        "batch in forward passes of at most this many sequences "
                                                        "(all views) and train as if the whole batch fit; 0: "
                                                        "off. Sets train.mini_batch_size.")] = None,
    dev_file: Annotated[str | None, typer.Option("--dev-file", help="Your own scored pairs (TSV, CSV or JSONL, "
                                                 "as eval --pairs) for checkpoint selection instead of STS-B dev; "
                                                 "sets train.dev_file (columns: train.dev_columns).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output-dir from its last "
                                         "checkpoint (model, optimizer, scheduler, RNG, data position).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing run directory.")] = False,
    overrides: SetOpt = None,
    json_file: JsonOpt = None,
) -> None:
    """Train an encoder; options override the config file, --set reaches every key."""
    import logging

    from sncse.io import read_json
    from sncse.rundir.files import RESULTS_FILE
    from sncse.train.distributed import is_main_process
    from sncse.train.loop import resolve_train_config
    from sncse.train.loop import train as run_training

    extra = {"loss.name": loss, "model.encoder": encoder, "model.pooler": pooler, "data.train_file": data,
             "train.output_dir": output_dir, "train.mini_batch_size": mini_batch_size,
             "train.dev_file": dev_file}
    cfg = resolve_train_config(config, overrides, extra, resume=resume)
    reports = is_main_process()  # torchrun: one process speaks
    if not reports:
        logging.getLogger().setLevel(logging.WARNING)
        state.quiet = True
    plan = path_plan(json_file).read(config, "the config file")
    run_dir = run_training(cfg, argv=["sncse", *sys.argv[1:]], resume=resume, overwrite=overwrite, paths=plan)
    if not reports:
        return
    results = read_json(run_dir / RESULTS_FILE)
    write_json_output(json_file, results)
    if json_file == "-":
        return
    best = results.get("best_dev")
    where = f"dev ({results['dev_file']})" if results.get("dev_file") else "STS-B dev"
    best_txt = (f"best {where} {best:.2f} at step {results['best_step']}" if best is not None else
                f"no {where} score defined, no checkpoint selected" if results.get("dev_metric") else "no dev evaluation")
    rate = results.get("sent_per_s")
    console.print(f"[bold green]done[/]: {results['steps']} steps, {best_txt}, "
                  f"{rate:,.0f} sent/s; run: {run_dir}" if rate else f"[bold green]done[/]: {run_dir}",
                  highlight=False)


def register(app: typer.Typer) -> None:
    app.command("train", epilog=EPILOG)(train)
