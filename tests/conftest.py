"""Shared fixtures: the data root, a tiny random BERT, a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = Path(os.environ.get("SNCSE_DATA", DEFAULT_DATA))
    if not (root / "senteval").exists():
        pytest.skip(f"shared data not found at {root} (set SNCSE_DATA)")
    os.environ["SNCSE_DATA"] = str(root)
    return root


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
