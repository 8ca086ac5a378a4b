"""`sncse data check` and `sncse data download`: counts vs the papers, missing files, offline failure."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from sncse.data.check import check_data, summary
from sncse.data.download import MANIFEST, download, sha256_file
from sncse.data.senteval import load_sts
from sncse.errors import DataError


@pytest.mark.full_data("the papers' pair counts of every set")
def test_shared_data_is_complete(full_data_root: Path) -> None:
    rows = check_data()
    assert all(r.ok for r in rows), [(r.task, r.split, r.describe()) for r in rows if not r.ok]
    counts = {(r.task, r.split): r.count for r in rows}
    assert counts[("sts12", "test")] == 3108 and counts[("sickr", "dev")] == 500
    assert summary(rows)["ok"]


@pytest.mark.full_data("the checksums of SentEval's own files")
def test_manifest_matches_shared_data(full_data_root: Path) -> None:
    base = full_data_root / "senteval" / "downstream"
    bad = [rel for rel, digest in MANIFEST.items() if sha256_file(base / rel) != digest]
    assert not bad


def _partial(tmp_path: Path, data_root: Path) -> Path:
    src = data_root / "senteval" / "downstream" / "STS" / "STS12-en-test"
    dst = tmp_path / "senteval" / "downstream" / "STS" / "STS12-en-test"
    shutil.copytree(src, dst)
    (dst / "STS.gs.MSRvid.txt").unlink()
    return tmp_path


def test_check_names_what_is_missing(tmp_path: Path, data_root: Path) -> None:
    root = _partial(tmp_path, data_root)
    rows = {(r.task, r.split): r for r in check_data(root, transfer=False)}
    sts12 = rows[("sts12", "test")]
    assert sts12.status == "missing" and sts12.describe() == "STS/STS12-en-test/STS.gs.MSRvid.txt"
    assert rows[("sickr", "test")].describe() == "SICK/ (whole folder)"
    assert "sncse data download" in summary(list(rows.values()), root)["how_to_fix"]


def test_check_flags_count_mismatch(tmp_path: Path, data_root: Path) -> None:
    root = _partial(tmp_path, data_root)
    d = root / "senteval" / "downstream" / "STS" / "STS12-en-test"
    shutil.copy(data_root / "senteval" / "downstream" / "STS" / "STS12-en-test" / "STS.gs.MSRvid.txt", d)
    lines = (d / "STS.gs.MSRpar.txt").read_text().splitlines()
    (d / "STS.gs.MSRpar.txt").write_text("\n".join(lines[:-1] + [""]) + "\n")  # one pair unscored
    row = next(r for r in check_data(root, transfer=False) if r.task == "sts12")
    pairs = load_sts("sts12", root=data_root).pairs  # 3108 in the full data
    assert row.status == "mismatch" and row.count == pairs - 1 and "expected 3108" in row.describe()


def test_cli_data_check(runner, cli_app, data_root: Path, data_is_full: bool, tmp_path: Path, monkeypatch) -> None:
    ok = runner.invoke(cli_app, ["data", "check", "--json", "-"])
    if data_is_full:
        assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"]
    else:  # every set present, but with the sample's sizes: only STS-B dev/test and the negation triplets match
        assert ok.exit_code == 2
        status = {(t["task"], t["split"]): t["status"] for t in json.loads(ok.stdout)["tasks"]}
        assert status[("stsb", "test")] == status[("stsb", "dev")] == status[("negation", "all")] == "ok"
        assert status[("sts12", "test")] == status[("mr", "all")] == "mismatch"
    monkeypatch.setenv("SNCSE_DATA", str(data_root))
    root = _partial(tmp_path, data_root)
    bad = runner.invoke(cli_app, ["--data-root", str(root), "data", "check", "--sts-only", "--json", "-"])
    assert bad.exit_code == 2
    data = json.loads(bad.stdout)
    assert not data["ok"] and any(t["status"] == "missing" for t in data["tasks"])


def _archive(tmp_path: Path, data_root: Path, wrap: str = "SentEval/data/downstream", tamper: str | None = None) -> Path:
    """A tar laid out like SentEval's data folder, from the shared files (optionally one altered)."""
    tar_path = tmp_path / "senteval.tar"
    base = data_root / "senteval" / "downstream"
    with tarfile.open(tar_path, "w") as tar:
        for rel in MANIFEST:
            data = (base / rel).read_bytes()
            if rel == tamper:
                data += b"x"
            info = tarfile.TarInfo(f"{wrap}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return tar_path


def _manifest(data_root: Path, data_is_full: bool) -> dict[str, str] | None:
    """The manifest the data root's files pass: SentEval's for the full data, else one of the sample root's files."""
    if data_is_full:
        return None
    return {rel: sha256_file(data_root / "senteval" / "downstream" / rel) for rel in MANIFEST}


def test_download_from_archive_installs_and_verifies(tmp_path: Path, data_root: Path, data_is_full: bool) -> None:
    archive = _archive(tmp_path, data_root)
    manifest = _manifest(data_root, data_is_full)
    report = download(tmp_path / "root", archive=archive, manifest=manifest)
    assert report.verified == len(MANIFEST) and len(report.installed) == len(MANIFEST)
    rows = check_data(tmp_path / "root", transfer=False)
    assert all(r.ok or (not data_is_full and r.status == "mismatch") for r in rows)  # the sample root: its sizes
    again = download(tmp_path / "root", archive=archive, manifest=manifest)  # present files are kept
    assert not again.installed and len(again.kept) == len(MANIFEST)


def test_download_rejects_checksum_mismatch(tmp_path: Path, data_root: Path, data_is_full: bool) -> None:
    archive = _archive(tmp_path, data_root, tamper="SICK/SICK_trial.txt")
    manifest = _manifest(data_root, data_is_full)
    with pytest.raises(DataError, match="sha256 differs .*SICK/SICK_trial.txt.*verification off"):
        download(tmp_path / "root", archive=archive, manifest=manifest)
    assert not (tmp_path / "root" / "senteval").exists()
    report = download(tmp_path / "root", archive=archive, verify=False, manifest=manifest)
    assert report.verified == len(MANIFEST) - 1


def test_download_rejects_unsafe_archive(tmp_path: Path) -> None:
    tar_path = tmp_path / "evil.tar"
    with tarfile.open(tar_path, "w") as tar:
        info = tarfile.TarInfo("../../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(DataError):
        download(tmp_path / "root", archive=tar_path)
    assert not (tmp_path / "escape.txt").exists()


def test_download_without_network_fails_with_one_line(runner, cli_app, tmp_path: Path) -> None:
    res = runner.invoke(cli_app, ["data", "download", "--dest", str(tmp_path / "d"),
                                  "--url", "http://127.0.0.1:9/senteval.tar", "--timeout", "3"])
    assert res.exit_code == 2
    msg = res.output.strip()
    assert msg.startswith("error: cannot download http://127.0.0.1:9/senteval.tar") and "--archive" in msg
