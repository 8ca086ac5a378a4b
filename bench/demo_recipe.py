"""Choose the demo's training recipe on STS-B dev of the embedded sample, never on anything it reports.

    env -u SNCSE_DATA python bench/demo_recipe.py --lrs 2e-5,5e-5,1e-4,2e-4 --steps 24 --batch 64 \
        --out bench/results/demo_recipe.json

Every candidate (lr x steps x batch) trains exactly what ``scripts/demo.sh`` trains: ``sncse train -c
configs/minilm.yaml`` with BML, all-MiniLM-L6-v2's ``mean`` pooler, SimCSE's MLP head in training only, on
the sample's 2,000 Wikipedia sentences and their negations, STS-B dev (all 1,500 pairs of the sample's
``sts-dev.csv``) every ``--eval-steps`` steps, the best checkpoint kept. The choice is the candidate whose
best checkpoint scores highest on STS-B dev (ties: fewer steps, then the smaller lr). STS-B test and the
negation triplets, which the demo reports, are never evaluated here.

The JSON records every candidate (best dev score and step, the dev curve, training seconds), the choice,
the command, the machine and its load average before and after.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

from record import environment, write

REPO = Path(__file__).resolve().parent.parent


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sncse(*args: str) -> None:
    cmd = [sys.executable, "-m", "sncse_cli.main", "-q", *args]
    env = {k: v for k, v in os.environ.items() if k != "SNCSE_DATA"}  # the embedded sample, as `make demo`
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lrs", default="2e-5,5e-5,1e-4,2e-4")
    ap.add_argument("--steps", default="24", help="comma list of step counts")
    ap.add_argument("--batch", default="64", help="comma list of batch sizes")
    ap.add_argument("--eval-steps", type=int, default=8)
    ap.add_argument("--encoder", default="minilm")
    ap.add_argument("--work", type=Path, default=Path("demo-recipe-work"))
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "demo_recipe.json")
    args = ap.parse_args(argv)

    from sncse.data.root import SAMPLE_CORPUS, sample_root
    from sncse.rundir.files import RESULTS_FILE
    from sncse.rundir.reader import read_run

    args.work.mkdir(parents=True, exist_ok=True)
    negations = args.work / "corpus.negations.jsonl"
    started, load_start = time.time(), load()
    if not negations.is_file():
        sncse("negate", str(sample_root() / SAMPLE_CORPUS), "-o", str(negations), "--workers", "2")
    candidates = []
    grid = itertools.product([int(b) for b in args.batch.split(",")], [int(s) for s in args.steps.split(",")],
                             args.lrs.split(","))
    for batch, steps, lr in grid:
        run = args.work / f"bml-b{batch}-steps{steps}-lr{lr}"
        if not (run / RESULTS_FILE).is_file():
            sncse("train", "-c", str(REPO / "configs" / "minilm.yaml"), "--encoder", args.encoder, "--pooler", "mean",
                  "--data", str(negations), "-o", str(run), "--overwrite", "--set", "train.device=cpu",
                  "--set", f"train.max_steps={steps}", "--set", f"optim.lr={lr}", "--set", f"train.batch_size={batch}",
                  "--set", f"train.eval_steps={args.eval_steps}", "--set", "train.save_steps=-1")
        r = read_run(run)
        candidates.append({"lr": lr, "lr_value": float(lr), "steps": steps, "batch": batch,
                           "best_dev_stsb": r.best_dev, "best_step": (r.results or {}).get("best_step"),
                           "dev_curve": r.dev_curve, "train_seconds": (r.results or {}).get("train_seconds")})
        print(f"lr {lr} steps {steps} batch {batch}: best STS-B dev {r.best_dev:.2f} at step "
              f"{candidates[-1]['best_step']}", file=sys.stderr)
    chosen = max(candidates, key=lambda c: (c["best_dev_stsb"], -c["steps"], -c["lr_value"]))
    record = {
        "what": "the demo's recipe, chosen on STS-B dev of the embedded sample (never on STS-B test or the "
                "negation triplets)",
        "command": "env -u SNCSE_DATA python " + " ".join([Path(sys.argv[0]).as_posix(), *(argv or sys.argv[1:])]),
        "candidates": candidates,
        "chosen": {k: chosen[k] for k in ("lr", "steps", "batch", "best_dev_stsb", "best_step")},
        "eval_steps": args.eval_steps, "encoder": args.encoder, "data": "the embedded sample",
        "wall_seconds": round(time.time() - started, 1), "load_start": load_start, "load_end": load(),
        **environment(),
    }
    return write(args.out, record)


if __name__ == "__main__":
    sys.exit(main())
