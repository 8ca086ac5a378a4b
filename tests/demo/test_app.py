"""The launched demo page: answered through `gradio_client` on a loopback port, rendered in headless Chromium."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("gradio")
from gradio_client import Client  # noqa: E402  (comes with gradio)

from sncse.demo import launch  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "scripts" / "page_screenshot.py"
SENTENCE, PARAPHRASE = "Tom and Jerry became good friends.", "Tom and Jerry got along well."


@pytest.fixture(scope="module")
def page(demo):
    launched = launch(demo, host="127.0.0.1", port=None, block=False, quiet=True)  # port None: a free one
    try:
        yield launched
    finally:
        launched.close()


def test_the_page_listens_on_loopback_only(page):
    assert page.local_url.startswith("http://127.0.0.1:")
    assert page.share_url is None


def test_gradio_client_gets_what_the_library_computes(page, demo):
    client = Client(page.local_url, verbose=False)
    faithful, improved, scores, neighbours, message = client.predict(SENTENCE, PARAPHRASE, api_name="/compare")
    expected = demo.compare(SENTENCE, PARAPHRASE)
    assert (faithful, improved) == (expected.negations["faithful"], expected.negations["improved"])
    assert (scores["headers"], scores["data"]) == expected.table()
    assert (neighbours["headers"], neighbours["data"]) == expected.neighbour_table()
    assert message == expected.summary()

    faithful, _, scores, _, message = client.predict("", PARAPHRASE, api_name="/compare")
    assert faithful == "" and scores["data"] == []
    assert message == "**Cannot compare:** type a sentence first"
    message = client.predict("word " * 100, "", api_name="/compare")[-1]
    assert "the sentence has 499 characters; the limit is 300" in message


def chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_page_renders_in_headless_chromium(page, demo, tmp_path):
    if chromium() is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium); .ci/run installs it")
    shot, dom = tmp_path / "demo.png", tmp_path / "demo.html"
    expected = demo.compare(*demo_example())
    # the page opens with its first example compared: wait until the verdict of the first model shows
    done = subprocess.run([sys.executable, str(SCREENSHOT), page.local_url, "-o", str(shot), "--dom", str(dom),
                           "--wait-for", "tiny-a:", "--timeout", "90"], capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr[-3000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    rendered = dom.read_text(encoding="utf-8")
    for name in demo.names:
        assert f"<code>{name}</code>" in rendered  # the intro's model list, rendered from Markdown
        assert f'title="{name}"' in rendered       # a column header of the score table
    assert html.escape(expected.negations["faithful"], quote=False) in rendered


def demo_example() -> list[str]:
    from sncse.demo.app import EXAMPLES

    return EXAMPLES[0]
