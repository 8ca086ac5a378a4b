"""Nothing the user has is lost: every command, run for real, refuses what would overwrite its inputs or
its own outputs, reports bad input in one line with exit 2, leaves no orphan processes, writes folders
others may read and only valid JSON. Each failing call is checked to leave every file as it was.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = str(REPO / "configs" / "tiny.yaml")
SENTENCES = ["A man is playing a guitar.", "The cat sat on the mat.", "She has finished her work.",
             "They were walking to the station.", "He runs every morning.", "The sky is blue today."]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes: what a failed call must not change (nor add to)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def one_error_line(output: str) -> str:
    lines = [x for x in output.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert "internal error" not in lines[0] and "Traceback" not in output, output
    return lines[0]


def refused(runner, cli_app, args: list[str], root: Path, needle: str) -> str:
    """Run ``sncse -q ARGS``; assert exit 2, one ``error:`` line holding ``needle`` and no file changed."""
    before = snapshot(root)
    result = runner.invoke(cli_app, ["-q", *args])
    assert result.exit_code == 2, result.output
    line = one_error_line(result.output)
    assert needle in line, line
    assert snapshot(root) == before, f"files changed by {args}"
    return line


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A saved tiny random BERT (a model folder of the user's)."""
    import sncse

    path = tmp_path_factory.mktemp("models") / "tiny"
    sncse.load("tiny-bert", device="cpu").save(path)
    return path


@pytest.fixture()
def work(tmp_path: Path, tiny_model: Path, monkeypatch) -> Path:
    """A folder of the user's files: a corpus, scored pairs, a config, a model, shards, earlier outputs."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus.txt").write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    (tmp_path / "pairs.tsv").write_text("sentence1\tsentence2\tscore\n" + "".join(
        f"{a}\t{b}\t{i}\n" for i, (a, b) in enumerate(zip(SENTENCES[:-1], SENTENCES[1:], strict=True))), encoding="utf-8")
    (tmp_path / "c.yaml").write_text("train:\n  seed: 3\n", encoding="utf-8")
    (tmp_path / "earlier.jsonl").write_text('["kept", "not kept"]\n', encoding="utf-8")
    for k in (1, 2):
        (tmp_path / f"e.shard-{k}-of-2.npy").write_bytes(b"shard bytes")
        (tmp_path / f"e.shard-{k}-of-2.npy.json").write_text("{}", encoding="utf-8")
    (tmp_path / "a.tar").write_bytes(b"archive")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "x").write_text("x", encoding="utf-8")
    import shutil

    shutil.copytree(tiny_model, tmp_path / "model")
    return tmp_path


# ------------------------------------------------------------------ an output over an input or another output
OVERWRITES = [
    # every command, the paths it writes against what it reads and against each other
    (["negate", "corpus.txt", "-o", "out.jsonl", "--json", "corpus.txt"], "corpus.txt: --json would overwrite the input"),
    (["negate", "corpus.txt", "-o", "earlier.jsonl", "--json", "earlier.jsonl"], "--json and the output"),
    (["negate", "corpus.txt", "-o", "corpus.txt"], "the output would overwrite the input"),
    (["negate", "corpus.txt", "-o", "x.jsonl", "--json", "x.stats.json"], "--json and the statistics file"),
    (["negate", "corpus.txt", "-o", "x.jsonl", "--json", "folder"], "folder: is a directory, but --json is a file"),
    (["encode", "tiny-bert", "corpus.txt", "-o", "e.npy", "--json", "e.npy"], "--json and the output"),
    (["encode", "tiny-bert", "corpus.txt", "-o", "e.npy", "--json", "e.npy.json"], "--json and the sidecar"),
    (["encode", "model", "corpus.txt", "-o", "e.npy", "--json", "model/config.json"],
     "--json would overwrite a file of the model"),
    (["merge-embeddings", "e.shard-1-of-2.npy", "e.shard-1-of-2.npy", "e.shard-2-of-2.npy"],
     "the output would overwrite a shard"),
    (["merge-embeddings", "e.npy", "e.shard-1-of-2.npy", "e.shard-2-of-2.npy", "--json",
      "e.shard-2-of-2.npy.json"], "--json would overwrite a shard's sidecar"),
    (["search", "tiny-bert", "--corpus", "corpus.txt", "--query", "a cat", "--json", "corpus.txt"],
     "--json would overwrite the corpus"),
    (["search", "tiny-bert", "--corpus", "corpus.txt", "--queries", "pairs.tsv", "--json", "pairs.tsv"],
     "--json would overwrite the queries"),
    (["train", "-c", TINY, "--data", "corpus.txt", "-o", "run", "--json", "corpus.txt"],
     "--json would overwrite the training data"),
    (["train", "-c", "c.yaml", "--data", "corpus.txt", "-o", "run", "--json", "c.yaml"],
     "--json would overwrite the config file"),
    (["train", "-c", TINY, "--data", "corpus.txt", "-o", "run", "--json", "run/config.yaml"],
     "--json and the run's config.yaml"),
    (["eval", "model", "--pairs", "pairs.tsv", "--json", "pairs.tsv"], "--json would overwrite a pairs file"),
    (["eval", "model", "--pairs", "pairs.tsv", "--json", "r.json", "--pair-scores", "r.json", "--tasks", "stsb"],
     "--json and the per-pair scores"),
    (["analyze", "--compare", "pairs.tsv", "--against", "c.yaml", "--json", "c.yaml"],
     "--json would overwrite a compared run"),
    (["analyze", "--sweep", "folder", "--json", "x.json", "--csv", "x.json"], "--json and --csv"),
    (["export", "model", "-o", "model", "--overwrite"], "the export would overwrite the model exported"),
    (["export", "model", "-o", ".", "--overwrite"], "the export is replaced as a whole, but the model exported"),
    (["plugins", "list", "--json", "folder"], "folder: is a directory, but --json is a file"),
    (["config", "show", "--config", "c.yaml", "--json", "c.yaml"], "--json would overwrite the config file"),
    (["data", "download", "--archive", "a.tar", "--json", "a.tar"], "--json would overwrite the archive"),
    (["data", "check", "--json", "corpus.txt/check.json"], "corpus.txt: is a file, so --json"),
]


@pytest.mark.parametrize(("args", "needle"), OVERWRITES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in OVERWRITES])
def test_no_output_overwrites_an_input_or_another_output(runner, cli_app, work, args, needle):
    refused(runner, cli_app, args, work, needle)


def test_links_are_resolved(runner, cli_app, work):
    """A symbolic link or a hard link to the input is the input."""
    (work / "soft.json").symlink_to(work / "corpus.txt")
    os.link(work / "corpus.txt", work / "hard.json")
    for name in ("soft.json", "hard.json"):
        refused(runner, cli_app, ["negate", "corpus.txt", "-o", "o.jsonl", "--json", name], work,
                "--json would overwrite the input")


def test_eval_json_may_name_the_runs_own_result_file(runner, cli_app, work):
    """`sncse eval RUN --json RUN/eval_<mode>.json` names the file eval keeps in the run anyway: one write."""
    import shutil

    shutil.copytree(work / "model", work / "run" / "best")
    result = runner.invoke(cli_app, ["-q", "eval", "run", "--pairs", "pairs.tsv", "--json", "run/eval_pairs.json"])
    assert result.exit_code == 0, result.output
    assert json.loads((work / "run" / "eval_pairs.json").read_text())["tasks"]["pairs"]["pairs"] == 5


# ------------------------------------------------------------------ bad input: one line naming the file, exit 2
def _shards(work: Path) -> None:
    """Two real shards of one `sncse encode --shard K/2` run over the corpus."""
    from sncse.embed import encode_file

    for k in (1, 2):
        encode_file("tiny-bert", work / "corpus.txt", work / "e.npy", shard=f"{k}/2", chunk_size=2, device="cpu")


BAD_INPUT = [
    ("gzip cut short", ["negate", "cut.txt.gz", "-o", "o.jsonl"], "cut.txt.gz:"),
    ("weights cut short", ["encode", "model", "corpus.txt", "-o", "e.npy"], "model/model.safetensors: cannot read"),
    ("npy cut short", ["merge-embeddings", "m.npy", "e.shard-1-of-2.npy", "e.shard-2-of-2.npy"],
     "e.shard-2-of-2.npy: not a whole .npy array"),
    ("npy rows against sidecar", ["merge-embeddings", "m.npy", "e.shard-1-of-2.npy", "e.shard-2-of-2.npy"],
     "e.shard-1-of-2.npy: holds float32 rows of shape (4, 64), its sidecar says float32 (2, 64)"),
    ("negative learning rate", ["train", "-c", TINY, "--data", "corpus.txt", "-o", "run", "--set", "optim.lr=-1"],
     "--set: key 'optim.lr': must be >= 0, got -1.0"),
    ("a GPU this machine lacks", ["encode", "tiny-bert", "corpus.txt", "-o", "e.npy", "--device", "cuda:99"],
     "device 'cuda:99' is not available"),
    ("a GPU this machine lacks (train)", ["train", "-c", TINY, "--data", "corpus.txt", "-o", "run", "--set",
                                          "train.device=cuda:99"], "device 'cuda:99' is not available"),
    ("a file where the output folder goes", ["negate", "corpus.txt", "-o", "c.yaml/out.jsonl"],
     "c.yaml: is a file, so the output"),
    ("a file where the export folder goes", ["export", "model", "-o", "c.yaml"], "c.yaml: exists and is not a directory, but the export is one"),
    ("a file where the figure folder goes", ["analyze", "--sweep", "folder", "--out", "c.yaml"],
     "c.yaml: is a file, so the figure"),
]
if os.geteuid() != 0:  # permissions do not bind the superuser
    BAD_INPUT.append(("a read-only folder", ["negate", "corpus.txt", "-o", "ro/out.jsonl"],
                      "ro: directory is not writable"))


@pytest.mark.parametrize(("case", "args", "needle"), BAD_INPUT, ids=[c for c, _, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(runner, cli_app, work, case, args, needle):
    if case == "gzip cut short":
        whole = gzip.compress(("\n".join(SENTENCES * 50) + "\n").encode())
        (work / "cut.txt.gz").write_bytes(whole[: len(whole) // 2])
    elif case == "weights cut short":
        weights = work / "model" / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
    elif case.startswith("npy"):
        _shards(work)
        if case == "npy cut short":
            shard = work / "e.shard-2-of-2.npy"
            shard.write_bytes(shard.read_bytes()[:200])
        else:  # shard 1's sidecar describes fewer rows than its array holds
            car = json.loads((work / "e.shard-1-of-2.npy.json").read_text())
            (work / "e.shard-1-of-2.npy").write_bytes((work / "e.shard-2-of-2.npy").read_bytes())
            assert car["count"] == 2
    elif case == "a read-only folder":
        (work / "ro").mkdir(mode=0o555)
    line = refused(runner, cli_app, args, work, needle)
    if case == "gzip cut short":
        assert "cut short or corrupt" in line and line.split(":")[2].strip().isdigit()  # file:line:


# ------------------------------------------------------------------ no orphans
def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(x) for x in (task / "children").read_text().split()]
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits to be collected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_workers_end_when_the_parent_is_killed(tmp_path, data_root):
    """kill -9 of `sncse negate --workers 2` mid-run: both workers are gone within a few seconds."""
    src = tmp_path / "in.txt"
    src.write_text("\n".join(SENTENCES * 800) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", "from sncse_cli.main import main; main()", "-q", "negate", str(src),
                             "-o", str(out), "--workers", "2", "--chunk-size", "50"],
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    partial = tmp_path / ".out.jsonl.partial"
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while proc.poll() is None and time.monotonic() < deadline:
            workers = [c for c in _children(proc.pid) if _running(c)]
            if len(workers) >= 2 and partial.exists() and partial.stat().st_size:
                break
            time.sleep(0.02)
        assert proc.poll() is None and len(workers) >= 2, f"not killed mid-run: {proc.stderr.read()!r}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(_running(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [w for w in workers if _running(w)]
        for w in alive:  # do not leave them to the next test
            os.kill(w, signal.SIGKILL)
        assert not alive, f"workers {alive} outlived their parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ folders as readable as the umask says
def test_exported_folder_gets_the_umask_mode(runner, cli_app, work):
    old = os.umask(0o027)
    try:
        result = runner.invoke(cli_app, ["-q", "export", "model", "-o", "exp", "--format", "hf", "--no-verify"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert (work / "exp").stat().st_mode & 0o777 == 0o750
    assert {(p.stat().st_mode & 0o777) for p in (work / "exp").iterdir() if p.is_file()} == {0o640}


# ------------------------------------------------------------------ valid JSON only
def _strict_json(text: str) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_an_undefined_dev_score_is_null_and_selects_nothing(runner, cli_app, work, data_root):
    """A --dev-file whose scores are all equal has no Spearman correlation: the records say null, no
    checkpoint is selected on it, and the log says why."""
    (work / "flat.tsv").write_text("sentence1\tsentence2\tscore\n" + "".join(
        f"{a}\t{b}\t3\n" for a, b in zip(SENTENCES[:-1], SENTENCES[1:], strict=True)), encoding="utf-8")
    (work / "corpus.txt").write_text("\n".join(SENTENCES * 4) + "\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["train", "-c", TINY, "--data", "corpus.txt", "-o", "run", "--dev-file",
                                     "flat.tsv", "--json", "r.json", "--set", "train.batch_size=4", "--set",
                                     "train.max_steps=2", "--set", "train.eval_steps=1", "--set", "data.limit=null"])
    assert result.exit_code == 0, result.output
    assert "dev_flat is undefined" in " ".join(result.output.split())
    results = _strict_json((work / "run" / "results.json").read_text())
    assert results["best_step"] is None and results["best_dev"] is None
    assert _strict_json((work / "r.json").read_text()) == results
    evals = [_strict_json(x) for x in (work / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["dev_flat"] for r in evals if "dev_file" in r] == [None, None]
    assert not (work / "run" / "best").exists() and (work / "run" / "last").is_dir()
    result = runner.invoke(cli_app, ["-q", "eval", "model", "--pairs", "flat.tsv", "--json", "e.json"])
    assert result.exit_code == 0, result.output
    assert _strict_json((work / "e.json").read_text())["tasks"]["flat"]["spearman"] is None


# ------------------------------------------------------------------ hints and bounds that fit the command
BOUNDS = [
    (["encode", "tiny-bert", "corpus.txt", "-o", "e.npy", "-b", "0"], "--batch-size must be at least 1, got 0"),
    (["encode", "tiny-bert", "corpus.txt", "-o", "e.npy", "-b", "-1"], "--batch-size must be at least 1, got -1"),
    (["search", "tiny-bert", "--corpus", "corpus.txt", "--query", "a", "-b", "0"], "--batch-size must be at least 1"),
    (["eval", "model", "--pairs", "pairs.tsv", "-b", "0"], "--batch-size must be at least 1, got 0"),
    (["analyze", "model", "--top", "3", "stsb", "-b", "0"], "--batch-size must be at least 1, got 0"),
    (["negate", "corpus.txt", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["eval", "model", "--pairs", "pairs.tsv", "--limit", "0"], "--limit must be at least 1, got 0"),
    (["search", "tiny-bert", "--corpus", "corpus.txt", "--query", ""], "--query is empty"),
    (["search", "tiny-bert", "--corpus", "corpus.txt", "--query", "a", "--query", " "], "--query is empty"),
]


@pytest.mark.parametrize(("args", "needle"), BOUNDS, ids=[" ".join(a[:1] + a[-2:]) for a, _ in BOUNDS])
def test_bounds_are_the_same_in_every_command(runner, cli_app, work, args, needle):
    refused(runner, cli_app, args, work, needle)


def test_hints_name_only_options_the_command_has(runner, cli_app, work):
    (work / "bad.txt").write_bytes(b"ok\n\xc3\x28 broken\n")
    (work / "bad.tsv").write_text("sentence1\tsentence2\tscore\na\tb\thigh\nc\td\t2\n", encoding="utf-8")
    line = refused(runner, cli_app, ["negate", "bad.txt"], work, "bad.txt:2: invalid UTF-8")
    assert line.endswith("(option --errors replace substitutes U+FFFD)")
    for args in (["encode", "tiny-bert", "bad.txt", "-o", "e.npy"],
                 ["search", "tiny-bert", "--corpus", "bad.txt", "--query", "a"],
                 ["train", "-c", TINY, "--data", "bad.txt", "-o", "run"]):
        line = refused(runner, cli_app, args, work, "bad.txt:2: invalid UTF-8")
        assert "errors" not in line.split("invalid UTF-8")[1], line
    line = refused(runner, cli_app, ["eval", "model", "--pairs", "bad.tsv"], work, "bad.tsv:2: score 'high'")
    assert line.endswith("(option --skip-bad-rows skips such rows)")
    line = refused(runner, cli_app, ["train", "-c", TINY, "--data", "corpus.txt", "-o", "run", "--dev-file",
                                     "bad.tsv"], work, "bad.tsv:2: score 'high'")
    assert "skip" not in line, line


def test_a_model_that_fails_to_load_leaves_nothing_to_resume(runner, cli_app, work):
    refused(runner, cli_app, ["negate", "corpus.txt", "-o", "o.jsonl", "--model", "no_such_pipeline"], work,
            "spaCy model 'no_such_pipeline' is not installed")
