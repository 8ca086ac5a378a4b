"""Benchmark: search latency for 1,000 queries over 100,000 real sentence embeddings, exact vs faiss.

    SNCSE_DATA=../shared/data .venv/bin/python bench/search_latency.py --model minilm --threads 2

Vectors: the model's embeddings (``sncse.embed.encode_file``, normalised float32) of the first
101,000 distinct local sentences (the STS test sets, wiki1m's prefix, then the SentEval transfer sets
and SNLI dev/test): rows 0..99,999 are the corpus, the next 1,000 the queries. The array is cached
under ``bench/.cache/`` (git-ignored) and rebuilt when the sentence list changes.

Timed (query embedding excluded: the same for every backend): a batch of all 1,000 queries, k=10
(best and median of ``--repeat``); single queries one at a time (median and p95 over the first
``--single`` queries); faiss index build. Recall@10 of each backend against exact search.
Backends: ``ExactIndex`` (torch, chunked) over the array in memory and over the memory-mapped ``.npy``
(what ``sncse search --corpus X.npy`` does), faiss ``Flat`` (exact, faiss's own BLAS), faiss ``HNSW32``
(approximate; efSearch 128, the default, and 64). Writes ``bench/results/search_latency_cpu.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from record import environment as record_env
from record import write as write_record

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "bench" / ".cache"


def local_sentences(n: int) -> list[str]:
    """The first ``n`` distinct local sentences (whitespace-normalised), in a fixed order."""
    from sncse.data.root import data_root, senteval_dir
    from sncse.data.tasks import STS_TASKS
    from sncse.eval.sts import load_tasks

    seen: dict[str, None] = dict.fromkeys(s for t in load_tasks(STS_TASKS) for s in t.sentences())
    root = senteval_dir()
    files = [data_root() / "corpus" / "wiki1m_head.txt"]
    files += [root / f for f in ("MR/rt-polarity.pos", "MR/rt-polarity.neg", "CR/custrev.pos", "CR/custrev.neg",
                                 "SUBJ/subj.objective", "SUBJ/subj.subjective", "MPQA/mpqa.pos", "MPQA/mpqa.neg",
                                 "SNLI/s1.dev", "SNLI/s2.dev", "SNLI/s1.test", "SNLI/s2.test",
                                 "SST/binary/sentiment-train")]
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                s = " ".join(line.split("\t")[0].split())
                if s:
                    seen.setdefault(s, None)
                if len(seen) >= n:
                    return list(seen)[:n]
    raise SystemExit(f"only {len(seen)} distinct local sentences, {n} needed")


def embeddings(model: str, sentences: list[str], cache: Path) -> tuple[np.ndarray, dict, Path]:
    from sncse.embed import encode_file, read_sidecar

    cache.mkdir(parents=True, exist_ok=True)
    text = "".join(s + "\n" for s in sentences)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    src, out = cache / f"sentences_{digest}.txt", cache / f"{model}_{digest}.npy"
    if not out.exists():
        src.write_text(text, encoding="utf-8")
        encode_file(model, src, out, normalize=True, device="cpu", resume=True)  # a killed build continues
    return np.load(out), read_sidecar(out), out


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--corpus-size", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--single", type=int, default=200)
    ap.add_argument("--cache", type=Path, default=CACHE, help="where the embeddings are kept between runs")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "search_latency_cpu.json")
    args = ap.parse_args()

    import faiss
    import torch

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    from sncse.search import ExactIndex, FaissIndex

    sentences = local_sentences(args.corpus_size + args.queries)
    t0 = time.perf_counter()
    emb, car, cache_path = embeddings(args.model, sentences, args.cache)
    embed_s = time.perf_counter() - t0
    corpus, queries = emb[: args.corpus_size], np.ascontiguousarray(emb[args.corpus_size :])
    load_before = os.getloadavg()

    exact = ExactIndex(corpus, normalized=True)
    truth = exact.search_vectors(queries, args.k)[1]
    rows = []

    def measure(name: str, index, build_s: float | None, note: str, **settings) -> None:
        cpu0 = time.process_time()
        batch = timed(lambda: index.search_vectors(queries, args.k), args.repeat)
        batch_cpu = (time.process_time() - cpu0) / args.repeat
        single = []
        for q in queries[: args.single]:
            t = time.perf_counter()
            index.search_vectors(q[None, :], args.k)
            single.append(time.perf_counter() - t)
        found = index.search_vectors(queries, args.k)[1]
        recall = float(np.mean([len(set(a) & set(b)) / args.k for a, b in zip(found, truth, strict=True)]))
        rows.append({
            "backend": name, "note": note, **settings,
            "build_seconds": None if build_s is None else round(build_s, 2),
            "batch_1000_seconds_best": round(min(batch), 4),
            "batch_1000_seconds_median": round(statistics.median(batch), 4),
            "batch_ms_per_query": round(1000 * min(batch) / len(queries), 3),
            "batch_1000_cpu_seconds_mean": round(batch_cpu, 4),  # all threads; moves less with load
            "single_query_ms_median": round(1000 * statistics.median(single), 3),
            "single_query_ms_p95": round(1000 * float(np.percentile(single, 95)), 3),
            f"recall_at_{args.k}": round(recall, 4),
        })
        print(rows[-1], flush=True)

    measure("exact (torch, chunked)", exact, None, "sncse ExactIndex in memory: chunks of rows, top-k merged",
            chunk_rows=exact.chunk_rows)
    mapped = np.load(cache_path, mmap_mode="r")[: args.corpus_size]
    measure("exact, memory-mapped .npy", ExactIndex(mapped, normalized=True), None,
            "what `sncse search --corpus X.npy` does: each search reads the array chunk by chunk",
            chunk_rows=exact.chunk_rows)
    t = time.perf_counter()
    flat = FaissIndex.build(corpus, "Flat", params={})
    measure("faiss Flat", flat, time.perf_counter() - t, "exact inner product inside faiss")
    t = time.perf_counter()
    hnsw = FaissIndex.build(corpus, "HNSW32", params={"efSearch": 128})
    hnsw_build = time.perf_counter() - t
    measure("faiss HNSW32, efSearch 128", hnsw, hnsw_build, "the default approximate index", hnsw_m=32,
            ef_search=128)
    hnsw.set_params({"efSearch": 64})
    measure("faiss HNSW32, efSearch 64", hnsw, hnsw_build, "same index, faster search setting", hnsw_m=32,
            ef_search=64)
    load_after = os.getloadavg()

    record = {
        "what": f"search latency, {args.queries:,} queries over {args.corpus_size:,} vectors, k={args.k}",
        "vectors": f"real: {args.model} embeddings (normalised float32, dim {corpus.shape[1]}) of the first "
                   f"{args.corpus_size + args.queries:,} distinct local sentences; the last {args.queries:,} "
                   "are the queries",
        "query_embedding": "excluded (the same for every backend)",
        "embedding_seconds_if_not_cached": round(embed_s, 1),
        "model": car.get("model"), "dim": int(corpus.shape[1]), "corpus_rows": int(len(corpus)),
        "queries": int(len(queries)), "k": args.k, "threads": args.threads,
        "rows": rows,
        "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "faiss": faiss.__version__, **record_env(),
        "command": " ".join(["bench/search_latency.py", *sys.argv[1:]]),
    }
    return write_record(args.out, record)


if __name__ == "__main__":
    sys.exit(main())
