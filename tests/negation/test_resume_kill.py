"""A run killed with SIGKILL mid-way resumes to exactly the uninterrupted output."""

from __future__ import annotations

from sncse.negation import driver


def _count_lines(path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_sigkill_then_resume_equals_uninterrupted(tmp_path, wiki_lines, runner, cli_app, sigkill_when):
    lines = wiki_lines[1000:1500]
    lines[10:10] = ["", "  "]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "killed.jsonl"
    _, branches, _ = driver.partial_paths(out)

    sigkill_when(["-q", "negate", str(src), "-o", str(out), "--chunk-size", "10", "--batch-size", "8"],
                 lambda: _count_lines(branches) >= 60)
    done = _count_lines(branches)
    assert 60 <= done < len(lines)
    assert not out.exists()  # nothing at the output path until the run is complete

    result = runner.invoke(cli_app, ["-q", "negate", str(src), "-o", str(out), "--resume", "--json", "-",
                                     "--chunk-size", "10"])
    assert result.exit_code == 0, result.output
    import json

    stats = json.loads(result.stdout)
    assert stats["resumed_from_line"] >= 60 and stats["lines_this_run"] == len(lines) - stats["resumed_from_line"]

    full = tmp_path / "full.jsonl"
    result = runner.invoke(cli_app, ["-q", "negate", str(src), "-o", str(full)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == full.read_bytes()
    assert len(out.read_bytes().splitlines()) == len(lines)
