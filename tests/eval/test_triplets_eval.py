"""Triplet evaluation (`sncse eval --triplets FILE`, `--tasks negation`): agreement with
sentence-transformers' TripletEvaluator on a real file, a metric that can fail, and the CLI's errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sncse.data.root import sample_root
from sncse.data.tasks import requested_tasks
from sncse.data.triplets import NEGATION_SAMPLE_FILE, Triplets, read_triplets
from sncse.eval.pair_scores import read_pair_scores
from sncse.eval.results import result_file_mode
from sncse.eval.triplets import evaluate_triplets, score_triplets

ROWS = 80  # of the 645 SICK negation triplets embedded in the package


@pytest.fixture(scope="module")
def real_file(tmp_path_factory) -> Path:
    """The first ROWS negation triplets, as a user's TSV file (anchor, positive, negative)."""
    lines = (sample_root() / NEGATION_SAMPLE_FILE).read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("triplets") / "sick_neg.tsv"
    path.write_text("\n".join(lines[: ROWS + 1]) + "\n", encoding="utf-8")
    return path


def test_accuracy_equals_sentence_transformers_triplet_evaluator(real_file, tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator
    from sentence_transformers.util import pairwise_cos_sim

    from sncse.encoders.builders import local_minilm_path
    from sncse.eval.runner import run_eval

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = run_eval("minilm", tasks=None, triplets=[real_file], pair_scores=tmp_path / "rows.json.gz",
                      show_progress=False)
    ours = result["triplets"]["tasks"]["sick_neg"]
    t = read_triplets(real_file)
    st = SentenceTransformer(str(local_minilm_path()), device="cpu", local_files_only=True)
    theirs = TripletEvaluator(t.anchors, t.positives, t.negatives, main_similarity_function="cosine",
                              write_csv=False)(st)["cosine_accuracy"]  # a float32 fraction
    assert ours["rows"] == ROWS and round(ours["accuracy"] * ROWS / 100) == round(theirs * ROWS)
    assert 0 < ours["accuracy"] < 100 and ours["accuracy"] == pytest.approx(100 * theirs, abs=1e-4)
    # and row by row: the cosines sentence-transformers computes from its own embeddings
    emb = {k: st.encode(v, convert_to_tensor=True) for k, v in (("a", t.anchors), ("p", t.positives),
                                                                 ("n", t.negatives))}
    rows = read_pair_scores(tmp_path / "rows.json.gz").triplets["sick_neg"]
    assert rows.cos_pos == pytest.approx(pairwise_cos_sim(emb["a"], emb["p"]).numpy(), abs=1e-4)
    assert rows.cos_neg == pytest.approx(pairwise_cos_sim(emb["a"], emb["n"]).numpy(), abs=1e-4)
    assert ours["margin"] == pytest.approx(float(np.mean(rows.cos_pos - rows.cos_neg)), abs=1e-9)
    assert result["avg"] is None and result["tasks"] == {}  # triplets are never part of the STS average


def test_a_model_that_prefers_the_negative_everywhere_scores_zero():
    t = Triplets(["a1", "a2", "a3"], ["p1", "p2", "p3"], ["n1", "n2", "n3"], source="test")
    e = np.eye(3, dtype=np.float32)
    # every negative is its anchor's own direction, every positive is orthogonal to it
    lookup = {"a1": e[0], "a2": e[1], "a3": e[2], "n1": e[0], "n2": e[1], "n3": e[2],
              "p1": e[1], "p2": e[2], "p3": e[0]}
    r = score_triplets(t, lookup)
    assert r["accuracy"] == 0.0 and r["margin"] == pytest.approx(-1.0) and r["cos_neg"] == pytest.approx(1.0)
    lookup.update(p1=e[0], n1=e[1])  # one row the right way round, one tie (counts as wrong)
    lookup.update(p2=e[1])
    r = score_triplets(t, lookup)
    assert r["accuracy"] == pytest.approx(100 / 3)


def test_each_distinct_sentence_is_embedded_once(bow_embedder):
    t = Triplets(["x y", "x y"], ["x y z", "x z"], ["q", "x y z"], source="test", name="set")
    res = evaluate_triplets(bow_embedder, [t])
    assert bow_embedder.calls == [4] and res["sentences"] == 4 and res["tasks"]["set"]["rows"] == 2


def test_result_files_of_a_run(tmp_path):
    assert result_file_mode(requested_tasks("stsb,negation", "test"), "test") == "test"
    assert result_file_mode(requested_tasks("negation", "test"), "test") == "triplets"
    assert result_file_mode(requested_tasks(None, "test", own_files=True), "test") == "triplets"
    assert result_file_mode(requested_tasks(None, "test", own_files=True), "test", pairs=True) == "pairs"


def test_cli_triplets_table_and_bad_rows(runner, cli_app, real_file, tmp_path):
    ok = runner.invoke(cli_app, ["eval", "tiny-bert", "--triplets", str(real_file), "--json", "-"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout)
    assert data["triplets"]["tasks"]["sick_neg"]["rows"] == ROWS and data["meta"]["triplet_files"] == [str(real_file)]
    bad = tmp_path / "bad.tsv"
    bad.write_text("anchor\tpositive\tnegative\na\tb\tc\nonly two\tfields\n", encoding="utf-8")
    res = runner.invoke(cli_app, ["eval", "tiny-bert", "--triplets", str(bad)])
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert f"{bad}:3: missing column 'negative'" in res.output and "--skip-bad-rows" in res.output
    res = runner.invoke(cli_app, ["eval", "tiny-bert", "--triplets", str(bad), "--pairs", str(bad), "--columns",
                                  "a,b,c"])
    assert res.exit_code == 2 and "separate runs" in res.output
    res = runner.invoke(cli_app, ["eval", "tiny-bert", "--tasks", "negation", "--mode", "dev"])
    assert res.exit_code == 2 and "never used to select models" in res.output
