"""`sncse serve` on a loopback port, called with the official `openai` client: the embeddings are the
ones `sncse.load` gives, bad requests get a 4xx with a one-line reason, concurrent requests are right."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

import sncse

openai = pytest.importorskip("openai")

KEY = "test-key-123"
SENTENCES = ["A man is playing a guitar.", "A man is not playing a guitar.", "The stock market fell sharply today."]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_models):
    """``sncse serve`` in a child process (a real uvicorn), with an API key and small limits."""
    port = free_port()
    cmd = [sys.executable, "-c", "from sncse_cli.main import main; main()", "serve", str(tiny_models["tiny-a"]),
           "--port", str(port), "--max-inputs", "8", "--max-chars", "200", "--device", "cpu"]
    env = {**os.environ, "SNCSE_API_KEY": KEY, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            assert proc.poll() is None, f"the server exited: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "the server did not start within 120 s"
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully on SIGINT
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def reference(tiny_models):
    model = sncse.load(str(tiny_models["tiny-a"]), device="cpu")
    return model, model.encode(SENTENCES, normalize=True, show_progress=False)


def vector(embedding: list[float] | str) -> np.ndarray:
    """A returned embedding: floats, or (asked for explicitly) base64 of little-endian float32."""
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4")
    return np.asarray(embedding, dtype=np.float32)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("encoding_format", [None, "float", "base64"])
def test_openai_client_gets_the_embeddings_sncse_load_gives(server, reference, encoding_format):
    model, expected = reference
    client = openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0)
    kwargs = {"encoding_format": encoding_format} if encoding_format else {}  # None: the client asks for base64
    response = client.embeddings.create(model="tiny-a", input=SENTENCES, **kwargs)
    got = np.stack([vector(d.embedding) for d in sorted(response.data, key=lambda d: d.index)])
    assert got.shape == expected.shape
    assert cosines(got, expected).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)  # unit length, as OpenAI's
    tokens = sum(len(ids) for ids in model.tokenize(SENTENCES, max_length=model.inference_max_length))
    assert response.usage.prompt_tokens == response.usage.total_tokens == tokens
    assert response.model == "tiny-a"

    single = client.embeddings.create(model="tiny-a", input=SENTENCES[2], **kwargs)  # a plain string
    assert len(single.data) == 1 and cosines(vector(single.data[0].embedding)[None], expected[2:]).min() >= 0.9999
    assert [m.id for m in client.models.list()] == ["tiny-a"]


@pytest.mark.parametrize(("kwargs", "status", "words"), [
    ({"input": ["a"] * 9}, 413, "9 texts; the limit is 8"),
    ({"input": ["ok", "x" * 201]}, 413, "input[1] has 201 characters; the limit is 200"),
    ({"input": ["fine", ""]}, 422, "input[1] is empty"),
    ({"input": [[101, 2023]]}, 422, "token-id input is not supported"),
    ({"input": "a", "dimensions": 3}, 422, "dimensions 3 is not supported"),
    ({"input": "a", "model": "text-embedding-3-small"}, 404, "is not served here; this server serves 'tiny-a'"),
    ({"input": "x" * 80_000}, 413, "bytes; the limit is 70,528"),  # 8 inputs x (200 chars x 4 + 16) + 64,000
])
def test_bad_requests_get_a_one_line_reason(server, kwargs, status, words):
    client = openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0)
    with pytest.raises(openai.APIStatusError) as info:
        client.embeddings.create(**{"model": "tiny-a", **kwargs})
    assert info.value.status_code == status
    message = info.value.body["message"]
    assert words in message and "\n" not in message


def test_the_api_key_is_required(server):
    for key in ("wrong-key", None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = httpx.post(f"{server}/v1/embeddings", json={"model": "tiny-a", "input": "a"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(f"{server}/health").json()["dimensions"] == 64  # health needs no key


def test_concurrent_requests_get_their_own_embeddings(server, reference):
    _, expected = reference
    client = openai.AsyncOpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0)
    order = [i % len(SENTENCES) for i in range(24)]

    async def run():
        before = httpx.get(f"{server}/health").json()["batching"]
        responses = await asyncio.gather(*(client.embeddings.create(model="tiny-a", input=SENTENCES[i])
                                           for i in order))
        return before, responses, httpx.get(f"{server}/health").json()["batching"]

    before, responses, after = asyncio.run(run())
    got = np.array([r.data[0].embedding for r in responses], dtype=np.float32)
    assert cosines(got, expected[order]).min() >= 0.9999
    assert after["requests"] - before["requests"] == len(order)
    assert after["texts"] - before["texts"] == len(order)


def test_the_command_refuses_bad_bounds_before_loading_anything(runner, cli_app):
    result = runner.invoke(cli_app, ["serve", "no/such/model", "--max-inputs", "0"])
    assert result.exit_code == 2
    assert "max_inputs must be at least 1, got 0 (option --max-inputs)" in " ".join(result.output.split())
