"""Tokenized training data: views and templates, the one-mask check, and the on-disk cache key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sncse.data.corpus import TrainExamples
from sncse.data.tokenized import cached_tokenize, load_tokenized, plan_views, tokenize_examples
from sncse.encoders import SentenceEncoder
from sncse.errors import DataError, SncseError

SENTS = ["a cat sat on the mat", "the dog ran home", "people are talking about the history of this city"]
NEGS = ["a cat did not sit on the mat", "the dog did not run home", "people are not talking about it"]


def model(tiny_backbone, **kw) -> SentenceEncoder:
    backbone, tokenizer = tiny_backbone
    return SentenceEncoder(backbone, tokenizer, **kw)


def test_plan_views() -> None:
    text = TrainExamples("text", SENTS, source="c.txt")
    neg = TrainExamples("negations", SENTS, negation=NEGS)
    assert plan_views(("positive",), text) == ("anchor", "positive")
    assert plan_views(("positive", "negation"), neg) == ("anchor", "positive", "negation")
    with pytest.raises(SncseError, match="sncse negate"):
        plan_views(("positive", "negation"), text, "bml")
    with pytest.raises(SncseError, match="NLI triplets"):
        plan_views(("positive", "hard_negative"), neg, "sup")


def test_prompt_views_use_their_templates(tiny_backbone) -> None:
    m = model(tiny_backbone, pooler="prompt")
    ex = TrainExamples("negations", SENTS, negation=NEGS)
    data = tokenize_examples(m, ex, ("anchor", "positive", "negation"))
    for i in range(len(SENTS)):
        assert data.columns["anchor"].row(i) == m.tokenize([SENTS[i]], view="original")[0]
        assert data.columns["positive"].row(i) == m.tokenize([SENTS[i]], view="view")[0]
        assert data.columns["negation"].row(i) == m.tokenize([NEGS[i]], view="view")[0]
    assert data.columns["positive"] is not data.columns["anchor"]


def test_cls_positive_shares_anchor_tokens(tiny_backbone) -> None:
    m = model(tiny_backbone, pooler="cls")
    data = tokenize_examples(m, TrainExamples("text", SENTS), ("anchor", "positive"))
    assert data.columns["positive"] is data.columns["anchor"]
    assert data.columns["anchor"].row(1) == m.tokenize([SENTS[1]])[0]


def test_sentence_with_mask_token_is_rejected(tiny_backbone) -> None:
    m = model(tiny_backbone, pooler="prompt")
    with pytest.raises(DataError, match="exactly one mask token"):
        tokenize_examples(m, TrainExamples("text", ["fine", "a [MASK] inside"], source="x.txt"), ("anchor", "positive"))


def test_cache_hit_and_key(tiny_backbone, tmp_path: Path) -> None:
    m = model(tiny_backbone, pooler="prompt", max_length=32)
    ex = TrainExamples("negations", SENTS, negation=NEGS)
    views = ("anchor", "positive", "negation")
    a = cached_tokenize(m, ex, views, tmp_path, "digest1")
    files = list(tmp_path.glob("tokens-*.npz"))
    assert len(files) == 1
    b = load_tokenized(files[0], a.key)
    assert b is not None and b.views == views
    for v in views:
        assert (b.columns[v].flat == a.columns[v].flat).all() and (b.columns[v].offsets == a.columns[v].offsets).all()
    assert load_tokenized(files[0], "other-key") is None
    # another file content, max length or template -> another key, another file
    cached_tokenize(m, ex, views, tmp_path, "digest2")
    m.max_length = 24
    cached_tokenize(m, ex, views, tmp_path, "digest1")
    m.view_template = 'Sentence "{sentence}" means [MASK] .'
    m._template_ids.clear()
    cached_tokenize(m, ex, views, tmp_path, "digest1")
    assert len(list(tmp_path.glob("tokens-*.npz"))) == 4


def test_broken_cache_is_rebuilt(tiny_backbone, tmp_path: Path) -> None:
    m = model(tiny_backbone, pooler="cls")
    ex = TrainExamples("text", SENTS)
    a = cached_tokenize(m, ex, ("anchor", "positive"), tmp_path, "d")
    (f,) = tmp_path.glob("tokens-*.npz")
    f.write_bytes(b"garbage")
    b = cached_tokenize(m, ex, ("anchor", "positive"), tmp_path, "d")
    assert (a.columns["anchor"].flat == b.columns["anchor"].flat).all()
