"""Negations as a Hugging Face dataset: ``negation_dataset`` from sentences (negated by a real spaCy parse)
or from each format ``sncse negate`` writes, and the named-column formats reading straight into
``datasets.load_dataset``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("sentence_transformers")
datasets = pytest.importorskip("datasets")

from sncse.data.corpus import iter_negation_pairs, read_training_file  # noqa: E402
from sncse.errors import DataError  # noqa: E402
from sncse.st import negation_dataset  # noqa: E402

COLUMNS = ["anchor", "positive", "soft_negative"]
LINES = ["Tom and Jerry became good friends.", "", "He   is here.", "Close the door.", "I can't swim."]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """``sncse negate`` of LINES in every format, through the CLI."""
    from sncse_cli.main import app
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("negate")
    src = folder / "in.txt"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = {}
    for fmt, name in (("pairs", "neg.jsonl"), ("records", "neg.records.jsonl"), ("parquet", None)):
        args = ["-q", "negate", str(src), "--format", fmt] + (["-o", str(folder / name)] if name else [])
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        out[fmt] = folder / name if name else folder / "in.negations.parquet"
    out["text"] = src
    return out


def test_named_formats_load_with_datasets_and_hold_the_pairs(outputs, tmp_path: Path) -> None:
    pairs = [json.loads(x) for x in outputs["pairs"].read_text(encoding="utf-8").splitlines()]
    assert pairs[0] == ["Tom and Jerry became good friends.", "Tom and Jerry did not become good friends ."]
    expected = {"anchor": [s for s, _ in pairs], "positive": [s for s, _ in pairs], "soft_negative": [n for _, n in pairs]}
    for fmt, loader in (("records", "json"), ("parquet", "parquet")):
        ds = datasets.load_dataset(loader, data_files=str(outputs[fmt]), split="train", cache_dir=str(tmp_path / fmt))
        assert ds.column_names == COLUMNS and ds.to_dict() == expected, fmt
    assert (outputs["parquet"].parent / "in.negations.stats.json").exists()
    # the records lines are a training file as they are, read like the pairs
    assert list(iter_negation_pairs(outputs["records"])) == list(iter_negation_pairs(outputs["pairs"]))
    assert read_training_file(outputs["records"]).negation == read_training_file(outputs["pairs"]).negation


def test_every_source_gives_the_same_dataset(outputs) -> None:
    """Sentences (a list or a text file, negated here) and each negate output give one dataset: the
    training reader's strings (whitespace collapsed, the blank line skipped)."""
    from_list = negation_dataset(LINES)
    assert from_list.column_names == COLUMNS and len(from_list) == 4  # the blank line skipped
    assert from_list[1] == {"anchor": "He is here.", "positive": "He is here.", "soft_negative": "He is not here ."}
    for kind in ("text", "pairs", "records", "parquet"):
        assert negation_dataset(outputs[kind]).to_dict() == from_list.to_dict(), kind


def test_improved_mode_and_a_kept_output(tmp_path: Path) -> None:
    kept = tmp_path / "kept.jsonl"
    ds = negation_dataset(["I can't swim.", "He likes apples."], mode="improved", output=kept)
    assert ds["soft_negative"] == ["I can swim.", "He does not like apples."]
    assert [json.loads(x)[1] for x in kept.read_text(encoding="utf-8").splitlines()] == ds["soft_negative"]


def _parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"sentence": ["a"], "negation": ["not a"]}), path)


BAD_SOURCES = {
    "missing.txt": (None, "no such file"),
    "nli.csv": ("sent0,sent1,hard_neg\na,b,c\n", "NLI triplets"),
    "other.parquet": (_parquet, "expected the columns anchor, positive, soft_negative, found sentence, negation"),
    "bad.jsonl": ('{"anchor": "a", "positive": "b", "soft_negative": "not a"}\n',
                  r"bad.jsonl:1: .*positive differs from its anchor"),
}


@pytest.mark.parametrize("name", sorted(BAD_SOURCES))
def test_bad_sources_are_named(tmp_path: Path, name: str) -> None:
    content, message = BAD_SOURCES[name]
    path = tmp_path / name
    if callable(content):
        content(path)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        negation_dataset(path)
