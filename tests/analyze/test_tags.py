"""Heuristic tags on hand-made pairs."""

from __future__ import annotations

import pytest

from sncse.analyze.tags import edit_distance, jaccard, tag_pair, tokens, typo_pairs


def test_tokens_split_nt_and_drop_punctuation():
    assert tokens("He doesn't like it, does he?") == ["he", "does", "n't", "like", "it", "does", "he"]
    assert tokens("a man is n't here .") == ["a", "man", "is", "n't", "here"]


@pytest.mark.parametrize("a, b, expected", [
    ("A man is playing a guitar.", "A man is not playing a guitar.", ["negation"]),
    ("The dog doesn't bark.", "The dog barks.", ["negation"]),
    ("Nobody is riding a horse.", "A man is riding a horse.", ["negation"]),
    ("A man is not sleeping.", "A woman is not sleeping.", []),  # cue on both sides
    ("A dog bites a man.", "A man bites a dog.", ["word_order"]),
    ("A dog bites a man.", "A dog bites a man.", []),
    ("Stocks fell sharply on Monday.", "A child plays with a red ball.", ["low_overlap"]),
    ("A man is playing the guitar.", "A man is playing the guiatr.", ["typo"]),  # transposition
    ("The government announced new taxes.", "The governmnet announced new taxes.", ["typo"]),
    ("A man plays the guitar.", "A man played the guitar.", []),  # inflection, not a typo
    ("The woman is cooking pasta.", "The women are cooking pasta.", []),  # man/men
    ("There is a cat.", "Their cat is here.", []),  # short words 2 edits apart
])
def test_tags(a, b, expected):
    assert tag_pair(a, b) == expected


def test_tags_can_combine():
    tags = tag_pair("Nobody sells shares today.", "The cat sleeps.")
    assert tags == ["negation", "low_overlap"]


def test_jaccard_and_threshold_edges():
    assert jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    assert jaccard([], []) == 1.0
    # 1 shared of 5 distinct tokens = 0.2: not below the threshold
    assert "low_overlap" not in tag_pair("a b c", "a d e")
    assert "low_overlap" in tag_pair("a b c", "a d e f")  # 1/6


def test_edit_distance_osa():
    assert edit_distance("guitar", "guiatr") == 1  # adjacent transposition
    assert edit_distance("kitten", "sitting") == 3  # capped at limit + 1
    assert edit_distance("abcd", "abcd") == 0
    assert edit_distance("abcd", "abxy") == 2
    assert typo_pairs(["recieve"], ["receive"]) == [("recieve", "receive")]
