"""Sampler (seeded, resumable, bucketed, split across ranks), vectorised collation, prefetching."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sncse.data.batching import BatchSampler, Collator, Position, batches, duplicate_groups, has_duplicates
from sncse.data.corpus import TrainExamples
from sncse.data.tokenized import tokenize_examples
from sncse.encoders import SentenceEncoder


def _take(it, n):
    return [next(it) for _ in range(n)]


def test_sampler_is_seeded_and_covers_each_epoch_once() -> None:
    s = BatchSampler(103, 10, seed=7)
    assert s.steps_per_epoch == 10
    b0 = s.epoch_batches(0)
    assert b0.shape == (10, 10) and len(set(b0.ravel().tolist())) == 100
    assert (BatchSampler(103, 10, seed=7).epoch_batches(0) == b0).all()
    assert not (s.epoch_batches(1) == b0).all()
    assert not (BatchSampler(103, 10, seed=8).epoch_batches(0) == b0).all()


def test_sampler_resumes_from_a_position() -> None:
    s = BatchSampler(50, 8, seed=1)
    full = _take(s.iterate(), 15)  # crosses the epoch boundary (6 steps per epoch)
    pos, _ = full[8]
    assert pos == Position(1, 3)
    rest = _take(s.iterate(pos), 6)
    for (p1, i1), (p2, i2) in zip(full[9:], rest, strict=True):
        assert p1 == p2 and (i1 == i2).all()
    assert Position.from_dict(pos.to_dict()) == pos


def test_bucket_batches_have_similar_lengths() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, size=1000)
    s = BatchSampler(1000, 20, seed=3, mode="bucket", lengths=lengths, bucket_batches=10)
    b = s.epoch_batches(0)
    assert b.shape == (50, 20) and len(set(b.ravel().tolist())) == 1000
    spread_bucket = np.mean([np.ptp(lengths[x]) for x in b])
    spread_random = np.mean([np.ptp(lengths[x]) for x in BatchSampler(1000, 20, seed=3).epoch_batches(0)])
    assert spread_bucket < spread_random / 3


def test_ranks_take_disjoint_slices_of_the_global_batch() -> None:
    full = BatchSampler(40, 8, seed=2).epoch_batches(0)
    r0 = [i for _, i in _take(BatchSampler(40, 8, seed=2, rank=0, world_size=2).iterate(), 5)]
    r1 = [i for _, i in _take(BatchSampler(40, 8, seed=2, rank=1, world_size=2).iterate(), 5)]
    for k in range(5):
        assert (np.concatenate([r0[k], r1[k]]) == full[k]).all()
    with pytest.raises(ValueError, match="divisible"):
        BatchSampler(40, 9, world_size=2)


def test_collator_equals_model_collate(tiny_backbone) -> None:
    backbone, tok = tiny_backbone
    m = SentenceEncoder(backbone, tok, pooler="prompt")
    sents = ["a b c", "the history of the city is long and old", "x"]
    negs = ["not a b c", "the history is not long", "not x"]
    data = tokenize_examples(m, TrainExamples("negations", sents, negation=negs), ("anchor", "positive", "negation"))
    idx = np.array([2, 0, 1])
    batch = Collator(data)(idx)
    ids = ([m.tokenize([sents[i]], view="original")[0] for i in idx] + [m.tokenize([sents[i]], view="view")[0] for i in idx]
           + [m.tokenize([negs[i]], view="view")[0] for i in idx])
    ref = m.collate(ids)
    assert torch.equal(batch.input_ids, ref["input_ids"]) and torch.equal(batch.attention_mask, ref["attention_mask"])
    assert batch.size == 3 and batch.views == ("anchor", "positive", "negation")
    padded = Collator(data, pad_to_multiple_of=8)(idx)
    assert padded.input_ids.shape[1] % 8 == 0
    assert torch.equal(padded.input_ids[:, : ref["input_ids"].shape[1]], ref["input_ids"])


def test_prefetcher_matches_main_thread(tiny_backbone) -> None:
    backbone, tok = tiny_backbone
    m = SentenceEncoder(backbone, tok, pooler="cls")
    sents = [f"sentence {i} " + "word " * (i % 7) for i in range(40)]
    data = tokenize_examples(m, TrainExamples("text", sents), ("anchor", "positive"))
    s = BatchSampler(40, 8, seed=5)
    c = Collator(data)
    a = _take(batches(s, c, workers=0), 7)
    it = batches(s, c, workers=2)
    b = _take(it, 7)
    it.close()
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x.input_ids, y.input_ids) and x.position == y.position


# ------------------------------------------------------------------------------------------ dedup_batches
def _corpus_with_duplicates(n: int = 300, seed: int = 0) -> list[str]:
    """Sentences, a tenth of them repeated up to 4 times, some repeats in other letter case and spacing."""
    rng = np.random.default_rng(seed)
    base = [f"sentence number {i} about topic {i % 17}" for i in range(n)]
    out = list(base)
    for i in rng.choice(n, size=n // 10, replace=False):
        for k in range(int(rng.integers(1, 4))):
            out.append(base[i].upper() if k == 1 else base[i].replace(" ", "  ") if k == 2 else base[i])
    return [out[i] for i in rng.permutation(len(out))]


def test_duplicate_groups_compare_what_the_tokenizer_makes_of_the_anchor(tiny_backbone) -> None:
    backbone, tok = tiny_backbone
    m = SentenceEncoder(backbone, tok, pooler="prompt")
    sents = ["a cat sat on the mat", "A Cat sat on  the mat", "a dog sat on the mat", "a cat sat on the mat",
             "x"]
    data = tokenize_examples(m, TrainExamples("text", sents), ("anchor", "positive"))
    same_ids = m.tokenize([sents[0]])[0] == m.tokenize([sents[1]])[0]  # an uncased tokenizer: one sentence
    groups = duplicate_groups(data)
    assert groups.tolist() == ([0, 0, -1, 0, -1] if same_ids else [0, -1, -1, 0, -1])


def test_dedup_batches_hold_no_duplicate_and_stay_exact(tiny_backbone) -> None:
    backbone, tok = tiny_backbone
    m = SentenceEncoder(backbone, tok, pooler="cls")
    sents = _corpus_with_duplicates()
    data = tokenize_examples(m, TrainExamples("text", sents), ("anchor", "positive"))
    groups = duplicate_groups(data)
    n = len(sents)
    for mode in ("shuffle", "bucket"):
        plain = BatchSampler(n, 32, seed=3, mode=mode, lengths=data.lengths)
        dedup = BatchSampler(n, 32, seed=3, mode=mode, lengths=data.lengths, groups=groups)
        for epoch in (0, 1):
            before, after = plain.epoch_batches(epoch), dedup.epoch_batches(epoch)
            assert has_duplicates(before, groups).any()  # the test would see a failure to separate
            assert not has_duplicates(after, groups).any()
            # still a draw without replacement: nothing repeated, nothing invented
            assert len(set(after.ravel().tolist())) == after.size
            # batches without a duplicate change only as swap partners
            stats = dedup.dedup_stats(epoch)
            changed = (np.sort(before, 1) != np.sort(after, 1)).any(1)
            assert stats["batches_changed"] == int(changed.sum()) >= stats["batches_with_duplicates"] > 0
            assert stats["moved"] >= stats["batches_with_duplicates"] and stats["batches_with_duplicates_left"] == 0
            assert changed.sum() <= 2 * stats["moved"]
        # deterministic, so a position still names a batch: resuming gives the uninterrupted stream
        again = BatchSampler(n, 32, seed=3, mode=mode, lengths=data.lengths, groups=groups)
        full = _take(dedup.iterate(), 14)
        pos, _ = full[5]
        for (p1, i1), (p2, i2) in zip(full[6:], _take(again.iterate(pos), 8), strict=True):
            assert p1 == p2 and (i1 == i2).all()
    # every rank takes its slice of the same deduplicated global batch
    full = dedup.epoch_batches(0)
    ranks = [BatchSampler(n, 32, seed=3, mode="bucket", lengths=data.lengths, groups=groups, rank=r, world_size=2)
             for r in (0, 1)]
    first = [next(s.iterate())[1] for s in ranks]
    assert (np.concatenate(first) == full[0]).all()


def test_separate_duplicates_without_room_keeps_them_and_says_so(caplog) -> None:
    groups = np.array([0] * 6 + [-1] * 6)  # one sentence 6 times, 3 batches of 4
    sampler = BatchSampler(12, 4, seed=0, groups=groups)
    with caplog.at_level("WARNING"):
        _, indices = next(sampler.iterate())
    assert sampler.dedup_stats(0)["batches_with_duplicates_left"] > 0
    assert "keep a duplicate" in caplog.text
    assert len(indices) == 4
