"""Benchmark: `sncse serve` requests/s and latency at several concurrencies, micro-batching on and off.

    .venv/bin/python bench/serve_latency.py --model minilm --concurrency 1 8 32

For each server setting (``--max-batch 64``: concurrent requests batched; ``--max-batch 1``: one
request per model call) it starts ``sncse serve MODEL`` on a free loopback port (a real uvicorn in its
own process, CPU), and for each concurrency C runs C clients (one ``httpx.AsyncClient``, C
connections), each sending one sentence per request (``encoding_format: base64``, what the ``openai``
client sends) and the next as soon as the answer arrives, until ``--requests`` answers are in
(after ``--warmup`` untimed ones). Sentences: the first lines of the Wikipedia sample embedded in the
package, in turn. Reports requests/s (answers / wall time), latency p50/p95/mean (request sent to
answer read, in the client), the server's mean texts per model call (its ``/health`` counters), the
load average before and after. The client runs on the same machine (it shares the cores).
Writes ``bench/results/serve_latency_cpu.json``.
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


def start_server(model: str, max_batch: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-c", "from sncse_cli.main import main; main()", "-q", "serve", model, "--port", str(port),
           "--device", "cpu", "--max-batch", str(max_batch)]
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


def measure(url: str, name: str, sentences: list[str], concurrency: int, requests: int, warmup: int) -> dict:
    asyncio.run(load(url, name, sentences, concurrency, warmup))
    before = httpx.get(f"{url}/health").json()["batching"]
    out = asyncio.run(load(url, name, sentences, concurrency, requests))
    after = httpx.get(f"{url}/health").json()["batching"]
    lat = np.asarray(out["latencies"]) * 1000
    calls = after["batches"] - before["batches"]
    return {"concurrency": concurrency, "requests": len(lat), "seconds": round(out["wall"], 2),
            "requests_per_s": round(len(lat) / out["wall"], 1),
            "latency_ms_p50": round(float(np.percentile(lat, 50)), 1),
            "latency_ms_p95": round(float(np.percentile(lat, 95)), 1),
            "latency_ms_mean": round(float(statistics.fmean(lat)), 1),
            "model_calls": calls,
            "texts_per_model_call": round((after["texts"] - before["texts"]) / calls, 2) if calls else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--requests", type=int, default=300, help="timed answers per concurrency")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--max-batch", type=int, nargs="+", default=[64, 1],
                    help="server settings to compare (1: no batching)")
    ap.add_argument("--threads", type=int, default=2, help="the server's torch threads (OMP_NUM_THREADS)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "serve_latency_cpu.json")
    args = ap.parse_args()

    from sncse.serve import served_name

    sentences = sample_sentences(1000)
    name = served_name(args.model)
    load_before = os.getloadavg()
    settings = []
    for max_batch in args.max_batch:
        proc, url = start_server(args.model, max_batch, args.threads)
        try:
            rows = []
            for c in args.concurrency:
                rows.append(measure(url, name, sentences, c, args.requests, args.warmup))
                print({"max_batch": max_batch, **rows[-1]}, flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        settings.append({"max_batch": max_batch, "rows": rows})
    load_after = os.getloadavg()

    record = {
        "what": "sncse serve: requests/s and latency, one sentence per request, C concurrent clients",
        "model": args.model, "device": "cpu", "server_threads": args.threads,
        "sentences": f"the first {len(sentences)} non-empty lines of the embedded Wikipedia sample, in turn",
        "request": {"input": "one sentence", "encoding_format": "base64"},
        "client": "httpx.AsyncClient on the same machine, each client sends its next request when the answer "
                  "arrives",
        "warmup_requests": args.warmup,
        "settings": settings,
        "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        **{pkg: version(pkg) for pkg in ("fastapi", "uvicorn", "httpx")}, **record_env(),
        "command": " ".join(["bench/serve_latency.py", *sys.argv[1:]]),
    }
    return write_record(args.out, record)


if __name__ == "__main__":
    sys.exit(main())
