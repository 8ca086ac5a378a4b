"""The SentEval-layout readers: counts equal the papers' and SentEval's parsing rules hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sncse.data.senteval import load_sts
from sncse.data.tasks import STS_TASKS, expected_pairs
from sncse.errors import DataError


def _check_counts(task: str, split: str) -> None:
    t = load_sts(task, split)
    assert t.pairs == expected_pairs(task, split), (task, split)
    s1, s2, gold = t.all_pairs()
    assert len(s1) == len(s2) == len(gold) == t.pairs
    assert gold.dtype == np.float64
    assert gold.min() >= 0 and gold.max() <= 5
    assert all(s == " ".join(s.split()) and s for s in s1[:200] + s2[:200])


@pytest.mark.parametrize("split", ["test", "dev"])
def test_stsb_pair_counts_match_papers(data_root: Path, split: str) -> None:
    """STS-B dev and test: SentEval's files, in the embedded sample too."""
    _check_counts("stsb", split)


@pytest.mark.full_data("the pair counts of STS12-16 and SICK-R (the sample holds only STS-B's files)")
def test_pair_counts_match_papers(full_data_root: Path) -> None:
    for task, split in [(t, "test") for t in STS_TASKS if t != "stsb"] + [("sickr", "dev")]:
        _check_counts(task, split)


def test_sts15_skips_blank_gold(data_root: Path, data_is_full: bool) -> None:
    t = load_sts("sts15")
    forums = next(s for s in t.subsets if s.name == "answers-forums")
    gold_lines = (data_root / "senteval" / "downstream" / "STS" / "STS15-en-test" / "STS.gs.answers-forums.txt"
                  ).read_text(encoding="utf-8").splitlines()
    assert "" in gold_lines and len(forums.gold) == sum(line != "" for line in gold_lines)
    assert forums.gold.tolist() == [float(line) for line in gold_lines if line]
    if data_is_full:  # answers-forums has 2000 input lines, 375 scored
        assert len(gold_lines) == 2000 and len(forums.gold) == 375


def _write_sts_dir(root: Path, task_dir: str, subsets: dict[str, tuple[list[str], list[str]]]) -> None:
    d = root / "senteval" / "downstream" / "STS" / task_dir
    d.mkdir(parents=True)
    for name, (pairs, gold) in subsets.items():
        (d / f"STS.input.{name}.txt").write_text("\n".join(pairs) + "\n", encoding="utf-8")
        (d / f"STS.gs.{name}.txt").write_text("\n".join(gold) + "\n", encoding="utf-8")


def test_sentEval_parsing_rules(tmp_path: Path) -> None:
    pairs = ["a  cat .\tthe\u00a0dog", "x\ty", "unscored\tpair", "p\tq\textra"]
    gold = ["4.0", "1", "", "2.5"]
    _write_sts_dir(tmp_path, "STS13-en-test", {"FNWN": (pairs, gold), "headlines": (pairs, gold),
                                                "OnWN": (pairs, gold)})
    t = load_sts("sts13", root=tmp_path)
    sub = t.subsets[0]
    assert sub.name == "FNWN"
    assert sub.sent1 == ["a cat .", "x", "p"]  # whitespace re-joined, blank gold skipped
    assert sub.sent2 == ["the dog", "y", "q"]  # NBSP is whitespace for str.split(); extra columns ignored
    assert sub.gold.tolist() == [4.0, 1.0, 2.5]
    assert t.pairs == 9


def test_missing_files_name_path_and_remedy(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        load_sts("sts12", root=tmp_path)
    msg = str(exc.value)
    assert "STS.input.MSRpar.txt" in msg and "sncse data download" in msg


def test_bad_score_names_file_and_line(tmp_path: Path) -> None:
    _write_sts_dir(tmp_path, "STS13-en-test", {n: (["a\tb", "c\td"], ["1", "oops"]) for n in
                                               ("FNWN", "headlines", "OnWN")})
    with pytest.raises(DataError, match=r"STS.gs.FNWN.txt:2: score 'oops'"):
        load_sts("sts13", root=tmp_path)


def test_stsb_and_sick_columns(tmp_path: Path) -> None:
    d = tmp_path / "senteval" / "downstream"
    (d / "STS" / "STSBenchmark").mkdir(parents=True)
    (d / "SICK").mkdir(parents=True)
    (d / "STS" / "STSBenchmark" / "sts-dev.csv").write_text(
        "g\tf\ty\t1\t3.5\tA  man .\tA woman .\n\ng\tf\ty\t2\t0.0\tx\ty\n", encoding="utf-8")
    (d / "SICK" / "SICK_trial.txt").write_text(
        "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n1\tA b\tC d\t4.5\tNEUTRAL\n",
        encoding="utf-8")
    b = load_sts("stsb", "dev", root=tmp_path)
    assert b.subsets[0].sent1 == ["A man .", "x"] and b.subsets[0].gold.tolist() == [3.5, 0.0]
    s = load_sts("sickr", "dev", root=tmp_path)
    assert s.subsets[0].sent2 == ["C d"] and s.subsets[0].gold.tolist() == [4.5]
    with pytest.raises(DataError, match="only a test split"):
        load_sts("sts12", "dev", root=tmp_path)
    with pytest.raises(DataError, match="unknown STS task"):
        load_sts("sts17", root=tmp_path)
