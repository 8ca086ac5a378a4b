"""A saved tiny random BERT for the analysis tests (fake sweep runs: analyze_runs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_backbone) -> Path:
    """A run directory holding only best/ (a SentenceEncoder.save of the tiny BERT, cls pooler)."""
    from sncse.encoders import SentenceEncoder

    backbone, tokenizer = tiny_backbone
    run = tmp_path_factory.mktemp("analyze") / "tiny-run"
    SentenceEncoder(backbone, tokenizer, pooler="cls", mlp="none", base_encoder="tiny-bert").save(run / "best")
    return run
