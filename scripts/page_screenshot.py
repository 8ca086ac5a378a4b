"""Render a web page in headless Chromium, wait until it shows some text, save a screenshot and the DOM.

    python scripts/page_screenshot.py http://127.0.0.1:7860/ -o docs/demo.png --wait-for "scores above"

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON messages
ended by a NUL byte on file descriptors 3 and 4), so nothing but the standard library and a
``chromium`` binary is needed (Debian: ``apt-get install chromium``; ``$CHROMIUM`` names another).
Unlike ``--screenshot``/``--dump-dom``, it waits for the page's own requests: the text is polled
in the rendered page (``document.body.innerText``) until it appears or ``--timeout`` passes. The
browser runs with a fresh profile, no GPU, no sandbox (containers), and no background networking.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-pipe")
BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """``$CHROMIUM``, else the first Chromium or Chrome on ``PATH``."""
    return os.environ.get("CHROMIUM") or next((p for b in BINARIES if (p := shutil.which(b))), None)


class Browser:
    """A headless Chromium driven over the DevTools pipe; one page (``open``, ``text``, ``screenshot``)."""

    def __init__(self, binary: str | None = None, width: int = 1280, height: int = 1200):
        binary = binary or find_chromium()
        if binary is None:
            raise RuntimeError("no Chromium found (apt-get install chromium, or set CHROMIUM)")
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        self.log_file = tempfile.TemporaryFile()  # Chromium's stderr (a pipe nobody reads could fill and block it)
        # The browser reads commands on fd 3 and writes replies on fd 4. The pipe ends are first moved
        # to fds >= 10 (close-on-exec), so putting them on 3 and 4 in the child cannot overwrite one
        # with the other; fds 3 and 4 themselves are inheritable, everything else closes on exec.
        # preexec_fn: run this from a single-threaded process (as the command line below does).
        to_child, self.write_fd = os.pipe()
        self.read_fd, from_child = os.pipe()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
        for fd in (to_child, from_child):
            os.close(fd)

        def fds() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self.profile.name}",
                                      f"--window-size={width},{height}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log_file,
                                     preexec_fn=fds, close_fds=False)
        for fd in high:
            os.close(fd)
        self.buffer = b""
        self.next_id = 0
        self.session = ""
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
        except Exception:
            self.close()
            raise

    def receive(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.read_fd], [], [], remaining)[0]:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                self.log_file.seek(0)
                err = self.log_file.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"Chromium exited (code {self.proc.wait()}): {err}")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, timeout: float = 60.0, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events in between are dropped)."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive(timeout)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, wait_for: str = "", timeout: float = 60.0, settle: float = 1.0) -> str:
        """Load ``url``, wait until its rendered text contains ``wait_for``, then ``settle`` seconds more
        (the page's transitions, such as the fade of a finished update); the text."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.evaluate("document.readyState === 'complete' && document.body ? document.body.innerText : ''") or ""
            if text and wait_for in text:
                time.sleep(settle)
                return text
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not show {wait_for!r} within {timeout:.0f} s; it shows: {text[:500]!r}")

    def dom(self) -> str:
        return self.evaluate("document.documentElement.outerHTML") or ""

    def screenshot(self, path: str | Path) -> Path:
        """The whole page (beyond the window's height) as a PNG."""
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)") or 0)
        width = int(self.evaluate("Math.ceil(document.documentElement.scrollWidth)") or 0)
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1} if width and height else None
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         **({"clip": clip} if clip else {}))["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.write(self.write_fd, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log_file.close()
        self.profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("-o", "--output", type=Path, required=True, help="PNG to write")
    ap.add_argument("--wait-for", default="", help="text the page must show before the screenshot")
    ap.add_argument("--dom", type=Path, help="also write the rendered DOM here")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1200)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait after the text appears")
    args = ap.parse_args()
    with Browser(width=args.width, height=args.height) as browser:
        browser.open(args.url, args.wait_for, timeout=args.timeout, settle=args.settle)
        browser.screenshot(args.output)
        if args.dom:
            args.dom.write_text(browser.dom(), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
