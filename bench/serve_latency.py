"""Benchmark: `sncse serve` requests/s and latency at several concurrencies, micro-batching on and off.

    .venv/bin/python bench/serve_latency.py --model minilm --concurrency 1 8 32

For each server setting (``--max-batch 64``: concurrent requests batched; ``--max-batch 1``: one
request per model call) it starts ``sncse serve MODEL`` on a free loopback port (a real uvicorn in its
own process, CPU). For each concurrency C it runs C clients (one ``httpx.AsyncClient``, C
connections), each sending one sentence per request (``encoding_format: base64``, what the ``openai``
client sends) and the next as soon as the answer arrives, until ``--requests`` answers are in
(after ``--warmup`` untimed ones), in ``--rounds`` turns that alternate between the settings, so a
change in the machine's load reaches both alike. Sentences: the first lines of the Wikipedia sample embedded in the
package, in turn. Reports requests/s (answers / wall time), latency p50/p95/mean (request sent to
answer read, in the client), the server's mean texts per model call (its ``/health`` counters), the
load average before and after. The client runs on the same machine (it shares the cores).

Before the servers start, in this process: how the server's ``--batch-size`` (the size of the
length-sorted groups a model call is embedded in) changes ms per sentence for calls of 16 sentences,
against one sentence a call (``--group-sizes``). Writes ``bench/results/serve_latency_cpu.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import httpx
import numpy as np
from record import environment as record_env
from record import write as write_record

from sncse.serve.limits import ServeLimits

REPO = Path(__file__).resolve().parents[1]


def sample_sentences(n: int) -> list[str]:
    from sncse.data.root import sample_root

    with open(sample_root() / "corpus" / "wiki1m_head.txt", encoding="utf-8") as fh:
        lines = [s for s in (line.strip() for line in fh) if s]
    return lines[:n]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, max_batch: int, batch_size: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-c", "from sncse_cli.main import main; main()", "-q", "serve", model, "--port", str(port),
           "--device", "cpu", "--max-batch", str(max_batch), "--batch-size", str(batch_size)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the server did not start in 300 s")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.3)


async def load(url: str, name: str, sentences: list[str], concurrency: int, total: int) -> dict:
    """``total`` answers from ``concurrency`` clients sending back to back; latencies in seconds."""
    latencies: list[float] = []
    next_index = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:

        async def worker() -> None:
            nonlocal next_index
            while next_index < total:
                text = sentences[next_index % len(sentences)]
                next_index += 1
                t0 = time.perf_counter()
                response = await client.post("/v1/embeddings", json={"model": name, "input": text,
                                                                      "encoding_format": "base64"})
                response.raise_for_status()
                response.json()
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {"latencies": latencies, "wall": wall}


def summarize(concurrency: int, latencies: list[float], wall: float, calls: int, texts: int) -> dict:
    lat = np.asarray(latencies) * 1000
    return {"concurrency": concurrency, "requests": len(lat), "seconds": round(wall, 2),
            "requests_per_s": round(len(lat) / wall, 1),
            "latency_ms_p50": round(float(np.percentile(lat, 50)), 1),
            "latency_ms_p95": round(float(np.percentile(lat, 95)), 1),
            "latency_ms_mean": round(float(statistics.fmean(lat)), 1),
            "model_calls": calls, "texts_per_model_call": round(texts / calls, 2) if calls else None}


def measure(servers: dict[int, str], name: str, sentences: list[str], concurrency: int, requests: int,
            warmup: int, rounds: int) -> dict[int, dict]:
    """Each server in turn, ``rounds`` times, ``requests / rounds`` answers a turn: a change in the
    machine's load reaches every setting alike."""
    got = {key: {"latencies": [], "wall": 0.0, "calls": 0, "texts": 0} for key in servers}
    for url in servers.values():
        asyncio.run(load(url, name, sentences, concurrency, warmup))
    for _ in range(rounds):
        for key, url in servers.items():
            before = httpx.get(f"{url}/health").json()["batching"]
            out = asyncio.run(load(url, name, sentences, concurrency, requests // rounds))
            after = httpx.get(f"{url}/health").json()["batching"]
            got[key]["latencies"] += out["latencies"]
            got[key]["wall"] += out["wall"]
            got[key]["calls"] += after["batches"] - before["batches"]
            got[key]["texts"] += after["texts"] - before["texts"]
    return {key: summarize(concurrency, g["latencies"], g["wall"], g["calls"], g["texts"]) for key, g in got.items()}


def grouping(model: str, sentences: list[str], per_call: int, sizes: list[int], calls: int) -> list[dict]:
    """In this process: ms per sentence when a model call of ``per_call`` sentences is embedded in
    length-sorted groups of each size (what the server's ``--batch-size`` sets), and one sentence a call."""
    import sncse

    encoder = sncse.load(model, device="cpu")
    texts = sentences[: per_call * calls]
    encoder.encode(texts[:per_call], show_progress=False)  # warm-up
    rows = []
    for size in [*sizes, 0]:
        t0 = time.perf_counter()
        if size:
            for i in range(0, len(texts), per_call):
                encoder.encode(texts[i : i + per_call], batch_size=size, normalize=True, show_progress=False)
        else:
            for text in texts:
                encoder.encode([text], normalize=True, show_progress=False)
        ms = (time.perf_counter() - t0) / len(texts) * 1000
        rows.append({"sentences_per_call": per_call if size else 1, "group_size": size or 1,
                     "ms_per_sentence": round(ms, 1)})
        print(rows[-1], flush=True)
    for row in rows:
        row["time_relative_to_one_per_call"] = round(row["ms_per_sentence"] / rows[-1]["ms_per_sentence"], 2)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--requests", type=int, default=300, help="timed answers per concurrency")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5, help="turns per setting, interleaved")
    ap.add_argument("--max-batch", type=int, nargs="+", default=[64, 1],
                    help="server settings to compare (1: no batching)")
    ap.add_argument("--batch-size", type=int, default=ServeLimits.encode_batch_size,
                    help="the server's --batch-size (group size within a model call)")
    ap.add_argument("--threads", type=int, default=2, help="the server's torch threads (OMP_NUM_THREADS)")
    ap.add_argument("--group-sizes", type=int, nargs="+", default=[4, 8, 16],
                    help="group sizes timed for a model call of 16 sentences (in this process, before the server runs)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "serve_latency_cpu.json")
    args = ap.parse_args()

    from sncse.serve import served_name

    sentences = sample_sentences(1000)
    name = served_name(args.model)
    load_before = os.getloadavg()
    import torch

    torch.set_num_threads(args.threads)  # as the server's
    groups = grouping(args.model, sentences, 16, args.group_sizes, 10)
    servers, procs = {}, []
    try:
        for max_batch in args.max_batch:
            proc, servers[max_batch] = start_server(args.model, max_batch, args.batch_size, args.threads)
            procs.append(proc)
        rows: dict[int, list[dict]] = {key: [] for key in servers}
        for c in args.concurrency:
            for key, row in measure(servers, name, sentences, c, args.requests, args.warmup, args.rounds).items():
                rows[key].append(row)
                print({"max_batch": key, **row}, flush=True)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
    settings = [{"max_batch": key, "batch_size": args.batch_size, "rows": rows[key]} for key in servers]
    first, last = list(servers)[0], list(servers)[-1]
    ratios = [{"concurrency": a["concurrency"],
               "requests_per_s": round(a["requests_per_s"] / b["requests_per_s"], 2),
               "latency_ms_p50": round(a["latency_ms_p50"] / b["latency_ms_p50"], 2)}
              for a, b in zip(rows[first], rows[last], strict=True)]
    load_after = os.getloadavg()

    record = {
        "what": "sncse serve: requests/s and latency, one sentence per request, C concurrent clients",
        "model": args.model, "device": "cpu", "server_threads": args.threads,
        "sentences": f"the first {len(sentences)} non-empty lines of the embedded Wikipedia sample, in turn",
        "request": {"input": "one sentence", "encoding_format": "base64"},
        "client": "httpx.AsyncClient on the same machine, each client sends its next request when the answer "
                  "arrives",
        "warmup_requests": args.warmup, "rounds": args.rounds,
        "grouping": {"what": "ms per sentence, 160 sentences embedded 16 per model call in length-sorted groups "
                             "of group_size (the server's --batch-size), or one per call; in the bench process, "
                             "torch threads as the server's", "rows": groups},
        "settings": settings,
        "ratios": {"what": f"max_batch {first} over max_batch {last}, per concurrency", "rows": ratios},
        "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        **{pkg: version(pkg) for pkg in ("fastapi", "uvicorn", "httpx")}, **record_env(),
        "command": " ".join(["bench/serve_latency.py", *sys.argv[1:]]),
    }
    return write_record(args.out, record)


if __name__ == "__main__":
    sys.exit(main())
