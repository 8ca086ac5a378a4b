"""Fixtures for the trainer tests: tiny training files and fast settings for the tiny random BERT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Settings that keep a CLI run of the tiny BERT to about a second on a CPU.
FAST = ["train.batch_size=16", "train.max_steps=3", "train.eval_steps=0", "train.log_steps=1",
        "data.limit=64", "train.device=cpu"]


def negate(sentence: str) -> str:
    """A crude stand-in for `sncse negate` (the trainer only needs a second string per line)."""
    words = sentence.split()
    for i, w in enumerate(words):
        if w.lower() in ("is", "was", "are", "were", "has", "had"):
            return " ".join(words[: i + 1] + ["not"] + words[i + 1 :])
    return "it is not true that " + sentence


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: on a shared 2-core runner two OpenMP threads spin against each other and a
    tiny-model step gets 10x slower. Restored after each test."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def child_env(data_root: Path):
    """Environment for child processes: one thread each, the data root, quiet warnings."""
    import os

    def make(**extra: str) -> dict[str, str]:
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore",
                   SNCSE_DATA=str(data_root))
        env.update(extra)
        return env

    return make


@pytest.fixture(scope="session")
def wiki_lines(data_root: Path) -> list[str]:
    lines = (data_root / "corpus" / "wiki1m_head.txt").read_text(encoding="utf-8").splitlines()
    return [x for x in lines[:400] if x.strip()][:160]


@pytest.fixture(scope="session")
def negations_file(tmp_path_factory, wiki_lines) -> Path:
    p = tmp_path_factory.mktemp("data") / "tiny.negations.jsonl"
    p.write_text("".join(json.dumps([s, negate(s)]) + "\n" for s in wiki_lines), encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def text_file(tmp_path_factory, wiki_lines) -> Path:
    p = tmp_path_factory.mktemp("data") / "tiny.txt"
    p.write_text("\n".join(wiki_lines) + "\n", encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def triplets_file(tmp_path_factory, data_root: Path) -> Path:
    from sncse.data.corpus import snli_triplets, write_nli_csv

    p = tmp_path_factory.mktemp("data") / "tiny_nli.csv"
    write_nli_csv(snli_triplets(data_root / "senteval" / "downstream" / "SNLI", ["test"])[:96], p)
    return p


@pytest.fixture()
def sets():
    """``--set`` arguments for a CLI call: the FAST settings plus ``extra``."""

    def make(*extra: str) -> list[str]:
        out: list[str] = []
        for kv in (*FAST, *extra):
            out += ["--set", kv]
        return out

    return make
