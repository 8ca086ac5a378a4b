"""Throughput of ``sncse negate`` against the naive loop SNCSE's script uses, same machine, same run.

    .venv/bin/python bench/negate_throughput.py [--input ../shared/data/corpus/wiki1m_head.txt]
        [--mode faithful] [--workers 1 2] [--segments 4] [--repeat 2] [--limit N]
        [--out bench/results/negate_throughput.json] [--md bench/results/negate_throughput.md]

* naive: one ``nlp(sentence)`` call per line through the full en_core_web_sm pipeline (NER included),
  then the rules on complete per-token lists (``SpacyNegator(strategy="naive")``): what
  ``generate_soft_negative_samples.py`` does.
* fast: ``sncse.negation.parallel.negate_chunks`` exactly as ``sncse negate`` calls it (tokenizer-only
  lines, ``nlp.pipe`` batches without NER, attribute ruler/lemmatizer only where read), with 1, 2, ...
  worker processes; worker start-up is inside the timing.

The machine may be shared with other jobs, whose load comes and goes, so:

1. naive vs fast (1 worker, in this process) is timed on ``--segments`` slices of the input,
   alternating which goes first, so both see the same load; wall time and CPU time
   (``time.process_time``) are summed over the slices;
2. worker scaling: whole-input runs with each worker count, ``--repeat`` times interleaved; wall time
   (best) and CPU time of this process plus its workers (``getrusage(RUSAGE_CHILDREN)``).

Every output is asserted identical to the naive loop's. The 1-minute load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = Path(os.environ.get("SNCSE_DATA", REPO.parent / "shared" / "data")) / "corpus" / "wiki1m_head.txt"


def loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover
        return None


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(fn):
    """(result, wall seconds, CPU seconds of this process and of children reaped meanwhile, load)."""
    load = loadavg()
    w0, c0, k0 = time.perf_counter(), time.process_time(), children_cpu()
    result = fn()
    wall = time.perf_counter() - w0
    cpu = time.process_time() - c0 + children_cpu() - k0
    return result, wall, cpu, load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    ap.add_argument("--mode", default="faithful", choices=["faithful", "improved"])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--segments", type=int, default=4, help="slices for the interleaved naive-vs-fast timing")
    ap.add_argument("--repeat", type=int, default=2, help="whole-input runs per worker count, interleaved")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--chunk-size", type=int, default=1000)
    ap.add_argument("--limit", type=int, default=None, help="only the first N lines")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "negate_throughput.json")
    ap.add_argument("--md", type=Path, default=REPO / "bench" / "results" / "negate_throughput.md")
    args = ap.parse_args()

    import spacy

    from sncse.io import read_lines, write_json
    from sncse.negation.parallel import negate_chunks
    from sncse.negation.spacy_backend import DEFAULT_MODEL, SpacyNegator, load_model
    from sncse.runinfo import machine_info

    lines = read_lines(args.input)[: args.limit]
    n = len(lines)
    load_model(DEFAULT_MODEL)  # model loading is outside the in-process timings
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    log(f"{n} lines from {args.input}; mode {args.mode}; load {loadavg()}")

    naive_neg = SpacyNegator(mode=args.mode, strategy="naive")
    fast_neg = SpacyNegator(mode=args.mode, batch_size=args.batch_size)
    fast_neg.negate(lines[:50])  # warm-up (first-call allocations)
    size = -(-n // args.segments)
    tot = {"naive": [0.0, 0.0], "fast": [0.0, 0.0]}
    loads = []
    naive: list = []
    for s, start in enumerate(range(0, n, size)):
        seg = lines[start:start + size]
        order = ["naive", "fast"] if s % 2 == 0 else ["fast", "naive"]
        got = {}
        for which in order:
            neg = naive_neg if which == "naive" else fast_neg
            got[which], wall, cpu, load = timed(lambda neg=neg, seg=seg: neg.negate_with_branches(seg))
            tot[which][0] += wall
            tot[which][1] += cpu
            loads.append(load)
        assert got["fast"] == got["naive"], f"fast output differs from the naive loop in segment {s}"
        naive.extend(got["naive"])
        log(f"segment {s + 1}: {len(seg)} lines, identical; wall/CPU totals so far {tot}")
    interleaved = {
        "segments": args.segments,
        "naive": {"wall_s": round(tot["naive"][0], 2), "cpu_s": round(tot["naive"][1], 2),
                  "sent_per_s": round(n / tot["naive"][0], 1), "sent_per_cpu_s": round(n / tot["naive"][1], 1)},
        "fast_1_worker": {"wall_s": round(tot["fast"][0], 2), "cpu_s": round(tot["fast"][1], 2),
                          "sent_per_s": round(n / tot["fast"][0], 1),
                          "sent_per_cpu_s": round(n / tot["fast"][1], 1)},
        "speedup_wall": round(tot["naive"][0] / tot["fast"][0], 2),
        "speedup_cpu": round(tot["naive"][1] / tot["fast"][1], 2),
        "load_1min": [x for x in loads if x is not None],
    }
    log(f"interleaved: {json.dumps(interleaved)}")

    options = {"mode": args.mode, "batch_size": args.batch_size}
    chunks = [lines[i:i + args.chunk_size] for i in range(0, n, args.chunk_size)]
    timings: dict[int, list[tuple[float, float, float | None]]] = {w: [] for w in args.workers}
    for rep in range(args.repeat):
        for w in args.workers:
            fast, wall, cpu, load = timed(
                lambda w=w: [r for chunk in negate_chunks(chunks, "spacy", options, workers=w) for r in chunk])
            assert fast == naive, f"fast output with {w} worker(s) differs from the naive loop"
            timings[w].append((wall, cpu, load))
            log(f"[{rep + 1}/{args.repeat}] {w} worker(s): {n / wall:.1f} sent/s wall, {cpu:.1f} CPU-s, "
                f"identical; load {load}")
    naive_wall = tot["naive"][0]
    scaling = []
    for w in args.workers:
        best = min(timings[w], key=lambda t: t[0])
        scaling.append({"workers": w, "best_wall_s": round(best[0], 2), "sent_per_s": round(n / best[0], 1),
                        "speedup_vs_naive_wall": round(naive_wall / best[0], 2),
                        "cpu_s": round(best[1], 2), "load_1min": best[2],
                        "all_wall_s": [round(t[0], 2) for t in timings[w]]})

    result = {
        "benchmark": "negate_throughput",
        "command": " ".join([".venv/bin/python bench/negate_throughput.py", *sys.argv[1:]]),
        "input": str(args.input),
        "lines": n,
        "mode": args.mode,
        "batch_size": args.batch_size,
        "chunk_size": args.chunk_size,
        "repeat": args.repeat,
        "identical_outputs": True,
        "machine": {**machine_info(),
                    "spacy": spacy.__version__, "model": f"{DEFAULT_MODEL} {load_model().meta.get('version')}",
                    "note": "CPU machine shared with other jobs; 1-minute load averages recorded"},
        "interleaved_naive_vs_fast": interleaved,
        "workers": scaling,
        "branches": dict(Counter(r.branch for r in naive).most_common()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    if args.md:
        write_markdown(args.md, result)
    print(json.dumps(result, indent=2))


def write_markdown(path: Path, r: dict) -> None:
    iv = r["interleaved_naive_vs_fast"]
    loads = iv["load_1min"]
    load_range = f"{min(loads):.1f}-{max(loads):.1f}" if loads else "?"
    rows = "\n".join(
        f"| {s['workers']} | {s['best_wall_s']:.1f} | {s['sent_per_s']:.1f} | {s['speedup_vs_naive_wall']:.2f}x | "
        f"{s['cpu_s']:.1f} | {s['load_1min']} | {', '.join(f'{x:.1f}' for x in s['all_wall_s'])} |"
        for s in r["workers"])
    total = sum(r["branches"].values())
    branches = ", ".join(f"{k} {v:,} ({100 * v / total:.1f}%)" for k, v in r["branches"].items())
    text = f"""## Negation throughput (`sncse negate`)

Machine: {r['machine']['cpu_count']}-core CPU ({r['machine']['platform']}, Python
{r['machine']['python']}, spaCy {r['machine']['spacy']}, {r['machine']['model']}). **Shared machine:**
other jobs ran at the same time (1-minute load average {load_range} during the naive-vs-fast timing, on
2 cores), so wall-clock numbers are low and noisy and the benefit of a second worker process cannot show
fully; CPU time (what a run costs, independent of waiting for a core) is reported beside it.

Command: `{r['command']}`

Input: the first {r['lines']:,} lines of wiki1m (`{Path(r['input']).name}`), {r['mode']} mode. Every
fast output was asserted identical to the naive loop's, line by line.

**Naive loop vs fast path, 1 process**, timed alternately on {iv['segments']} slices of the input
(same load for both):

| run | wall s | sentences/s | CPU s | sentences per CPU-s |
|---|---:|---:|---:|---:|
| naive loop: `nlp(s)` per line, full pipeline | {iv['naive']['wall_s']:.1f} | {iv['naive']['sent_per_s']:.1f} | {iv['naive']['cpu_s']:.1f} | {iv['naive']['sent_per_cpu_s']:.1f} |
| `sncse negate` fast path, 1 worker | {iv['fast_1_worker']['wall_s']:.1f} | {iv['fast_1_worker']['sent_per_s']:.1f} | {iv['fast_1_worker']['cpu_s']:.1f} | {iv['fast_1_worker']['sent_per_cpu_s']:.1f} |
| **speedup** | **{iv['speedup_wall']:.2f}x** | | **{iv['speedup_cpu']:.2f}x** | |

**Workers** (whole input, {r['repeat']} runs per count, interleaved; best wall time; CPU = this
process + its workers; worker start-up included; speedup against the naive wall time above):

| workers | wall s (best) | sentences/s | speedup vs naive | CPU s | load (1 min) | all wall s |
|---:|---:|---:|---:|---:|---:|---:|
{rows}

Naive loop = SNCSE's script: one `nlp(sentence)` per line through the full pipeline (NER included).
Fast path = `nlp.pipe` batches ({r['batch_size']}) with tok2vec/tagger/parser only, tokenizer-only lines
with `not`, attribute ruler + lemmatizer only where read, chunks of {r['chunk_size']:,} lines over
worker processes forked from the loaded model.

Rule branches on this input: {branches}.
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
