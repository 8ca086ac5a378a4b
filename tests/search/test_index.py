"""Search: the exact index's chunked top-k, a sentence finds itself, exact and faiss agree, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from sncse.errors import SncseError
from sncse.search import ExactIndex, Index, make_index


def test_chunked_exact_top_k_equals_brute_force_on_unnormalised_float16_rows(tmp_path):
    rng = np.random.default_rng(0)
    corpus = rng.normal(size=(1003, 24)).astype(np.float16) * 3
    corpus[17] = 0  # a zero row scores 0, never NaN
    queries = rng.normal(size=(40, 24)).astype(np.float32)
    unit = corpus.astype(np.float32)
    norms = np.linalg.norm(unit, axis=1, keepdims=True)
    unit = np.divide(unit, norms, out=np.zeros_like(unit), where=norms > 0)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    want = np.argsort(-(q @ unit.T), axis=1, kind="stable")[:, :10]
    np.save(tmp_path / "c.npy", corpus)
    mapped = np.load(tmp_path / "c.npy", mmap_mode="r")  # searched chunk by chunk, never loaded whole
    for rows, chunk_rows in ((corpus, 7), (corpus, 100_000), (mapped, 7), (mapped, 256)):
        index = ExactIndex(rows, chunk_rows=chunk_rows)
        hits = index.search(queries, k=10)
        assert [[h.row for h in hs] for hs in hits] == want.tolist()
        assert [h.rank for h in hits[0]] == list(range(1, 11)) and [h.line for h in hits[0]] == [r + 1 for r in want[0]]
        np.testing.assert_allclose([h.score for h in hits[3]], (q @ unit.T)[3, want[3]], atol=1e-6)
    assert len(ExactIndex(corpus[:3]).search(queries[:2], k=10)[1]) == 3  # k larger than the corpus
    with pytest.raises(SncseError, match="dimensions"):
        ExactIndex(corpus).search(np.ones((1, 5), np.float32))


@pytest.mark.slow
def test_a_corpus_sentence_is_its_own_top_hit_with_score_1(corpus_index):
    index, corpus, _, _ = corpus_index
    probe = corpus[::97]  # 104 sentences spread over the corpus
    for sentence, hits in zip(probe, index.search(probe, k=3), strict=True):
        assert hits[0].text == sentence and hits[0].line == corpus.index(sentence) + 1
        assert abs(hits[0].score - 1.0) < 1e-5
        assert hits[1].score < hits[0].score


@pytest.mark.slow
def test_faiss_top10_agrees_with_exact(corpus_index, tmp_path, capsys):
    pytest.importorskip("faiss")
    index, corpus, queries, qv = corpus_index
    approx = make_index(index.embeddings, "faiss", texts=corpus, normalized=True)
    exact_hits, approx_hits = index.search(qv, k=10), approx.search(qv, k=10)
    found = sum(len({h.row for h in e} & {h.row for h in a}) for e, a in zip(exact_hits, approx_hits, strict=True))
    recall = found / (10 * len(queries))
    with capsys.disabled():
        print(f"\nfaiss HNSW32 (efSearch 128) recall@10 against exact search, 1,000 queries over 10,000 "
              f"MiniLM sentence embeddings: {recall:.4f}")
    assert recall >= 0.95
    # the same results API: texts, lines and cosine scores of the rows found
    for e, a in zip(exact_hits[:20], approx_hits[:20], strict=True):
        assert isinstance(a[0].text, str) and a[0].text == corpus[a[0].row] and a[0].line == a[0].row + 1
        by_row = {h.row: h.score for h in e}
        for h in a:
            if h.row in by_row:
                assert abs(h.score - by_row[h.row]) < 1e-5
    approx.save(tmp_path / "faiss_index")
    again = Index.load(tmp_path / "faiss_index")
    assert again.kind == "faiss" and [h.as_dict() for h in again.search(qv[:5], k=10)[0]] == \
        [h.as_dict() for h in approx_hits[0]]


@pytest.mark.slow
def test_save_and_load_give_the_same_hits_and_embed_text_queries(corpus_index, minilm, tmp_path):
    index, corpus, queries, qv = corpus_index
    index.save(tmp_path / "idx")
    loaded = Index.load(tmp_path / "idx", model=minilm)
    assert loaded.kind == "exact" and len(loaded) == len(corpus) and loaded.info["model"] == "minilm"
    assert [[h.as_dict() for h in hs] for hs in loaded.search(qv[:20], k=5)] == \
        [[h.as_dict() for h in hs] for hs in index.search(qv[:20], k=5)]
    text_hits = loaded.search(queries[0], k=5)[0]
    assert [h.row for h in text_hits] == [h.row for h in index.search(qv[:1], k=5)[0]]
