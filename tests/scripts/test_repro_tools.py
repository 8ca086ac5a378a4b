"""scripts/repro_tools.py: the corpus builder, the meta merger and the packing of negations for training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _senteval(root: Path) -> Path:
    """A SentEval layout with MR, CR and TREC holding a few lines (one duplicate, one blank, latin-1)."""
    d = root / "senteval" / "downstream"
    (d / "MR").mkdir(parents=True)
    (d / "MR" / "rt-polarity.pos").write_bytes(b"a fine  film . \nthe wiki line\n")
    (d / "MR" / "rt-polarity.neg").write_bytes(b"a dull film .\n\n")
    (d / "CR").mkdir()
    (d / "CR" / "custrev.pos").write_bytes(b"a fine film .\ncaf\xe9 au lait\n")  # duplicate of MR; latin-1
    (d / "CR" / "custrev.neg").write_bytes(b"it broke .\n")
    (d / "TREC").mkdir()
    (d / "TREC" / "train_5500.label").write_bytes(b"DESC:manner How did it break ?\nHUM:ind Who made it ?\n")
    (d / "TREC" / "TREC_10.label").write_bytes(b"NUM:date When was it made ?\n")
    return root


def test_corpus_keeps_wiki_then_adds_new_transfer_sentences(tmp_path, repro_tools):
    root = _senteval(tmp_path / "data")
    wiki = tmp_path / "wiki.txt"
    wiki.write_text("The wiki line\n  spaced   line \n", encoding="utf-8")
    out = tmp_path / "c" / "corpus.txt"
    stats = repro_tools.build_corpus(wiki, out, ["mr", "cr", "trec"], root=str(root))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["The wiki line", "  spaced   line "]  # the wiki prefix byte for byte, first
    rest = lines[2:]
    assert sorted(rest) == sorted(["a fine film .", "the wiki line", "a dull film .", "café au lait", "it broke .",
                                   "How did it break ?", "Who made it ?", "When was it made ?"])
    assert stats["wiki_lines"] == 2 and stats["lines"] == len(lines) == 10
    assert stats["sets"]["mr"] == {"sentences": 4, "kept": 3, "dropped_duplicate_or_blank": 1}
    assert stats["sets"]["cr"]["kept"] == 2  # "a fine film ." was already there
    assert json.loads((tmp_path / "c" / "corpus.stats.json").read_text())["lines"] == 10


def test_meta_merges_nested_keys_and_parses_json(tmp_path, repro_tools):
    path = tmp_path / "grid.json"
    repro_tools.merge_meta(path, ['grid="cpu"', "settings.steps=12", "settings.lr=5e-5", "command=a b"])
    repro_tools.merge_meta(path, ["settings.seeds=42,43", "stages.train.seconds+=3", "stages.train.seconds+=4",
                                  "grid?=\"gpu\"", "first?=1", "cmds[]=a", "cmds[]=b c"])
    assert json.loads(path.read_text()) == {"grid": "cpu", "command": "a b", "first": 1, "cmds": ["a", "b c"], "settings": {
        "steps": 12, "lr": 5e-5, "seeds": "42,43"}, "stages": {"train": {"seconds": 7}}}
    with pytest.raises(SystemExit):
        repro_tools.merge_meta(path, ["novalue"])


def test_pack_negations_drops_empty_pairs_and_keeps_lines(tmp_path, repro_tools):
    import gzip

    from sncse.errors import DataError
    from sncse.negation.formats import format_pair

    src = tmp_path / "n.jsonl"
    lines = [format_pair("He runs.", "He does not run."), format_pair("not", ""), "\n",
             format_pair("Café \"au\" lait", "Not café")]
    src.write_text("".join(lines), encoding="utf-8")
    dst = tmp_path / "n.jsonl.gz"
    assert repro_tools.pack_negations(src, dst) == {"pairs": 2, "dropped_empty": 2}
    assert gzip.decompress(dst.read_bytes()).decode("utf-8") == lines[0] + lines[3]  # byte for byte
    (tmp_path / "bad.jsonl").write_text('["a", "b"]\n["a"]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.jsonl:2:"):
        repro_tools.pack_negations(tmp_path / "bad.jsonl", tmp_path / "bad.gz")


def test_corpus_lines_limit_keeps_the_first_lines(tmp_path, repro_tools):
    root = _senteval(tmp_path / "data")
    wiki = tmp_path / "wiki.txt"
    wiki.write_text("one\ntwo\nthree\n", encoding="utf-8")
    stats = repro_tools.build_corpus(wiki, tmp_path / "c.txt", ["mr", "cr"], root=str(root), lines=5)
    lines = (tmp_path / "c.txt").read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["one", "two", "three"] and len(lines) == 5 == stats["lines"] == stats["limited_to"]
    stats = repro_tools.build_corpus(wiki, tmp_path / "d.txt", ["mr"], root=str(root), lines=2)
    assert (tmp_path / "d.txt").read_text(encoding="utf-8") == "one\ntwo\n" and stats["sets"] == {}


def _search_run(search: Path, name: str, curve: list[tuple[int, float]]) -> None:
    run = search / name
    run.mkdir(parents=True)
    best_step, best = max(curve, key=lambda sv: (sv[1], -sv[0]))
    (run / "results.json").write_text(json.dumps({"best_step": best_step, "best_dev_stsb": best, "steps": curve[-1][0],
                                                  "train_seconds": 10.0, "wall_seconds": 12.0}))
    (run / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "dev_stsb": v}) + "\n" for s, v in curve))


def test_choose_takes_the_best_dev_then_the_cheaper_setting(tmp_path, repro_tools):
    search = tmp_path / "search"
    _search_run(search, "infonce-mean-s42-steps40-lr1e-5", [(10, 86.8), (20, 86.9), (40, 87.0)])
    _search_run(search, "infonce-mean-s42-steps40-lr1e-4", [(10, 87.4), (20, 87.2), (40, 86.1)])
    _search_run(search, "infonce-mean-s42-steps20-lr1e-4", [(10, 87.0), (20, 87.4)])  # ties: fewer steps win
    (search / "infonce-mean-s42-steps40-lr3e-5").mkdir()  # unfinished: no results.json
    chosen = repro_tools.choose_settings(search, search / "chosen.json")
    assert (chosen["steps"], chosen["lr"], chosen["chosen"]) == (20, "1e-4", "infonce-mean-s42-steps20-lr1e-4")
    assert len(chosen["candidates"]) == 3
    saved = json.loads((search / "chosen.json").read_text())
    assert saved["candidates"][0]["dev_curve"] and saved["lr"] == "1e-4"
    from sncse.errors import SncseError

    with pytest.raises(SncseError, match="no finished search run"):
        repro_tools.choose_settings(search / "infonce-mean-s42-steps40-lr3e-5", tmp_path / "x.json")


def test_source_site_exposes_packages_and_entry_points_without_pip(tmp_path, repro_tools):
    import subprocess
    import sys

    site = repro_tools.source_site(tmp_path / "site")
    assert (site / "sncse_cli").resolve() == (repro_tools.REPO / "cli").resolve()
    code = ("import importlib.metadata as md, sncse_cli, sncse; "
            "eps = {e.name for e in md.entry_points(group='sncse.losses')}; "
            "print(sncse_cli.__file__); print(sorted(eps))")
    # -S: no site-packages, so neither the editable install nor anything else can answer
    out = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].startswith(str(site)) and "bml.v1" in out[1] and "infonce.v1" in out[1]


def test_device_plan_measures_what_travels(tmp_path, repro_tools):
    import subprocess

    repo = tmp_path / "repo"
    (repo / ".device").mkdir(parents=True)
    (repo / ".device" / "w.bin").write_bytes(b"x" * 2048)
    (repo / "a.txt").write_text("tracked\n")
    (repo / ".gitignore").write_text(".device/\nruns/\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    plan = repro_tools.device_plan(tmp_path / "plan.json", repo=repo)
    assert plan["carry_bytes"][".device"] == 2048 and plan["missing"] == ["runs/repro-gpu/prepared"]
    assert not plan["fits"] and plan["command_chars"] == len(plan["device_command"]) < 2000
    assert plan["timeout_s"] > plan["time_budget_s"] and "--time-budget" in plan["device_command"]
    assert json.loads((tmp_path / "plan.json").read_text())["carry"] == [".device", "runs/repro-gpu/prepared"]


def test_step_cost_times_real_steps(tmp_path, data_root, repro_tools):
    from sncse.negation.formats import format_pair

    src = tmp_path / "n.jsonl"
    src.write_text("".join(format_pair(f"the cat sat on mat {i} .", f"the cat did not sit on mat {i} .")
                           for i in range(12)), encoding="utf-8")
    cost = repro_tools.step_cost(src, loss="bml", batch=4, steps=3, encoder="tiny-bert")
    assert cost["step_cpu_seconds"] > 0 and cost["dev_cpu_seconds"] > 0 and cost["threads"] == 1
    assert cost["dev_sentences"] > 2000  # the STS-B dev sentences, each once
