"""The data root: explicit > $SNCSE_DATA > ./data > the sample embedded in the package, and the sample itself."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from sncse.data import root as data_root_mod
from sncse.data.download import MANIFEST
from sncse.data.root import SAMPLE_CORPUS, data_root, install_root, resolve_data_root, sample_root
from sncse.data.senteval import load_sts
from sncse.errors import DataError, SncseError


@pytest.fixture()
def nowhere(tmp_path: Path, monkeypatch) -> Path:
    """A working folder with no ./data and no SNCSE_DATA: what a fresh install sees."""
    monkeypatch.delenv("SNCSE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(data_root_mod, "_announced", set())
    return tmp_path


def test_order_explicit_env_downloaded_sample(nowhere: Path, monkeypatch) -> None:
    assert resolve_data_root().kind == "sample"
    assert resolve_data_root().root == sample_root()
    (nowhere / "data" / "senteval").mkdir(parents=True)
    assert resolve_data_root().kind == "downloaded" and resolve_data_root().root == Path("data")
    monkeypatch.setenv("SNCSE_DATA", str(nowhere / "env"))
    assert resolve_data_root() == data_root_mod.DataSource(nowhere / "env", "env")
    assert resolve_data_root(nowhere / "x").kind == "explicit"
    assert data_root(nowhere / "x") == nowhere / "x"


def test_each_source_is_logged_once(nowhere: Path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="sncse.data.root"):
        data_root()
        data_root()
    lines = [r.getMessage() for r in caplog.records if r.name == "sncse.data.root"]
    assert len(lines) == 1
    assert lines[0].startswith("data: the embedded sample") and "sncse data download" in lines[0]


def test_download_never_installs_into_the_sample(nowhere: Path, monkeypatch) -> None:
    assert install_root() == Path("data")
    monkeypatch.setenv("SNCSE_DATA", str(nowhere / "d"))
    assert install_root() == nowhere / "d"
    assert install_root("elsewhere") == Path("elsewhere")


def test_sample_holds_stsb_dev_test_and_the_corpus_head(nowhere: Path) -> None:
    assert load_sts("stsb", "dev").pairs == 1500
    assert load_sts("stsb", "test").pairs == 1379
    base = sample_root() / "senteval" / "downstream"
    for rel in ("STS/STSBenchmark/sts-dev.csv", "STS/STSBenchmark/sts-test.csv"):  # the files download installs
        assert hashlib.sha256((base / rel).read_bytes()).hexdigest() == MANIFEST[rel]
    corpus = (sample_root() / SAMPLE_CORPUS).read_text(encoding="utf-8").splitlines()
    assert len(corpus) == 2000 and all(line.strip() for line in corpus)
    size = sum(p.stat().st_size for p in sample_root().rglob("*") if p.is_file())
    assert size < 1_000_000
    for licence in ("README.md", "senteval/downstream/STS/STSBenchmark/LICENSE.txt"):
        assert (sample_root() / licence).is_file()
    assert "CC BY-SA" in (sample_root() / "README.md").read_text(encoding="utf-8")


@pytest.mark.full_data("the Wikipedia prefix the sample's corpus is checked against")
def test_sample_corpus_is_the_head_of_the_shared_one(full_data_root: Path) -> None:
    shared = (full_data_root / "corpus" / "wiki1m_head.txt").read_text(encoding="utf-8").splitlines()
    sample = (sample_root() / SAMPLE_CORPUS).read_text(encoding="utf-8").splitlines()
    assert sample == shared[:2000]


def test_sets_the_sample_lacks_fail_in_one_line(nowhere: Path) -> None:
    from sncse.data.tasks import parse_tasks as plan_tasks
    from sncse.eval.runner import check_data

    check_data(plan_tasks("stsb"))  # present
    for spec, missing in (("sts", "sts12, sts13, sts14, sts15, sts16, sickr"), ("transfer", "mr, cr"),
                          ("align", "align")):
        with pytest.raises(SncseError) as exc:
            check_data(plan_tasks(spec))
        msg = str(exc.value)
        assert "\n" not in msg and "embedded sample" in msg and missing in msg and "sncse data download" in msg
    with pytest.raises(DataError, match="the embedded sample holds only STS-B dev/test"):
        load_sts("sickr", "test")


def test_full_root_keeps_its_own_message(data_root: Path, tmp_path: Path) -> None:
    from sncse.data.tasks import parse_tasks as plan_tasks
    from sncse.eval.runner import check_data

    check_data(plan_tasks("sts"), root=data_root)
    with pytest.raises(SncseError) as exc:
        check_data(plan_tasks("sts12"), root=tmp_path)
    assert "embedded sample" not in str(exc.value) and "sncse data download" in str(exc.value)


def test_data_check_on_the_sample(nowhere: Path) -> None:
    from sncse.data.check import check_data, summary

    result = summary(check_data(transfer=False))
    assert result["source"] == "sample" and not result["ok"]
    ok = {(t["task"], t["split"]) for t in result["tasks"] if t["ok"]}
    assert ok == {("stsb", "test"), ("stsb", "dev"), ("negation", "all"), ("cannot", "all")}  # CANNOT: optional
    rows = {t["task"]: t for t in result["tasks"]}
    assert rows["negation"]["count"] == 645 and rows["cannot"]["status"] == "missing"
    assert "embedded sample" in result["how_to_fix"]


def test_negation_sentences_come_from_stsb_on_the_sample(nowhere: Path) -> None:
    from sncse.analyze.negation_sim import sample_sentences

    sentences = sample_sentences(50, seed=0)
    pool = set(load_sts("stsb", "test").sentences())
    assert len(sentences) == 50 and set(sentences) <= pool
