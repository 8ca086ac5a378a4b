"""Shared fixtures: the data root, a tiny random BERT, a CLI runner; and CI's rule on skips.

Under ``CI=true`` a skipped test is a failed test: a skip there means a missing install step or a
missing data folder, which a green run would hide. Only tests marked ``gpu`` or ``stanza_models``
may skip in CI (no CI machine has a GPU or the downloaded Stanza models).

The data: ``data_root`` is the full evaluation data (``$SNCSE_DATA``, else ``../shared/data``) where it
exists, else a small root in the same layout built from the sample embedded in the package
(``tests/sample_data.py``), so that a fresh clone runs nearly every test. Only tests that need the full
sets themselves (the papers' pair counts, checksums of SentEval's files, full-size reference runs) ask
for ``full_data_root``, which skips where they are absent. ``SNCSE_TEST_NO_SHARED=1`` makes the tests
behave as on a machine without the full data, for checking that a fresh clone's run still works.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: act as if the full data were absent (a fresh clone without ../shared)
NO_SHARED = os.environ.get("SNCSE_TEST_NO_SHARED", "").lower() in ("1", "true", "yes")
#: markers of tests whose resource no CI machine has: these may skip in CI
MAY_SKIP_IN_CI = ("gpu", "stanza_models")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (IN_CI and report.skipped) or any(item.get_closest_marker(m) for m in MAY_SKIP_IN_CI):
        return
    if getattr(report, "wasxfail", None) is not None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"CI=true: a skipped test fails in CI ({reason}); install or provide what it needs"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A module skipped at import (``pytest.importorskip`` at the top of a file) fails in CI too."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true: {collector.nodeid} was skipped at collection ({reason})"


def _full_data() -> tuple[Path | None, str]:
    """The full data root, or None and why it is not there."""
    if NO_SHARED:
        return None, "SNCSE_TEST_NO_SHARED=1 hides the full data"
    root = Path(os.environ.get("SNCSE_DATA", DEFAULT_DATA)).resolve()  # tests run commands in other folders
    missing = [p for p in (root / "senteval" / "downstream", root / "corpus" / "wiki1m_head.txt") if not p.exists()]
    if missing:
        return None, f"missing {', '.join(map(str, missing))} (set SNCSE_DATA to ../shared/data)"
    return root, ""


#: read once, before any fixture points $SNCSE_DATA at the root built from the sample
FULL_DATA = _full_data()


def pytest_configure(config):
    config.addinivalue_line("markers", "full_data(why): the test needs the full evaluation data for WHY "
                                       "(the skip message where it is absent)")


@pytest.fixture()
def full_data_root(request) -> Path:
    """The full evaluation data (SentEval's sets and the Wikipedia prefix); skips where it is absent,
    naming what the test needs it for (its ``full_data`` marker)."""
    marker = request.node.get_closest_marker("full_data")
    if marker is None or not marker.args:
        pytest.fail("a test that asks for full_data_root says why with @pytest.mark.full_data(\"...\")",
                    pytrace=False)
    root, why = FULL_DATA
    if root is None:
        message = f"needs the full evaluation data for {marker.args[0]}: {why}"
        if IN_CI and not NO_SHARED:
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    os.environ["SNCSE_DATA"] = str(root)
    return root


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """The full data where it exists, else the small root built from the embedded sample; either way
    ``$SNCSE_DATA`` names it for the rest of the session (commands the tests run read it)."""
    root, _ = FULL_DATA
    if root is None:
        from sample_data import build_sample_data_root

        root = build_sample_data_root(tmp_path_factory.mktemp("sample-data"))
    os.environ["SNCSE_DATA"] = str(root)
    return root


@pytest.fixture(scope="session")
def data_is_full(data_root: Path) -> bool:
    """Whether ``data_root`` is the full data rather than the root built from the sample."""
    return data_root == FULL_DATA[0]


@pytest.fixture()
def sigkill_when():
    """``sigkill_when(cli_args, ready)``: run ``sncse CLI_ARGS`` in a child process and SIGKILL it as soon
    as ``ready()`` is true (polled every 5 ms); fails if the run ends first. For resume tests."""
    import signal
    import subprocess
    import sys
    import time

    def run(cli_args: list[str], ready, timeout: float = 120.0) -> None:
        cmd = [sys.executable, "-c", "from sncse_cli.main import main; main()", *cli_args]
        proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + timeout
            while not ready() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()!r}"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL

    return run


@pytest.fixture()
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="session")
def cli_app():
    from sncse_cli.main import app

    return app


@pytest.fixture(scope="session")
def tiny_backbone():
    """(backbone, tokenizer) of the 2-layer random BERT; build a fresh SentenceEncoder around it per test."""
    from sncse.encoders.builders import build_tiny_bert

    return build_tiny_bert()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Two tiny random BERTs on disk with different weights (mean pooler): ``tiny-a``, a folder written by
    ``sncse export`` (sentence-transformers format), and ``tiny-b``, a saved model. For the server and
    the demo page."""
    import sncse.export
    from sncse.encoders import SentenceEncoder
    from sncse.encoders.builders import TINY_BERT_CONFIG, build_random_bert

    root = tmp_path_factory.mktemp("tiny-models")
    paths = {}
    for seed, name in enumerate(("tiny-a", "tiny-b")):
        backbone, tokenizer = build_random_bert(TINY_BERT_CONFIG, seed=seed)
        SentenceEncoder(backbone, tokenizer, pooler="mean", mlp="none", base_encoder="tiny-bert").save(root / f"{name}-saved")
        paths[name] = root / f"{name}-saved"
    sncse.export.export(paths["tiny-a"], root / "tiny-a", verify=False, show_progress=False)
    paths["tiny-a"] = root / "tiny-a"
    return paths
