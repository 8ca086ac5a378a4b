"""The demo page's fixtures: two tiny models, a small text corpus, the page's object built once."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = ["A man is playing a guitar.", "A woman is slicing an onion.", "Two dogs run across a field.",
          "The stock market fell sharply today.", "", "A child is reading a book in the park.",
          "Heavy rain is expected tomorrow."]


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo-corpus") / "corpus.txt"
    path.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo(tiny_models, corpus_file):
    from sncse.demo import SoftNegativeDemo

    return SoftNegativeDemo.load([str(tiny_models["tiny-a"]), str(tiny_models["tiny-b"])], corpus=corpus_file,
                                 device="cpu", max_chars=300, top_k=3, show_progress=False)
