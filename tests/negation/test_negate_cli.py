"""``sncse negate`` through Typer's CliRunner; workers; exit codes; the registry's Python API."""

from __future__ import annotations

import json

import pytest


def test_cli_json_stats(runner, cli_app, tmp_path, faithful):
    src = tmp_path / "in.txt"
    lines = ["He likes apples.", "He is not here.", "", "Close the door."]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "neg.jsonl"
    result = runner.invoke(cli_app, ["-q", "negate", str(src), "-o", str(out), "--json", "-"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["branches"]["root_vbz"] == 1 and stats["branches"]["blank"] == 1
    assert stats["lines_written"] == 4 and stats["mode"] == "faithful" and stats["backend"] == "spacy.v1"
    expected = [[r.sentence, r.negation] for r in faithful.negate_with_branches(lines)]
    assert [json.loads(x) for x in out.read_text().splitlines()] == expected


def test_cli_gz_output_is_gzip_and_reads_back(runner, cli_app, tmp_path):
    """An output named *.gz is gzip-compressed, holds the same lines as the plain output, and is what
    the trainer's negation reader takes."""
    import gzip

    from sncse.data.corpus import iter_negation_pairs

    src = tmp_path / "in.txt"
    src.write_text("He likes apples.\nShe was here.\n", encoding="utf-8")
    plain, packed = tmp_path / "neg.jsonl", tmp_path / "neg.jsonl.gz"
    for out in (plain, packed):
        result = runner.invoke(cli_app, ["-q", "negate", str(src), "-o", str(out)])
        assert result.exit_code == 0, result.output
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert list(iter_negation_pairs(packed)) == list(iter_negation_pairs(plain)) != []
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name or p.name.endswith(".tmp")]


def test_cli_table_output_improved(runner, cli_app, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("He likes apples.\n\nI can't swim.\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["negate", str(src), "--mode", "improved"])
    assert result.exit_code == 0, result.output
    assert "negation_removed" in result.stdout and "do_support" in result.stdout
    assert "lines/s" in result.stdout
    pairs = [json.loads(x) for x in (tmp_path / "in.negations.jsonl").read_text().splitlines()]
    assert pairs == [["He likes apples.", "He does not like apples."], ["I can't swim.", "I can swim."]]


def test_cli_workers_keep_order(runner, cli_app, tmp_path, wiki_lines, faithful):
    lines = wiki_lines[200:260]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "w2.jsonl"
    result = runner.invoke(cli_app, ["-q", "negate", str(src), "-o", str(out), "--workers", "2",
                                     "--chunk-size", "7", "--batch-size", "4", "--json", "-"])
    assert result.exit_code == 0, result.output
    expected = "".join(json.dumps([r.sentence, r.negation]) + "\n" for r in faithful.negate_with_branches(lines))
    assert out.read_text() == expected
    assert json.loads(result.stdout)["workers"] == 2


@pytest.mark.parametrize(("args", "needle"), [
    (["{tmp}/missing.txt"], "missing.txt"),
    (["{tmp}/in.txt", "-o", "{tmp}/no/such/dir/out.jsonl"], "no/such/dir"),
    (["{tmp}/bad.txt"], "bad.txt:2:"),
    (["{tmp}/bad.txt"], "invalid UTF-8 at byte 0 of the line (option --errors replace substitutes U+FFFD)"),
    (["{tmp}/in.txt", "--mode", "creative"], "unknown"),
    (["{tmp}/in.txt", "--backend", "nosuch"], "available:"),
    (["{tmp}/in.txt", "--errors", "ignore"], "unknown errors value 'ignore'; choose one of: strict, replace (option --errors)"),
])
def test_cli_bad_input_exits_2_with_one_line(runner, cli_app, tmp_path, args, needle):
    (tmp_path / "in.txt").write_text("He runs.\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xc3\x28 broken\n")
    result = runner.invoke(cli_app, ["negate", *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert result.output.strip().startswith("error:")


def test_cli_errors_replace(runner, cli_app, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xc3\x28 broken\n")
    result = runner.invoke(cli_app, ["-q", "negate", str(tmp_path / "bad.txt"), "--errors", "replace", "--json", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["lines_written"] == 2


def test_registry_python_api(faithful):
    from sncse import registry
    from sncse.negation import Negator

    cls = registry.get("negators", "spacy")
    neg = cls(mode="faithful")
    assert isinstance(neg, Negator)
    assert neg.negate(["Tom and Jerry became good friends.", ""]) == [
        "Tom and Jerry did not become good friends .", "Not"]
    assert registry.get("negators", "spacy.v1") is cls
    improved = cls(mode="improved")
    assert improved.negate(["He doesn't like it."]) == ["He does like it."]
    with pytest.raises(Exception, match="mode"):
        cls(mode="creative")


def test_minimal_negators_get_a_branch_view_and_only_the_options_they_take():
    from sncse.errors import SncseError
    from sncse.negation import PLAIN_BRANCH, negate_with_branches
    from sncse.negation.parallel import _accepted

    class Upper:
        def __init__(self, mode="faithful"):
            self.mode = mode

        def negate(self, sentences):
            return ["NOT " + s.upper() for s in sentences]

    res = negate_with_branches(Upper(), ["  a cat  ", ""])
    assert [(r.sentence, r.negation, r.branch) for r in res] == [("a cat", "NOT A CAT", PLAIN_BRANCH),
                                                                  ("", "NOT ", PLAIN_BRANCH)]
    assert _accepted(Upper, {"mode": "improved", "batch_size": 8}) == {"mode": "improved"}

    class Broken(Upper):
        def negate(self, sentences):
            return []

    with pytest.raises(SncseError, match="returned 0 negations for 1"):
        negate_with_branches(Broken(), ["x"])
