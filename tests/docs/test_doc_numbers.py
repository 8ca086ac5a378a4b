"""Every measured number in docs/benchmarks.md and docs/results.md comes from a committed JSON.

The convention: a block of measured numbers starts with a line ``<!-- source: PATH -->`` naming the
JSON (path from the repository root) the numbers come from; every number in the prose and table lines
after it, up to the next ``<!-- source: ... -->`` line or heading, must be a value of that JSON as
printed (rounded to the digits shown; a percentage may be a fraction x 100; ``6 min 26 s`` is 386
seconds). Fenced code blocks (commands) are not checked. Outside a source block, a table row with a
number, or a number with a decimal point in the prose, is a measured number without a source.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from doclib import REPO, json_numbers, matches, numbers_in, rel

CHECKED = [REPO / "docs" / "benchmarks.md", REPO / "docs" / "results.md"]
SOURCE = re.compile(r"^\s*<!--\s*source:\s*(.+?)\s*-->\s*$")


def problems(doc: Path) -> list[str]:
    out: list[str] = []
    sources: list[str] | None = None
    values: list[float] = []
    source_line = 0
    fence = None
    for n, text in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{rel(doc)}:{n}"
        stripped = text.strip()
        m = re.match(r"^(```+|~~~+)", stripped)
        if m:
            fence = None if fence and stripped.startswith(fence) else (fence or m.group(1))
            continue
        if fence:
            continue
        if stripped.startswith("#"):
            sources, values = None, []
            continue
        s = SOURCE.match(text)
        if s:
            sources, values, source_line = [p.strip() for p in s.group(1).split(",")], [], n
            for path in sources:
                file = REPO / path
                if not file.is_file():
                    out.append(f"{where}: source {path} does not exist (paths are from the repository root)")
                    continue
                try:
                    values += json_numbers(json.loads(file.read_text(encoding="utf-8")))
                except json.JSONDecodeError as exc:
                    out.append(f"{where}: source {path} is not JSON ({exc})")
            continue
        if stripped.startswith("<!--") or re.fullmatch(r"\|?[\s:|-]+\|?", stripped or "x"):
            continue
        found = numbers_in(text)
        if sources is None:
            if stripped.startswith("|") and found:
                out.append(f"{where}: a table row of numbers ({', '.join(x.text for x in found[:4])}) with no "
                           "`<!-- source: PATH -->` line above it in this section")
            else:
                out += [f"{where}: {x.text} is a measured number with no `<!-- source: PATH -->` line above it "
                        "in this section" for x in found if x.decimals and not x.scientific or x.scientific]
            continue
        for x in found:
            if not matches(x, values):
                out.append(f"{where}: {x.text} is not a value of {', '.join(sources)} "
                           f"(the source named at line {source_line})")
    return out


@pytest.mark.parametrize("doc", CHECKED, ids=lambda p: p.name)
def test_numbers_come_from_committed_json(doc: Path) -> None:
    found = problems(doc)
    assert not found, f"{len(found)} number(s) without a matching source:\n" + "\n".join(found)


def test_the_check_catches_a_wrong_number(tmp_path: Path) -> None:
    src = REPO / "bench" / "results" / "eval_minilm_sts.json"
    assert src.is_file()
    doc = tmp_path / "page.md"
    doc.write_text(f"## A\n\n<!-- source: {rel(src)} -->\n\n| task | score |\n|---|---|\n| sts12 | 72.37 |\n"
                   "| avg | 78.88 |\n\n## B\n\n| x | 1.5 |\n\nProse 2.25 s.\n", encoding="utf-8")
    found = problems(doc)
    assert len(found) == 3, found
    assert "78.88 is not a value of bench/results/eval_minilm_sts.json" in found[0]
    assert "page.md:12" in found[1] and "table row" in found[1]
    assert "2.25 is a measured number" in found[2]
