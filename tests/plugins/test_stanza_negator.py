"""The Stanza plugin: SNCSE's rules over UD on real stanza Documents built from CoNLL-U (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

stanza = pytest.importorskip("stanza")
from sncse_plugins.stanza_negator import StanzaNegator, models_available  # noqa: E402
from stanza.utils.conll import CoNLL  # noqa: E402

from sncse import registry  # noqa: E402
from sncse.errors import SncseError  # noqa: E402
from sncse.negation import FAITHFUL_BRANCHES, IMPROVED_BRANCHES, Negator  # noqa: E402


def conllu(*rows: str) -> str:
    """CoNLL-U from rows written with single spaces between the ten columns."""
    return "\n".join("\t".join(r.split(" ")) for r in rows) + "\n\n"


DOCS = {
    "copula": conllu(
        "1 He he PRON PRP _ 3 nsubj _ _",
        "2 is be AUX VBZ _ 3 cop _ _",
        "3 tall tall ADJ JJ _ 0 root _ SpaceAfter=No",
        "4 . . PUNCT . _ 3 punct _ _",
    ),
    "contraction": conllu(
        "1 He he PRON PRP _ 4 nsubj _ _",
        "2-3 doesn't _ _ _ _ _ _ _ _",
        "2 does do AUX VBZ _ 4 aux _ _",
        "3 n't not PART RB _ 4 advmod _ _",
        "4 like like VERB VB _ 0 root _ _",
        "5 it it PRON PRP _ 4 obj _ SpaceAfter=No",
        "6 . . PUNCT . _ 4 punct _ _",
    ),
    "imperative": conllu(
        "1 Close close VERB VB _ 0 root _ _",
        "2 the the DET DT _ 3 det _ _",
        "3 door door NOUN NN _ 1 obj _ SpaceAfter=No",
        "4 . . PUNCT . _ 1 punct _ _",
    ),
    "question": conllu(
        "1 Is be AUX VBZ _ 3 aux _ _",
        "2 he he PRON PRP _ 3 nsubj _ _",
        "3 coming come VERB VBG _ 0 root _ SpaceAfter=No",
        "4 ? ? PUNCT . _ 3 punct _ _",
    ),
    "past": conllu(
        "1 Tom Tom PROPN NNP _ 2 nsubj _ _",
        "2 became become VERB VBD _ 0 root _ _",
        "3 a a DET DT _ 4 det _ _",
        "4 doctor doctor NOUN NN _ 2 xcomp _ SpaceAfter=No",
        "5 . . PUNCT . _ 2 punct _ _",
    ),
    "passive": conllu(
        "1 It it PRON PRP _ 3 nsubj:pass _ _",
        "2 was be AUX VBD _ 3 aux:pass _ _",
        "3 done do VERB VBN _ 0 root _ SpaceAfter=No",
        "4 . . PUNCT . _ 3 punct _ _",
    ),
    "not": conllu(
        "1 She she PRON PRP _ 4 nsubj _ _",
        "2 is be AUX VBZ _ 4 cop _ _",
        "3 not not PART RB _ 4 advmod _ _",
        "4 happy happy ADJ JJ _ 0 root _ SpaceAfter=No",
        "5 . . PUNCT . _ 4 punct _ _",
    ),
    "no_det": conllu(
        "1 There there PRON EX _ 2 expl _ _",
        "2 is be VERB VBZ _ 0 root _ _",
        "3 no no DET DT _ 4 det _ _",
        "4 milk milk NOUN NN _ 2 nsubj _ SpaceAfter=No",
        "5 . . PUNCT . _ 2 punct _ _",
    ),
}

EXPECTED = {  # name: (faithful, faithful branch, improved, improved branch)
    "copula": ("He is not tall .", "root_special", "He is not tall.", "copula_modal"),
    "contraction": ("He does not n't like it .", "aux", "He does like it.", "negation_removed"),
    "imperative": ("Not Close the door .", "root_other", "Do not close the door.", "imperative"),
    "question": ("Is not he coming ?", "aux", "Is he not coming?", "question"),
    "past": ("Tom did not become a doctor .", "root_vbd", "Tom did not become a doctor.", "do_support"),
    "passive": ("It was not done .", "aux", "It was not done.", "aux"),
    "not": ("She is happy .", "not_deleted", "She is happy.", "negation_removed"),
    "no_det": ("There is not no milk .", "root_special", "There is some milk.", "negation_removed"),
}


def doc(name: str):
    return CoNLL.conll2doc(input_str=DOCS[name])


@pytest.mark.parametrize("name", list(DOCS))
def test_rules_on_conllu_documents(name):
    f_out, f_branch, i_out, i_branch = EXPECTED[name]
    assert StanzaNegator(mode="faithful").negate_document(doc(name)) == (f_out, f_branch)
    assert StanzaNegator(mode="improved").negate_document(doc(name)) == (i_out, i_branch)


def test_registered_like_a_third_party_plugin():
    cls = registry.get("negators", "stanza")
    assert cls is StanzaNegator and registry.get("negators", "stanza.v1") is cls
    neg = cls(mode="improved")
    assert isinstance(neg, Negator)
    results = neg.negate_documents([doc("past"), doc("copula")])
    assert [r.negation for r in results] == ["Tom did not become a doctor.", "He is not tall."]


def test_multi_sentence_document_negates_first_main_clause():
    two = CoNLL.conll2doc(input_str=DOCS["past"] + DOCS["copula"])
    assert len(two.sentences) == 2
    neg, branch = StanzaNegator(mode="improved").negate_document(two)
    assert (neg, branch) == ("Tom did not become a doctor. He is tall.", "do_support")
    assert StanzaNegator(mode="faithful").negate_document(two)[0] == "Tom did not become a doctor . He is tall ."


@pytest.mark.full_data("the UD English EWT dev treebank (ud/en_ewt-ud-dev.conllu)")
def test_gold_ud_treebank_sentences(full_data_root: Path):
    """Every sentence of the EWT dev treebank goes through both modes; a few are pinned."""
    path = full_data_root / "ud" / "en_ewt-ud-dev.conllu"
    if not path.exists():
        pytest.skip(f"needs the UD English EWT dev treebank: {path} is missing")
    treebank = CoNLL.conll2doc(input_file=str(path))
    faithful, improved = StanzaNegator(mode="faithful"), StanzaNegator(mode="improved")
    branches = {"faithful": set(), "improved": set()}
    pinned = {}
    for sent in treebank.sentences[:600]:
        one = stanza.Document([sent.to_dict()])
        f, fb = faithful.negate_document(one)
        i, ib = improved.negate_document(one)
        assert fb in FAITHFUL_BRANCHES and ib in IMPROVED_BRANCHES
        assert f and i
        branches["faithful"].add(fb)
        branches["improved"].add(ib)
        pinned[sent.text] = (f, i)
    assert {"not_deleted", "aux", "root_special", "root_vbd", "root_vbz", "root_other"} <= branches["faithful"]
    assert {"negation_removed", "aux", "copula_modal", "do_support", "imperative"} <= branches["improved"]
    assert pinned["Read the entire article; there's a punchline, too."] == (
        "Not Read the entire article ; there 's a punchline , too .",
        "Do not read the entire article; there's a punchline, too.")
    assert pinned["Bush nominated Jennifer M. Anderson for a 15-year term as associate judge of the Superior Court "
                  "of the District of Columbia, replacing Steffen W. Graae."][1].startswith(
        "Bush did not nominate Jennifer M. Anderson for a 15-year term")


def test_missing_models_give_a_clear_error_and_never_download(tmp_path):
    neg = StanzaNegator(mode="faithful", resources_dir=tmp_path / "stanza")
    assert not models_available("en", tmp_path / "stanza")
    with pytest.raises(SncseError, match=r"stanza\.download\('en'\)"):
        neg.negate(["He runs."])
    assert not (tmp_path / "stanza").exists()
    # blank lines and over-long lines need no model
    assert [r.negation for r in neg.negate_with_branches(["", "   "])] == ["Not", "Not"]
    assert StanzaNegator(max_chars=5, resources_dir=tmp_path).negate_with_branches(["x" * 20])[0].branch == "too_long"


def test_cli_reports_missing_models(runner, cli_app, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("He runs.\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["negate", str(src), "--backend", "stanza", "--model", str(tmp_path / "none")])
    assert result.exit_code == 2, result.output
    assert "stanza.download('en')" in result.output


@pytest.mark.stanza_models
@pytest.mark.skipif(not models_available(), reason="Stanza English models not downloaded")
def test_pipeline_end_to_end():  # pragma: no cover - runs only where models exist
    neg = StanzaNegator(mode="faithful")
    assert neg.negate(["Tom and Jerry became good friends.", ""]) == [
        "Tom and Jerry did not become good friends .", "Not"]
    assert StanzaNegator(mode="improved").negate(["He doesn't like it."]) == ["He does like it."]


def test_worker_processes_report_missing_models(runner, cli_app, tmp_path):
    """Non-fork-safe backends start clean worker processes; their errors still reach the user."""
    src = tmp_path / "in.txt"
    src.write_text("He runs.\nShe walks.\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["negate", str(src), "--backend", "stanza", "--workers", "2",
                                     "--model", str(tmp_path / "none")])
    assert result.exit_code == 2, result.output
    assert "stanza.download('en')" in result.output
