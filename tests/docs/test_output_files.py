"""The files docs/outputs.md says each command writes are the files it writes, checked on a tiny real run.

Each ``<!-- sncse:files NAME -->`` table in docs/outputs.md lists paths in its first column (a
placeholder first part: ``RUN/``, ``CACHE/``, ``OUTPUT``, ``JSON``, ``MTEB/``; ``X/*`` stands for the
Hugging Face files inside a folder). Every listed path must exist after the command ran, and every file
or folder the command wrote must be listed.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
from doclib import REPO

OUTPUTS = REPO / "docs" / "outputs.md"


def documented() -> dict[str, list[tuple[int, str]]]:
    """{table name: [(line, path), ...]} from the marked tables of docs/outputs.md."""
    tables: dict[str, list[tuple[int, str]]] = {}
    current = None
    for n, text in enumerate(OUTPUTS.read_text(encoding="utf-8").splitlines(), start=1):
        m = re.match(r"^\s*<!--\s*sncse:files\s+(\w+)\s*-->", text)
        if m:
            current = tables.setdefault(m.group(1), [])
            continue
        if current is None:
            continue
        if not text.startswith("|"):
            if text.strip() and current:
                current = None
            continue
        cell = text.split("|")[1].strip()
        code = re.match(r"^`([^`]+)`", cell)
        if code and code.group(1) != "file":
            current.append((n, code.group(1)))
    return tables


def listing(base: Path, prefix: str, depth: int = 2) -> set[str]:
    """Every file and folder under ``base`` (folders with a trailing /), as PREFIX/relative/path."""
    out = set()
    for p in base.rglob("*"):
        rel = p.relative_to(base)
        if len(rel.parts) > depth:
            continue
        out.add(f"{prefix}{rel.as_posix()}{'/' if p.is_dir() else ''}")
    return out


def compare(table: str, written: set[str], rename: dict[str, str] | None = None) -> list[str]:
    """Problems between the doc's table ``table`` and the paths ``written`` (placeholders substituted)."""
    rows = documented()[table]
    problems = []
    patterns = []
    for line, path in rows:
        for k, v in (rename or {}).items():
            path = path.replace(k, v)
        pattern = re.sub(r"<[^>]+>", "*", path)
        patterns.append(pattern)
        if not any(fnmatch.fnmatchcase(w, pattern) for w in written):
            problems.append(f"docs/outputs.md:{line}: `{path}` is documented but the command did not write it")
    for w in sorted(written):
        if not any(fnmatch.fnmatchcase(w, p) for p in patterns):
            problems.append(f"docs/outputs.md ({table} table): the command wrote `{w}`, which the table does not list")
    return problems


def test_tables_are_there() -> None:
    tables = documented()
    assert set(tables) >= {"train", "cache", "negate", "eval"}
    assert all(tables.values())


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, data_root: Path) -> Path:
    """A real 4-step tiny-bert run with TensorBoard, evaluated with `sncse eval RUN`."""
    from sncse_cli.main import app
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("outputs")
    corpus = out / "corpus.txt"
    lines = (data_root / "corpus" / "wiki1m_head.txt").read_text(encoding="utf-8").splitlines()[:64]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    (out / "neg").mkdir()
    neg = runner.invoke(app, ["negate", str(corpus), "-o", str(out / "neg" / "corpus.negations.jsonl")])
    assert neg.exit_code == 0, neg.output
    run = out / "runs" / "tiny"
    train = runner.invoke(app, ["train", "-c", str(REPO / "configs" / "tiny.yaml"), "--loss", "bml",
                                "--data", str(out / "neg" / "corpus.negations.jsonl"), "-o", str(run),
                                "--set", "train.max_steps=4", "--set", "train.batch_size=16",
                                "--set", "train.eval_steps=2", "--set", "train.eval_limit=50",
                                "--set", "train.tensorboard=true"])
    assert train.exit_code == 0, train.output
    ev = runner.invoke(app, ["eval", str(run), "--tasks", "stsb"])  # a run: also RUN/eval_test.json
    assert ev.exit_code == 0, ev.output
    ev = runner.invoke(app, ["eval", str(run), "--tasks", "sts", "--limit", "4", "--json",
                             str(out / "eval" / "result.json"), "--format", "mteb", "--out", str(out / "mteb")])
    assert ev.exit_code == 0, ev.output
    return out


def test_run_directory_is_as_documented(tiny_run: Path) -> None:
    problems = compare("train", listing(tiny_run / "runs" / "tiny", "RUN/"))
    assert not problems, "\n".join(problems)


def test_token_cache_is_as_documented(tiny_run: Path) -> None:
    problems = compare("cache", listing(tiny_run / "runs" / ".sncse_cache", "CACHE/"))
    assert not problems, "\n".join(problems)


def test_negate_outputs_are_as_documented(tiny_run: Path) -> None:
    written = {p.replace("corpus.negations", "OUTPUT") for p in listing(tiny_run / "neg", "")}
    problems = compare("negate", written)
    assert not problems, "\n".join(problems)


def test_eval_outputs_are_as_documented(tiny_run: Path) -> None:
    written = {"JSON"} if (tiny_run / "eval" / "result.json").is_file() else set()
    written |= listing(tiny_run / "mteb", "MTEB/")
    problems = compare("eval", written)
    assert not problems, "\n".join(problems)


def test_the_comparison_catches_both_directions() -> None:
    problems = compare("negate", {"OUTPUT.jsonl", "OUTPUT.extra.json"})
    assert any("OUTPUT.stats.json` is documented but" in p for p in problems)
    assert any("wrote `OUTPUT.extra.json`" in p for p in problems)
