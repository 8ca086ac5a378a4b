"""Fixtures for the search tests: all-MiniLM-L6-v2 embeddings of 10,000 local sentences, made once."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def minilm():
    import sncse

    return sncse.load("minilm", device="cpu")


@pytest.fixture(scope="session")
def sts_sentences(data_root) -> list[str]:
    """The distinct sentences of the 7 STS test sets (26,083 in the full data), in first-seen order."""
    from sncse.data.tasks import STS_TASKS
    from sncse.eval.sts import load_tasks

    tasks = load_tasks(STS_TASKS, root=data_root)
    return list(dict.fromkeys(s for t in tasks for s in t.sentences()))


@pytest.fixture(scope="session")
def corpus_index(minilm, sts_sentences):
    """An exact index over 10,000 STS sentences (rows 0..9999), and 1,000 other sentences as queries;
    on the sample's root (fewer sentences) the same split with 1,000 queries and the rest as the corpus."""
    import os

    import torch

    from sncse.search import build_index

    size = min(10_000, len(sts_sentences) - 1_000)
    corpus, queries = sts_sentences[:size], sts_sentences[size:size + 1_000]
    threads = torch.get_num_threads()
    if os.getloadavg()[0] > (os.cpu_count() or 1):  # cores shared with other jobs: one thread is faster
        torch.set_num_threads(1)
    try:
        index = build_index(minilm, corpus, batch_size=128, show_progress=False)
        query_vectors = minilm.encode(queries, batch_size=128, normalize=True, show_progress=False)
    finally:
        torch.set_num_threads(threads)
    return index, corpus, queries, np.asarray(query_vectors)
