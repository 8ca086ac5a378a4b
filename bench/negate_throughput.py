"""Throughput of ``sncse negate`` against the naive loop SNCSE's script uses, same machine, same run.

    .venv/bin/python bench/negate_throughput.py [--input ../shared/data/corpus/wiki1m_head.txt]
        [--mode faithful] [--workers 1 2] [--limit N] [--out bench/results/negate_throughput.json]
        [--md docs/_bench_negation.md]

* naive: one ``nlp(sentence)`` call per line through the full en_core_web_sm pipeline (NER included),
  then the rules on complete per-token lists (``SpacyNegator(strategy="naive")``): what
  ``generate_soft_negative_samples.py`` does.
* fast: ``sncse.negation.parallel.negate_chunks`` exactly as ``sncse negate`` calls it (tokenizer-only
  lines, ``nlp.pipe`` batches without NER, attribute ruler/lemmatizer only where read), with 1, 2, ...
  worker processes; worker start-up (imports, model load) is inside the timing.

All outputs are asserted identical to the naive ones. The machine is shared, so the load average
before and after each timing is recorded too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = Path(os.environ.get("SNCSE_DATA", REPO.parent / "shared" / "data")) / "corpus" / "wiki1m_head.txt"


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def timed(fn):
    before = loadavg()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    return result, seconds, {"before": before, "after": loadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    ap.add_argument("--mode", default="faithful", choices=["faithful", "improved"])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--chunk-size", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=2, help="timings per fast configuration, interleaved; "
                    "the best is reported (the machine is shared)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N lines")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "negate_throughput.json")
    ap.add_argument("--md", type=Path, default=REPO / "docs" / "_bench_negation.md")
    args = ap.parse_args()

    import spacy

    from sncse.io import read_lines, write_json
    from sncse.negation.parallel import negate_chunks
    from sncse.negation.spacy_backend import DEFAULT_MODEL, SpacyNegator, load_model

    lines = read_lines(args.input)[: args.limit]
    n = len(lines)
    load_model(DEFAULT_MODEL)  # model loading is outside the in-process timings
    print(f"{n} lines from {args.input}; mode {args.mode}; load {loadavg()}", file=sys.stderr)

    naive_neg = SpacyNegator(mode=args.mode, strategy="naive")
    naive, naive_s, naive_load = timed(lambda: naive_neg.negate_with_branches(lines))
    print(f"naive: {n / naive_s:.1f} sent/s", file=sys.stderr)
    runs = [{"name": "naive loop (nlp(s) per line, full pipeline)", "workers": 1, "seconds": round(naive_s, 2),
             "sent_per_s": round(n / naive_s, 1), "speedup": 1.0, "load": naive_load}]

    options = {"mode": args.mode, "batch_size": args.batch_size}
    chunks = [lines[i:i + args.chunk_size] for i in range(0, n, args.chunk_size)]
    timings: dict[int, list[tuple[float, dict]]] = {w: [] for w in args.workers}
    for rep in range(args.repeat):
        for w in args.workers:

            def run(w=w):
                return [r for chunk in negate_chunks(chunks, "spacy", options, workers=w) for r in chunk]

            fast, fast_s, fast_load = timed(run)
            assert fast == naive, f"fast output with {w} worker(s) differs from the naive loop"
            timings[w].append((fast_s, fast_load))
            print(f"[{rep + 1}/{args.repeat}] fast, {w} worker(s): {n / fast_s:.1f} sent/s "
                  f"({naive_s / fast_s:.2f}x), identical; load {fast_load}", file=sys.stderr)
    for w in args.workers:
        best_s, best_load = min(timings[w], key=lambda t: t[0])
        runs.append({"name": f"sncse negate fast path, {w} worker(s)", "workers": w, "seconds": round(best_s, 2),
                     "sent_per_s": round(n / best_s, 1), "speedup": round(naive_s / best_s, 2), "load": best_load,
                     "all_seconds": [round(t, 2) for t, _ in timings[w]]})

    branches = Counter(r.branch for r in naive)
    result = {
        "benchmark": "negate_throughput",
        "command": " ".join([".venv/bin/python bench/negate_throughput.py", *sys.argv[1:]]),
        "repeat": args.repeat,
        "input": str(args.input),
        "lines": n,
        "mode": args.mode,
        "batch_size": args.batch_size,
        "chunk_size": args.chunk_size,
        "identical_outputs": True,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "spacy": spacy.__version__, "model": f"{DEFAULT_MODEL} {load_model().meta.get('version')}",
                    "note": "2-core CPU sandbox shared with other jobs; load averages recorded per run"},
        "runs": runs,
        "branches": dict(branches.most_common()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    if args.md:
        write_markdown(args.md, result)
    print(json.dumps(result, indent=2))


def write_markdown(path: Path, r: dict) -> None:
    rows = "\n".join(
        f"| {run['name']} | {run['seconds']:.1f} | {run['sent_per_s']:.1f} | {run['speedup']:.2f}x | "
        f"{run['load']['before'][0] if run['load']['before'] else '?'} / "
        f"{run['load']['after'][0] if run['load']['after'] else '?'} | "
        f"{', '.join(f'{x:.1f}' for x in run.get('all_seconds', [run['seconds']]))} |"
        for run in r["runs"])
    total = sum(r["branches"].values())
    branches = ", ".join(f"{k} {v} ({100 * v / total:.1f}%)" for k, v in r["branches"].items())
    text = f"""## Negation throughput (`sncse negate`)

Machine: {r['machine']['cpus']}-core CPU, this sandbox ({r['machine']['platform']}, Python
{r['machine']['python']}, spaCy {r['machine']['spacy']}, {r['machine']['model']}). The machine was
**shared** with other jobs during the run: the 1-minute load average before/after each timing is in
the last column (a load above 2 means the two cores were oversubscribed, so absolute numbers are low
and the worker scaling is understated).

Command: `{r['command']}`

Input: the first {r['lines']:,} lines of wiki1m (`{Path(r['input']).name}`), {r['mode']} mode. Every
fast run's output was asserted identical to the naive loop's. The naive loop ran once; each fast
configuration ran {r['repeat']} times, interleaved, and the best time is reported.

| run | seconds (best) | sentences/s | speedup vs naive | load before / after (best) | all timings (s) |
|---|---:|---:|---:|---:|---:|
{rows}

Naive loop = SNCSE's script: one `nlp(sentence)` per line through the full pipeline (NER included).
Fast path = `nlp.pipe` batches ({r['batch_size']}) with tok2vec/tagger/parser only, tokenizer-only lines
with `not`, attribute ruler + lemmatizer only on docs whose ROOT needs its lemma (or that hold a
whitespace token), chunks of {r['chunk_size']:,} lines over worker processes (start-up included).

Rule branches on this input: {branches}.
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
