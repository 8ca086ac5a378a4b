#!/usr/bin/env python3
"""Helpers of ``scripts/reproduce.sh`` (the results page, ``docs/results.md``). Each subcommand is one small
step that the shell script cannot do by itself; every file is written atomically (``sncse.io.atomic_write``).

    corpus            the training corpus: the wiki prefix followed by the sentences of SentEval's transfer
                      sets (MR, CR, SUBJ, MPQA, TREC by default), de-duplicated, one sentence a line
                      (--lines N: only the first N, for dry runs)
    analysis-sentences  the STS sentences that ``sncse analyze --negation`` samples (same function, same seed),
                      one a line, so that they can be negated ahead of time where spaCy is installed; then
                      ``sncse analyze --negation --pairs FILE`` runs the analysis where it is not
    pack-negations    gzip a ``sncse negate`` output for training, dropping (and counting) pairs with an empty side:
                      the faithful rules turn the line "not" (MPQA has it) into "", which the trainer refuses
    fp32-encoder      a float32 copy of a Hugging Face encoder folder (the GPU bundle ships fp16 weights,
                      which transformers 5 would load as fp16 and train in fp16)
    choose            the lr and step count of the search stage: the InfoNCE run with the best STS-B dev
                      score among SEARCH/*-steps<N>-lr<LR> (ties: fewer steps, then the smaller lr); writes
                      every candidate and the choice
    run-line          one line about a finished run: seconds, best dev score and step, test average
    source-site       make sncse importable without pip: DIR holds links to the source packages and a
                      .dist-info with the entry points of pyproject.toml (a GPU image with no build tools)
    step-cost         CPU seconds of one training step and of one STS-B dev evaluation on this machine
                      (process time, so other processes' load changes it little): what sizing a grid needs
    device-plan       docs/results_gpu_plan.json: the prepared GPU command (carry list, command line,
                      timeout, time budget), the commands that prepare it and the sizes of what it carries
    meta              merge key=value pairs (values parsed as JSON when they parse) into a JSON file; key?=v
                      sets only if absent, key+=n adds, key[]=v appends
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_TRANSFER_SETS = ("mr", "cr", "subj", "mpqa", "trec")
REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------ corpus
def build_corpus(wiki: Path, out: Path, sets: list[str], root: str | None = None, lines: int = 0) -> dict[str, Any]:
    """Write ``out``: every line of ``wiki`` unchanged (so its negations equal those of the wiki file
    alone), then each transfer-set sentence (SentEval's reader: latin-1, labels stripped, whitespace
    re-joined) that is not blank and not already in the file. ``lines`` > 0 stops after that many
    lines (a dry run). Returns the counts."""
    from sncse.data.senteval import load_transfer
    from sncse.io import atomic_write, iter_lines, write_json

    seen: set[str] = set()
    stats: dict[str, Any] = {"wiki_file": str(wiki), "sets": {}}
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as fh:
        n_wiki = 0
        for line in iter_lines(wiki):
            if lines and n_wiki >= lines:
                break
            fh.write(line + "\n")
            seen.add(" ".join(line.split()))
            n_wiki += 1
        stats["wiki_lines"] = n_wiki
        total = n_wiki
        for name in sets:
            if lines and total >= lines:
                break
            task = load_transfer(name, root=root)
            read = kept = 0
            for split in task.splits.values():
                for sentence in (*split.sent1, *(split.sent2 or [])):
                    read += 1
                    if not sentence or sentence in seen or (lines and total + kept >= lines):
                        continue
                    seen.add(sentence)
                    fh.write(sentence + "\n")
                    kept += 1
            stats["sets"][name] = {"sentences": read, "kept": kept, "dropped_duplicate_or_blank": read - kept}
            total += kept
        stats["lines"] = total
        if lines:
            stats["limited_to"] = lines
    write_json(out.with_suffix(".stats.json"), stats)
    return stats


# ------------------------------------------------------------------------------- negation analysis
def write_analysis_sentences(out: Path, n: int, seed: int) -> int:
    from sncse.analyze.negation_sim import sample_sentences
    from sncse.io import atomic_write

    sentences = sample_sentences(n, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as fh:
        for s in sentences:
            fh.write(s + "\n")
    return len(sentences)


def pack_negations(src: Path, dst: Path) -> dict[str, int]:
    """Copy ``src`` (a ``sncse negate`` output) to the gzip file ``dst`` without the pairs that have an
    empty sentence or negation; returns ``{"pairs": kept, "dropped_empty": n}``."""
    import gzip

    from sncse.data.corpus import iter_negation_pairs
    from sncse.io import atomic_write
    from sncse.negation.formats import format_pair

    kept = dropped = 0
    with atomic_write(dst, mode="wb", encoding=None) as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        for _, sentence, negation in iter_negation_pairs(src):
            if not sentence.strip() or not negation.strip():
                dropped += 1
                continue
            gz.write(format_pair(sentence, negation).encode("utf-8"))
            kept += 1
    return {"pairs": kept, "dropped_empty": dropped}


# ----------------------------------------------------------------------------------------- search
SEARCH_RUN = re.compile(r"-steps(?P<steps>\d+)-lr(?P<lr>[^/]+)$")


def choose_settings(search: Path, out: Path) -> dict[str, Any]:
    """The search stage's choice: among ``search/*-steps<N>-lr<LR>`` (finished InfoNCE runs), the best
    STS-B dev score of its selected checkpoint; ties go to fewer steps, then the smaller lr (the
    cheaper, gentler setting). Writes ``out`` with every candidate, so the page can show the search."""
    from sncse.errors import SncseError
    from sncse.io import write_json
    from sncse.rundir.reader import read_run

    candidates = []
    for d in sorted(p for p in search.iterdir() if p.is_dir()):
        m = SEARCH_RUN.search(d.name)
        if m is None:
            continue
        run = read_run(d)
        if run.results is None:
            continue
        candidates.append({"run": d.name, "steps": int(m["steps"]), "lr": m["lr"], "lr_value": float(m["lr"]),
                           "best_dev_stsb": run.best_dev, "best_step": run.results.get("best_step"),
                           "dev_curve": [[s, v] for s, v in run.dev_curve],
                           "train_seconds": run.results.get("train_seconds"),
                           "wall_seconds": run.results.get("wall_seconds")})
    scored = [c for c in candidates if c["best_dev_stsb"] is not None]
    if not scored:
        raise SncseError("no finished search run with a dev score", path=search)
    best = min(scored, key=lambda c: (-round(c["best_dev_stsb"], 6), c["steps"], c["lr_value"]))
    result = {"criterion": "best STS-B dev Spearman of the selected checkpoint (InfoNCE, seed 42)",
              "candidates": candidates, "steps": best["steps"], "lr": best["lr"], "chosen": best["run"]}
    write_json(out, result)
    return result


def run_line(run_dir: Path, seconds: int) -> str:
    """``name: S s, best STS-B dev D at step K, STS test avg A``: the log line of a finished run."""
    from sncse.rundir.reader import read_run

    run = read_run(run_dir)
    avg = run.test_avg
    return (f"{run_dir.name}: {seconds} s, best STS-B dev {run.best_dev} at step "
            f"{(run.results or {}).get('best_step')}, STS test avg {'-' if avg is None else f'{avg:.2f}'}")


# ----------------------------------------------------------------------------------- source site
def source_site(site: Path, repo: Path = REPO) -> Path:
    """Make the source tree importable as the installed project would be, without pip or setuptools:
    ``site/sncse``, ``site/sncse_cli``, ``site/sncse_plugins`` link to the source folders (the package
    directories of pyproject.toml) and ``site/sncse-<version>.dist-info`` holds METADATA and the entry
    points, which the registries read through ``importlib.metadata``. Put ``site`` on PYTHONPATH."""
    import tomllib

    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    meta = project["project"]
    site.mkdir(parents=True, exist_ok=True)
    for name, folder in project["tool"]["setuptools"]["package-dir"].items():
        link = site / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to((repo / folder).resolve(), target_is_directory=True)
    info = site / f"{meta['name']}-{meta['version']}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
                                   encoding="utf-8")
    groups = meta.get("entry-points", {})
    lines = []
    for group, entries in groups.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in entries.items()]
        lines.append("")
    scripts = meta.get("scripts", {})
    if scripts:
        lines += ["[console_scripts]", *[f"{k} = {v}" for k, v in scripts.items()], ""]
    (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    return site


# ------------------------------------------------------------------------------------- step cost
def step_cost(data: Path, loss: str = "infonce", batch: int = 64, steps: int = 4, pooler: str = "mean",
              encoder: str = "minilm", threads: int = 1) -> dict[str, Any]:
    """Process CPU seconds (and wall seconds) of ``steps`` training steps of ``batch`` examples from the
    negations file ``data`` (the first step warms up and is reported apart) and of one encoding of the
    STS-B dev sentences, the two costs a grid run is made of besides its test evaluation."""
    import time

    import torch

    from sncse.config import load_config
    from sncse.data.corpus import iter_negation_pairs
    from sncse.eval.sts import load_tasks
    from sncse.train.builders import batch_from_sentences, build_train_step

    torch.set_num_threads(threads)
    cfg = load_config(REPO / "configs" / "minilm.yaml", [f"model.pooler={pooler}", f"model.encoder={encoder}",
                                                        "train.device=cpu", f"loss.name={loss}"])
    step = build_train_step(cfg, total_steps=100)
    pairs = []
    for _, sentence, negation in iter_negation_pairs(data):
        pairs.append((sentence, negation))
        if len(pairs) >= batch * steps:
            break
    times = []
    for i in range(steps):
        chunk = pairs[i * batch:(i + 1) * batch]
        b = batch_from_sentences(step.model, step.views, [x for x, _ in chunk], negations=[n for _, n in chunk])
        cpu, wall = time.process_time(), time.perf_counter()
        step(b)
        times.append((time.process_time() - cpu, time.perf_counter() - wall))
    sentences = load_tasks(["stsb"], "dev")[0].sentences()
    step.model.eval()
    cpu, wall = time.process_time(), time.perf_counter()
    step.model.encode(sentences, batch_size=64, show_progress=False)
    dev = (time.process_time() - cpu, time.perf_counter() - wall)
    later = times[1:] or times
    return {"loss": loss, "batch": batch, "threads": threads, "pooler": pooler, "encoder": encoder,
            "step_cpu_seconds": round(sum(c for c, _ in later) / len(later), 2),
            "step_wall_seconds": round(sum(w for _, w in later) / len(later), 2),
            "first_step_cpu_seconds": round(times[0][0], 2),
            "dev_sentences": len(sentences), "dev_cpu_seconds": round(dev[0], 2), "dev_wall_seconds": round(dev[1], 2),
            "load_average": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None}


# ----------------------------------------------------------------------------------- device plan
# The GPU grid as one command of a machine without spaCy or a network, which returns what $OUT holds
# (docs/results.md, "GPU grid"). The time budget leaves the runs started before it time to finish,
# the analysis and the page inside the timeout.
DEVICE_CARRY = [".device", "runs/repro-gpu/prepared"]
DEVICE_TIMEOUT_S = 480
DEVICE_TIME_BUDGET_S = 360
DEVICE_COMMAND = ('set -o pipefail; PYTHON=python3 bash scripts/reproduce.sh --grid gpu '
                  f'--time-budget {DEVICE_TIME_BUDGET_S} --export "$OUT" 2>&1 | tee "$OUT/reproduce.log"')
PREPARE_COMMANDS = ["../shared/tools/device_bundle.sh .venv/bin/python",
                    "scripts/reproduce.sh --grid gpu --stages prepare",
                    "scripts/repro_tools.py device-plan --out docs/results_gpu_plan.json"]
DRY_RUN_COMMAND = ("DOCS=/tmp/gpu-dry/docs scripts/reproduce.sh --grid gpu --device cpu --out /tmp/gpu-dry "
                   "--encoder tiny-bert --corpus-lines 300 --train-limit 300 --steps 2 --batch 8 --eval-steps 1 "
                   "--dev-limit 50 --test-limit 5 --analysis-n 20 --seeds 42,43 --jobs 2 --threads 1 "
                   "--export /tmp/gpu-dry/export")
DEVICE_LIMIT_MIB = 64


def _tree_bytes(repo: Path) -> int:
    """What a device command sends besides its carry list: tracked and untracked-not-ignored files."""
    import subprocess

    names = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           check=True, capture_output=True).stdout.decode().split("\0")
    return sum((repo / n).stat().st_size for n in names if n and (repo / n).is_file())


def _path_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def device_plan(out: Path, repo: Path = REPO, dry_run: Path | None = None) -> dict[str, Any]:
    """Write ``out`` (docs/results_gpu_plan.json): the command, the carry list with each path's size as
    it is now (a missing one is listed as missing: prepare it first) and the tree's size; with
    ``dry_run``, the output folder of a dry run of the grid, what that run did (calls, wall time, runs
    evaluated, machine)."""
    from sncse.io import read_json, write_json
    from sncse.rundir.files import eval_result_path

    carry = {c: (_path_bytes(repo / c) if (repo / c).exists() else None) for c in DEVICE_CARRY}
    tree = _tree_bytes(repo)
    mib = 1024 * 1024
    plan = {"device_command": DEVICE_COMMAND, "command_chars": len(DEVICE_COMMAND), "carry": DEVICE_CARRY,
            "timeout_s": DEVICE_TIMEOUT_S, "time_budget_s": DEVICE_TIME_BUDGET_S, "limit_mib": DEVICE_LIMIT_MIB,
            "carry_bytes": carry, "carry_mib": round(sum(v or 0 for v in carry.values()) / mib, 1),
            "tree_mib": round(tree / mib, 1), "missing": [c for c, v in carry.items() if v is None],
            "prepare_commands": PREPARE_COMMANDS, "dry_run_command": DRY_RUN_COMMAND,
            "export_every_s": 30,
            "settings": {"seeds": [42, 43, 44], "batch": 256, "lr": 1e-5, "poolers": ["mean", "prompt"]}}
    plan["fits"] = not plan["missing"] and plan["carry_mib"] + plan["tree_mib"] < DEVICE_LIMIT_MIB
    if dry_run is not None:
        grid = read_json(dry_run / "grid.json")
        plan["dry_run"] = {k: grid.get(k) for k in ("commands", "started", "finished", "wall_seconds", "calls",
                                                    "machine", "load_at_start", "load_at_end")}
        evaluated = dry_run.glob(str(eval_result_path("*/*", "test")))
        plan["dry_run"]["runs_evaluated"] = len({p.parent.resolve() for p in evaluated})
    write_json(out, plan)
    return plan


# --------------------------------------------------------------------------------------- encoder
def fp32_encoder(src: Path, dst: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tmp = dst.with_name(dst.name + ".partial")
    AutoModel.from_pretrained(str(src), dtype=torch.float32).save_pretrained(str(tmp))
    AutoTokenizer.from_pretrained(str(src)).save_pretrained(str(tmp))
    if dst.exists():
        import shutil

        shutil.rmtree(dst)
    tmp.rename(dst)


# ------------------------------------------------------------------------------------------ meta
def merge_meta(path: Path, items: list[str]) -> dict[str, Any]:
    """``key=value`` sets, ``key?=value`` sets only if absent, ``key+=number`` adds, ``key[]=value`` appends
    to a list; dotted keys nest."""
    from sncse.io import write_json

    obj: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"meta: expected key=value, got {item!r}")
        op = "[]" if key.endswith("[]") else (key[-1] if key[-1:] in ("?", "+") else "")
        key = key[: -len(op)] if op else key
        try:
            parsed: Any = json.loads(value)
        except ValueError:
            parsed = value
        target = obj
        *parents, leaf = key.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        if op == "?":
            target.setdefault(leaf, parsed)
        elif op == "+":
            target[leaf] = target.get(leaf, 0) + parsed
        elif op == "[]":
            target.setdefault(leaf, []).append(parsed)
        else:
            target[leaf] = parsed
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, obj)
    return obj


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("corpus", help="wiki prefix + transfer-set sentences")
    p.add_argument("--wiki", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--sets", default=",".join(DEFAULT_TRANSFER_SETS))
    p.add_argument("--lines", type=int, default=0, help="keep only the first N lines (0: all)")

    p = sub.add_parser("analysis-sentences", help="the STS sentences `sncse analyze --negation` samples")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("pack-negations", help="gzip negations for training, without empty pairs")
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)

    p = sub.add_parser("fp32-encoder", help="float32 copy of an encoder folder")
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)

    p = sub.add_parser("choose", help="the search stage's lr and steps")
    p.add_argument("search", type=Path)
    p.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("run-line", help="one line about a finished run")
    p.add_argument("run", type=Path)
    p.add_argument("seconds", type=int)

    p = sub.add_parser("source-site", help="sncse importable from the source tree, without pip")
    p.add_argument("site", type=Path)

    p = sub.add_parser("step-cost", help="CPU seconds of a training step and of a dev evaluation")
    p.add_argument("data", type=Path, help="a sncse negate output (the grid's prepared corpus)")
    p.add_argument("--loss", default="infonce")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--pooler", default="mean")
    p.add_argument("--encoder", default="minilm")
    p.add_argument("--threads", type=int, default=1)

    p = sub.add_parser("device-plan", help="the prepared GPU command and the sizes of what it carries")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--dry-run", type=Path, help="the output folder of a dry run of the grid, to record")

    p = sub.add_parser("meta", help="merge key=value pairs into a JSON file")
    p.add_argument("path", type=Path)
    p.add_argument("items", nargs="*")

    args = parser.parse_args(argv)
    if args.cmd == "source-site":  # before sncse is importable
        print(source_site(args.site))
        return 0
    from sncse.errors import SncseError

    try:
        if args.cmd == "corpus":
            stats = build_corpus(args.wiki, args.out, [s for s in args.sets.split(",") if s], lines=args.lines)
            print(json.dumps(stats))
        elif args.cmd == "analysis-sentences":
            print(write_analysis_sentences(args.out, args.n, args.seed))
        elif args.cmd == "pack-negations":
            print(json.dumps(pack_negations(args.src, args.dst)))
        elif args.cmd == "choose":
            print(json.dumps({k: v for k, v in choose_settings(args.search, args.out).items() if k != "candidates"}))
        elif args.cmd == "run-line":
            print(run_line(args.run, args.seconds))
        elif args.cmd == "step-cost":
            print(json.dumps(step_cost(args.data, args.loss, args.batch, args.steps, args.pooler, args.encoder,
                                       args.threads)))
        elif args.cmd == "device-plan":
            plan = device_plan(args.out, dry_run=args.dry_run)
            print(json.dumps({k: plan[k] for k in ("carry_mib", "tree_mib", "missing", "fits", "command_chars")}))
        elif args.cmd == "fp32-encoder":
            fp32_encoder(args.src, args.dst)
        else:
            merge_meta(args.path, args.items)
    except SncseError as exc:
        print(f"error: {exc}", file=sys.stderr)  # SncseError's text already names the file and line
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
