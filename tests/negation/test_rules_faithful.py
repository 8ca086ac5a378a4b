"""Faithful mode: SNCSE's published rules, branch by branch, on hand-made token lists and on real parses."""

from __future__ import annotations

import json

import pytest

from sncse.negation.rules_faithful import (
    SPECIAL_WORDS,
    UD_AUX,
    UD_ROOT,
    faithful_negation,
    plan_faithful,
    render_faithful,
)


def rule(texts, deps, tags=None, lemmas=None):
    tags = tags or ["XX"] * len(texts)
    lemmas = lemmas or [t.lower() for t in texts]
    return faithful_negation(texts, deps, tags, lemmas)


def test_special_words_are_the_original_list():
    assert SPECIAL_WORDS == {"am", "is", "was", "are", "were", "can", "could", "will", "would", "shall",
                             "should", "may", "must", "might"}


def test_not_deleted_first_occurrence_only_and_case_sensitive():
    assert rule(["a", "not", "b", "not"], ["x"] * 4) == ("a b not", "not_deleted")
    # "Not" is not "not": the dependency scan decides
    assert rule(["Not", "all", "can", "fly"], ["neg", "det", "aux", "ROOT"]) == ("Not all can not fly", "aux")


def test_first_aux_or_root_from_the_left_decides():
    # an aux after the ROOT is ignored: ROOT comes first
    neg, branch = rule(["He", "went", "as", "he", "could"], ["nsubj", "ROOT", "mark", "nsubj", "aux"],
                       tags=["PRP", "VBD", "IN", "PRP", "MD"], lemmas=["he", "go", "as", "he", "could"])
    assert (neg, branch) == ("He did not go as he could", "root_vbd")
    assert rule(["It", "was", "done"], ["nsubjpass", "auxpass", "ROOT"]) == ("It was not done", "aux")


@pytest.mark.parametrize(("tag", "expected", "branch"), [
    ("VBP", "They do not run", "root_vbp"),
    ("VBZ", "They does not run", "root_vbz"),
    ("VBD", "They did not run", "root_vbd"),
    ("VB", "Not They runs", "root_other"),
])
def test_root_tag_branches_use_lemma(tag, expected, branch):
    assert rule(["They", "runs"], ["nsubj", "ROOT"], tags=["PRP", tag], lemmas=["they", "run"]) == (expected, branch)


def test_root_special_word_is_matched_lower_cased():
    assert rule(["WAS", "it"], ["ROOT", "nsubj"], tags=["VBD", "PRP"]) == ("WAS not it", "root_special")


def test_no_aux_no_root_and_blank():
    assert rule(["a", "b"], ["dep", "dep"]) == ("Not a b", "no_root")
    assert rule([], []) == ("Not", "blank")


def test_plan_reads_tag_and_lemma_only_when_needed():
    calls = []

    def tag_of(i):
        calls.append(i)
        return "VBD"

    assert plan_faithful(["x", "not"], ["ROOT", "neg"], tag_of) == ("not_deleted", 1)
    assert plan_faithful(["can", "x"], ["ROOT", "dep"], tag_of) == ("root_special", 0)
    assert calls == []
    assert plan_faithful(["x", "ran"], ["nsubj", "ROOT"], tag_of) == ("root_vbd", 1)
    assert calls == [1]
    with pytest.raises(ValueError):
        render_faithful(["x", "ran"], "root_vbd", 1, None)


def test_ud_labels_cop_and_root_play_spacy_root():
    # UD: "He is tall" -> cop "is" comes before root "tall"
    assert faithful_negation(["He", "is", "tall"], ["nsubj", "cop", "root"], ["PRP", "VBZ", "JJ"],
                             ["he", "be", "tall"], UD_AUX, UD_ROOT) == ("He is not tall", "root_special")
    assert faithful_negation(["It", "was", "done"], ["nsubj:pass", "aux:pass", "root"], ["PRP", "VBD", "VBN"],
                             ["it", "be", "do"], UD_AUX, UD_ROOT) == ("It was not done", "aux")


# Each branch pinned on a real en_core_web_sm parse (outputs as SNCSE's script writes them).
REAL = [
    ("He is not here.", "He is here .", "not_deleted"),
    ("Tom has finished the work.", "Tom has not finished the work .", "aux"),
    ("The letter was written by John.", "The letter was not written by John .", "aux"),
    ("She is happy.", "She is not happy .", "root_special"),
    ("I love music.", "I do not love music .", "root_vbp"),
    ("He likes apples.", "He does not like apples .", "root_vbz"),
    ("Tom and Jerry became good friends.", "Tom and Jerry did not become good friends .", "root_vbd"),
    ("YMCA in South Australia", "Not YMCA in South Australia", "root_other"),
    ("", "Not", "blank"),
    ("   \t  ", "Not", "blank"),
    # contractions get a second negation, as in the original
    ("He doesn't like it.", "He does not n't like it .", "aux"),
    # whitespace tokens are joined like any token (the attribute ruler relabels them "dep")
    ("My brother  lives in Paris.", "My brother   does not live in Paris .", "root_vbz"),
]


@pytest.mark.parametrize(("sentence", "expected", "branch"), REAL)
def test_real_parse_branches(faithful, sentence, expected, branch):
    (result,) = faithful.negate_with_branches([sentence])
    assert (result.sentence, result.negation, result.branch) == (sentence.strip(), expected, branch)


def test_fast_equals_naive_reference(spacy_negators, wiki_lines):
    """The fast path (tokenizer-only lines, parser-only pipe, lazy lemmatizer) equals one full-pipeline
    nlp(s) per line, the original's loop, on real corpus lines plus edge cases."""
    tricky = ["  padded  ", "a\u00a0 b c", "It is not.", "x\ty z", "There's a cat.", "He ain't here.", "Let's go.",
              "I'm gonna win.", "Y'all know it.", "We gotta go.", "I'd rather stay.", "Thinking  hard, he left."]
    lines = wiki_lines[:150] + [s for s, _, _ in REAL] + tricky
    fast = spacy_negators[("faithful", "fast")].negate_with_branches(lines)
    naive = spacy_negators[("faithful", "naive")].negate_with_branches(lines)
    assert fast == naive
    # and the JSON line is what json.dumps([sentence, negation]) gives for the stripped line
    assert json.loads(json.dumps([fast[0].sentence, fast[0].negation]))[0] == lines[0].strip()


def test_ruler_window_falls_back_for_patterns_a_window_cannot_reproduce(faithful):
    from types import SimpleNamespace

    from sncse.negation.spacy_backend import _ruler_window

    assert _ruler_window(faithful.nlp.get_pipe("attribute_ruler")) == 1  # en_core_web_sm: pairs of tokens at most

    def ruler(*patterns):
        return SimpleNamespace(patterns=[{"patterns": [p], "attrs": {}} for p in patterns])

    assert _ruler_window(ruler([{"TAG": "VBZ"}], [{"LOWER": "a"}, {"LOWER": "b"}, {"DEP": "x"}])) == 2
    assert _ruler_window(ruler([{"POS": "VERB"}])) is None
    assert _ruler_window(ruler([{"LOWER": "a", "OP": "+"}])) is None
