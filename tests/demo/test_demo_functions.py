"""What the demo page computes, without Gradio: real spaCy negations, real tiny-model cosines, real search."""

from __future__ import annotations

import numpy as np
import pytest

import sncse
from sncse.demo import SoftNegativeDemo
from sncse.errors import SncseError
from sncse.negation.parallel import build_negator

SENTENCE, PARAPHRASE = "Tom and Jerry became good friends.", "Tom and Jerry got along well."


def test_negations_are_the_negators_own_in_both_modes(demo):
    result = demo.compare(SENTENCE, PARAPHRASE)
    for mode in ("faithful", "improved"):
        assert result.negations[mode] == build_negator("spacy", {"mode": mode}).negate([SENTENCE])[0]
    assert result.negations["faithful"] == "Tom and Jerry did not become good friends ."  # SNCSE's own example


def test_every_pair_is_scored_under_every_model(demo, tiny_models):
    result = demo.compare(SENTENCE, PARAPHRASE)
    assert result.models == ["tiny-a", "tiny-b-saved"]
    assert [kind for kind, _ in result.pairs] == ["paraphrase", "faithful", "improved"]
    for name, path in zip(result.models, (tiny_models["tiny-a"], tiny_models["tiny-b"]), strict=True):
        model = sncse.load(str(path), device="cpu")
        emb = model.encode([SENTENCE, PARAPHRASE, *result.negations.values()], normalize=True, show_progress=False)
        expected = emb[1:] @ emb[0]
        got = [result.score(kind, name) for kind in ("paraphrase", "faithful", "improved")]
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert result.score("faithful", "tiny-a") != pytest.approx(result.score("faithful", "tiny-b-saved"), abs=1e-4)
    headers, rows = result.table()
    assert headers == ["pair", "other sentence", "tiny-a", "tiny-b-saved"]
    assert rows[0][:2] == ["sentence vs paraphrase", PARAPHRASE]
    assert rows[1][1] == result.negations["faithful"] and rows[1][2] == round(result.score("faithful", "tiny-a"), 4)
    verdicts = result.summary().splitlines()
    assert len(verdicts) == 2 and verdicts[0].startswith("- **tiny-a**")


def test_nearest_corpus_lines_per_model(demo):
    result = demo.compare("A man is playing a guitar.")
    assert set(result.neighbours) == {"tiny-a", "tiny-b-saved"}
    for hits in result.neighbours.values():
        assert len(hits) == 3
        assert (hits[0].line, hits[0].text, hits[0].score) == (1, "A man is playing a guitar.", 1.0)
        assert all(h.line != 5 for h in hits)  # the empty line is not indexed
    headers, rows = result.neighbour_table()
    assert headers == ["rank", "tiny-a", "tiny-b-saved"] and [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][1] == "1.0000  A man is playing a guitar. (line 1)"
    assert [k for k, _ in result.pairs] == ["faithful", "improved"]  # no paraphrase typed: no paraphrase row
    assert "Type a paraphrase" in result.summary()


@pytest.mark.parametrize(("sentence", "paraphrase", "words"), [
    ("", "anything", "type a sentence first"),
    ("   ", "", "type a sentence first"),
    ("x" * 301, "", "the sentence has 301 characters; the limit is 300"),
    ("A short one.", "y" * 400, "the paraphrase has 400 characters; the limit is 300"),
])
def test_bad_input_gets_a_message_not_an_exception(demo, sentence, paraphrase, words):
    with pytest.raises(SncseError, match=words):
        demo.compare(sentence, paraphrase)
    view = demo.respond(sentence, paraphrase)
    assert not view.ok and words in view.message and view.scores == ([], [])


def test_a_pre_encoded_corpus_is_searched_with_the_model_that_embedded_it(tiny_models, corpus_file, tmp_path):
    from sncse.embed import encode_file

    array = tmp_path / "corpus.npy"
    encode_file(str(tiny_models["tiny-b"]), corpus_file, array, normalize=True, device="cpu", empty_lines="zero")
    demo = SoftNegativeDemo({"tiny-a": sncse.load(str(tiny_models["tiny-a"]), device="cpu"),
                             "tiny-b-saved": sncse.load(str(tiny_models["tiny-b"]), device="cpu")}, negators={})
    loaded = SoftNegativeDemo.load([str(tiny_models["tiny-a"]), str(tiny_models["tiny-b"])], corpus=array,
                                   device="cpu", show_progress=False, modes=())
    assert list(loaded.corpus) == ["tiny-b-saved"]
    hits = loaded.compare("Two dogs run across a field.").neighbours["tiny-b-saved"]
    assert (hits[0].line, hits[0].score) == (3, 1.0)
    assert demo.compare("Two dogs run across a field.").pairs == []  # no negator, no paraphrase: nothing to pair


def test_a_model_named_twice_is_refused(tiny_models):
    with pytest.raises(SncseError, match="named twice"):
        SoftNegativeDemo.load([str(tiny_models["tiny-a"])] * 2, device="cpu")


def test_the_command_refuses_bad_bounds_before_loading_anything(runner, cli_app):
    result = runner.invoke(cli_app, ["demo", "no/such/model", "--top-k", "0"])
    assert result.exit_code == 2
    assert "top_k must be at least 1, got 0 (option --top-k)" in " ".join(result.output.split())
