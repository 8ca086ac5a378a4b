"""``sncse data download``: fetch SentEval's evaluation sets and check them file by file.

Source: the SentEval data archive that SimCSE publishes (``SentEval/data/downstream/download_dataset.sh``
in princeton-nlp/SimCSE): SentEval's ``get_transfer_data.bash`` output — STS12-16, STS-B and SICK
Moses-tokenized and lower-cased, the transfer sets PTB-tokenized — as one tar file. SentEval's own
script instead pulls ~15 original archives and needs Moses (Perl) to tokenize them; the prepared archive
gives byte-identical inputs to what SimCSE and SNCSE evaluated on without that toolchain.

Checks: the SHA-256 of every evaluation file is compared with ``MANIFEST`` (recorded from public
snapshots of SentEval's preprocessed files). The archive as a whole has no recorded checksum: the
per-file manifest is the check. A mismatch is an error naming the files, unless ``verify=False``
(``--no-verify``). ``archive=FILE`` (``--archive``) installs from an archive fetched elsewhere.

The CANNOT negation dataset (:func:`download_cannot`, ``--dataset cannot``; Anschütz et al., 2023,
CC BY-SA 4.0) is one TSV published on the Hugging Face hub (``tum-nlp/cannot-dataset``). No checksum of
it could be recorded offline, so the check is its published layout (header ``premise hypothesis label``,
labels 0 and 1: ``sncse.data.triplets.read_cannot``) and its published size, 77,376 rows.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..progress import task as progress_task
from .root import ENV_DATA, install_root
from .triplets import CANNOT_FILE, CANNOT_ROWS, read_cannot

log = logging.getLogger(__name__)

SENTEVAL_URL = "https://huggingface.co/datasets/princeton-nlp/datasets-for-simcse/resolve/main/senteval.tar"
CANNOT_URL = "https://huggingface.co/datasets/tum-nlp/cannot-dataset/resolve/main/cannot_dataset_v1.1.tsv"
#: what ``sncse data download --dataset`` fetches, and from where by default
DATASETS: dict[str, str] = {"senteval": SENTEVAL_URL, "cannot": CANNOT_URL}
CHUNK = 1 << 20

# SHA-256 of each evaluation file, relative to senteval/downstream/.
MANIFEST: dict[str, str] = {
    "STS/STS12-en-test/STS.input.MSRpar.txt":
        "093b36d9cc1cd26364885c0f5d5be7ed024f475bceb552384f7fd489174b3c4f",
    "STS/STS12-en-test/STS.gs.MSRpar.txt":
        "5526be59228bc34ccb3cb6f1f56c0d7278d3419b8886713ae016fd92b151f19c",
    "STS/STS12-en-test/STS.input.MSRvid.txt":
        "5a007f6882ed3398afdbb0d1ed093457c4adbac82a5b411ea356e0985650c39f",
    "STS/STS12-en-test/STS.gs.MSRvid.txt":
        "9c6096c6bcfb0144c8bbddb00900ca9198c88498630cd0c8f08d18365f1d7150",
    "STS/STS12-en-test/STS.input.SMTeuroparl.txt":
        "971d76409ebd10a2285a846a20fd035e4e4ba2f85054e2869f5b41bb3182ca82",
    "STS/STS12-en-test/STS.gs.SMTeuroparl.txt":
        "708530c4d006d06881f3289fce35d624d7efe562dcf0fe5f8aa0eec3a135f6d4",
    "STS/STS12-en-test/STS.input.surprise.OnWN.txt":
        "1059c1b66fc72071881175754d3a01158e423ec6b032e1dd87b18fc7ecb1e8d9",
    "STS/STS12-en-test/STS.gs.surprise.OnWN.txt":
        "088d8ca22c0aa406e4a5d2e6e308a4f38b482b8e736c2445a38ffb6e4c4fb4fd",
    "STS/STS12-en-test/STS.input.surprise.SMTnews.txt":
        "048cbedbba58a136722e9d102f0416326aa04644180e031318c28caf90258585",
    "STS/STS12-en-test/STS.gs.surprise.SMTnews.txt":
        "aa6dfc868db333c43dc59be14d46fa6587c7ebddc0d497e717f647bf35121cf1",
    "STS/STS13-en-test/STS.input.FNWN.txt":
        "7bcc0fc86d30c8980c9ac9735c612492abd236524bec32bed98070e225b2e023",
    "STS/STS13-en-test/STS.gs.FNWN.txt":
        "8ca95b7228119578e2007839cf7969f22c4f1fd41fd610c4b7f9683072d98066",
    "STS/STS13-en-test/STS.input.headlines.txt":
        "e60c724b4b620802f42d7696f27e6a8153205a716b142f0a051e2b2b2e99e505",
    "STS/STS13-en-test/STS.gs.headlines.txt":
        "f49f64089011436dd296ef384c07160219406feef7dc4b9fa2af52a519f32bc6",
    "STS/STS13-en-test/STS.input.OnWN.txt":
        "3c616d878f3d7bfbadce1657bcc5a78d7d429fd10fc2e31195d314543fecab1a",
    "STS/STS13-en-test/STS.gs.OnWN.txt":
        "0cd497aaddb00a2fb6db25f77bccfc09e8aa012e11549b81b434bab1a27ad954",
    "STS/STS14-en-test/STS.input.deft-forum.txt":
        "7d52c9b130cf0d0291b2f2ea5324363219267ffcecf0a56f4306503adb231714",
    "STS/STS14-en-test/STS.gs.deft-forum.txt":
        "ba6dc76696b5c93985590a325b4d142449932cdf0d715b2bab1b1743fe3c488c",
    "STS/STS14-en-test/STS.input.deft-news.txt":
        "2416e9f1a13136ac213cbfd413d98cd8504edcca21c87deef3aa5c1207bc1448",
    "STS/STS14-en-test/STS.gs.deft-news.txt":
        "105c5b333abd50c274efb4dae9e3e0dab36ed63eee780cfb49955b1586bd62f2",
    "STS/STS14-en-test/STS.input.headlines.txt":
        "08e808b7786ec7b830badf9843c55fc7930467ae75e2cd6fe8fd518496b66730",
    "STS/STS14-en-test/STS.gs.headlines.txt":
        "f243c34647255cd0b994565ed4f58dd31506e7d9c9d6250d1a6dd14095625832",
    "STS/STS14-en-test/STS.input.images.txt":
        "3d44abc6af8d8b1c69b6e93bb386176d5896985dba91a13e5587350e92a90c83",
    "STS/STS14-en-test/STS.gs.images.txt":
        "fc994ebacc7074c332626fa9e29542d7340a48a3cdb999b47cdb59c378523a62",
    "STS/STS14-en-test/STS.input.OnWN.txt":
        "52f462f085f6920f70115761c50924f16a4fd6caec2cfccec82311619c1be326",
    "STS/STS14-en-test/STS.gs.OnWN.txt":
        "1c80147df270ea4cfce14a47ed29f8a2f10d5dc016d02836077fd786ff7f535b",
    "STS/STS14-en-test/STS.input.tweet-news.txt":
        "6b0173393868ea87f315f32971bff68b328e466678f481d4710d8488e7cc90de",
    "STS/STS14-en-test/STS.gs.tweet-news.txt":
        "0098c644bfeaa2d511a8297b1940771865900c372c9dd49a62726dc5ec02c9a3",
    "STS/STS15-en-test/STS.input.answers-forums.txt":
        "65e3f55333c53897c6791ff154a490857a827d4699bc2d1f18e53693dbfd0c39",
    "STS/STS15-en-test/STS.gs.answers-forums.txt":
        "1644301a7540e5484da285002e9269062852efb2272be614cad99c9530f6a102",
    "STS/STS15-en-test/STS.input.answers-students.txt":
        "4893f736e84cea176c39c882250f6513d5bbcfa6ebe8d3ffabcef6056d0471a7",
    "STS/STS15-en-test/STS.gs.answers-students.txt":
        "028db213140f8c7aef7497c4ae38b6380938f20359852231669c83dce11c3701",
    "STS/STS15-en-test/STS.input.belief.txt":
        "ce09c4713480fd622afbc362d22dd7ffb4e5fc6ee676602368af6f63f9ea7cb5",
    "STS/STS15-en-test/STS.gs.belief.txt":
        "5736192faaccbdbecd0ef6b73ec04b24115cd2e48d55dc3b1b170da3d2a81c75",
    "STS/STS15-en-test/STS.input.headlines.txt":
        "91f2a6152c574e17544c5e8a856338fa8632898b44c10d2cc9c9516ddfe682c5",
    "STS/STS15-en-test/STS.gs.headlines.txt":
        "e8e432f769c8a94ddb62ae3343890ac24a9dd78a116d56c707313bc59413dd56",
    "STS/STS15-en-test/STS.input.images.txt":
        "98b2f560e4a3e13253f10b7fd8855006dd327ab272559ab690f2c4e1e5aebca7",
    "STS/STS15-en-test/STS.gs.images.txt":
        "ed8878209098c77ca7f02ac413d3fd698f92ad3425999555e50fda89fc46012a",
    "STS/STS16-en-test/STS.input.answer-answer.txt":
        "92e66262159e39cb623690e243179f447fb08d493ccec6e600a021b76dd6fe9a",
    "STS/STS16-en-test/STS.gs.answer-answer.txt":
        "332efd741b0cb247d20dd2a6cec854360c921c7e6b395f328f562d8d26057214",
    "STS/STS16-en-test/STS.input.headlines.txt":
        "f439e10cf28d9cb4dc7642a072f6ac9ac48922f147241af8fe5df3048f24804b",
    "STS/STS16-en-test/STS.gs.headlines.txt":
        "01e33a95996201a6e81e3cce9eda0f15048b77613ea64dce2929bb35479f7d85",
    "STS/STS16-en-test/STS.input.plagiarism.txt":
        "78f5fb0756400485676f82a47703dab0402ba273a887a6d846e9790ff9300f87",
    "STS/STS16-en-test/STS.gs.plagiarism.txt":
        "29984944a91aaff484f2b2e5d4d434fc8a6f5ef6f578a880cccd2786f5142fdc",
    "STS/STS16-en-test/STS.input.postediting.txt":
        "cb8e2337a17ecc60a4fb57ecb17c692e13257802d24c9bd401b4bfa574510463",
    "STS/STS16-en-test/STS.gs.postediting.txt":
        "81947ed9dbe7f85b7bd249df68ed5c7b2f16f06390ad568eb5554b1e26bc5577",
    "STS/STS16-en-test/STS.input.question-question.txt":
        "0b8d495236ea8c9e9eddf529b40d8570e4b38ef29a40d194d5487613b064a4bc",
    "STS/STS16-en-test/STS.gs.question-question.txt":
        "cf9ebf9d140191f73620cda0560947ad9283c910735d0d541b8a401a5e64afb0",
    "STS/STSBenchmark/sts-train.csv":
        "6466868d4b49a575530554224fe2e7d8cc03e83e1f326c90e561b81bf5031fec",
    "STS/STSBenchmark/sts-dev.csv":
        "fd3e4e429f32e352c7c7c76aea5c3383ee95eb98e482796b34e4e7b88a8392f3",
    "STS/STSBenchmark/sts-test.csv":
        "4cde2a19c9b7232c9ce92a89e5afd99805c8f66ba432a7824e0a5bad1a0a0ea0",
    "SICK/SICK_train.txt":
        "d07bdb73963dda1b2012f4d78c24044cd9503b1109218a518a481616973cf960",
    "SICK/SICK_trial.txt":
        "0d0786bd8671a0a70614f2f890b8ab24b3c24d1ccb624bcca87618091fbe4f11",
    "SICK/SICK_test_annotated.txt":
        "4c9aa1bb3c5bbf732520fe35b23c121739472a38eb47e7d5336e6df51896be02",
    "MR/rt-polarity.pos":
        "34e5b0da2d491e46b700b00afe735aaae0962bcfe4f7f22b2d8077e714fa370f",
    "MR/rt-polarity.neg":
        "c4ac36eaa8adc8ee31c31f69594bfbe68d83ef5b6db53f1f19b28c0be52f3999",
    "CR/custrev.pos":
        "91a20a4ffeb5d38a39a4087bb247e16538aff21e7d621ae59738379f39f21732",
    "CR/custrev.neg":
        "ec94532766f6f962094841ab3bee2ad6f232f996c3756825a91e78bcc294750f",
    "SUBJ/subj.objective":
        "d8ccd43f1674f1c17e4ab717564e3561cfb719b0db4cfb19e5677427c68ff8a1",
    "SUBJ/subj.subjective":
        "274c2ffe59c204dc4df779848561786f59a98cc20dda3cfdd7d9f76a4f730710",
    "MPQA/mpqa.pos":
        "7487dbb74c77383e60b292845495163a9e21fb70a4fdacdda933413e43163f0d",
    "MPQA/mpqa.neg":
        "8da6e035fa4cea02f0555091096b29a6b3995ff0adf41fad25008dcee066b79e",
    "SST/binary/sentiment-train":
        "10a92a297ec38e262386e5a2713b4bc70e5d18ced88b7f54bd171a26e5b34ab5",
    "SST/binary/sentiment-dev":
        "9a6c7403b71a9b762158387afe4431253ae10cdfb2319b5275289f3766f48291",
    "SST/binary/sentiment-test":
        "4fefd1cd67526cf87ebc7fafc3afc21cc7cfa6ae53b45e74f77f9456e3c62752",
    "TREC/train_5500.label":
        "8bd6e79493f43bbd22c364587366a1dced54e1e31259eaa92721a0f526031116",
    "TREC/TREC_10.label":
        "86ad53c8fc9d397ab2f4be7c967d8efb470b260140557d3e57afad69d1b88b76",
    "MRPC/msr_paraphrase_train.txt":
        "60a9b09084528f0673eedee2b69cb941920f0b8cd0eeccefc464a98768457f89",
    "MRPC/msr_paraphrase_test.txt":
        "a04e271090879aaba6423d65b94950c089298587d9c084bf9cd7439bd785f784",
}


@dataclass
class DownloadReport:
    dest: Path
    source: str
    installed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    verified: int = 0
    archive_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"dest": str(self.dest), "source": self.source, "archive_sha256": self.archive_sha256,
                "installed": self.installed, "kept": self.kept, "verified": self.verified}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, target: Path, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``target`` (via ``target.part``, renamed on success)."""
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed https URL or the user's
            total = int(resp.headers.get("Content-Length") or 0) or None
            with open(part, "wb") as fh, progress_task("downloading", total=total, unit="B") as advance:
                for block in iter(lambda: resp.read(CHUNK), b""):
                    fh.write(block)
                    advance(len(block))
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"cannot download {url} ({reason}); no network access? Fetch the archive elsewhere and install it "
            f"from the file (the archive setting), or set the data root ({ENV_DATA}) to an existing copy",
            setting="archive",
        ) from None
    part.replace(target)
    return target


def _safe_extract(archive: Path, into: Path) -> None:
    try:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                root = into.resolve()
                for member in tar.getmembers():
                    if not (into / member.name).resolve().is_relative_to(root) or member.issym() or member.islnk():
                        raise DataError(f"unsafe path in archive: {member.name}", path=archive)
                tar.extractall(into)
    except (tarfile.TarError, EOFError) as exc:
        raise DataError(f"not a readable tar archive ({exc})", path=archive) from None


def _find_downstream(tree: Path) -> Path:
    """The folder that holds STS/ and SICK/ (the archive may wrap it in one or more folders)."""
    for candidate in [tree, *sorted(p for p in tree.rglob("*") if p.is_dir())]:
        if (candidate / "STS").is_dir() and (candidate / "SICK").is_dir():
            return candidate
    raise DataError("archive holds no SentEval downstream folder (STS/ and SICK/ side by side)")


def verify_tree(downstream: Path, manifest: dict[str, str] | None = None) -> tuple[int, list[str], list[str]]:
    """(files verified, missing, mismatched) against the manifest."""
    manifest = MANIFEST if manifest is None else manifest
    missing, bad, ok = [], [], 0
    for rel, digest in manifest.items():
        path = downstream / rel
        if not path.is_file():
            missing.append(rel)
        elif sha256_file(path) != digest:
            bad.append(rel)
        else:
            ok += 1
    return ok, missing, bad


def download(dest: str | Path | None = None, url: str = SENTEVAL_URL, archive: str | Path | None = None,
             verify: bool = True, force: bool = False, timeout: float = 30.0,
             manifest: dict[str, str] | None = None) -> DownloadReport:
    """Install SentEval's evaluation sets under ``<dest>/senteval/downstream``.

    Files already present are kept unless ``force``. Raises ``DataError`` with one line on failure.
    """
    dest = install_root(dest)
    target = dest / "senteval" / "downstream"
    manifest = MANIFEST if manifest is None else manifest
    report = DownloadReport(dest, str(archive or url))
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".sncse-download-", dir=dest) as tmp:
        tmp_dir = Path(tmp)
        if archive is not None:
            tar_path = Path(archive)
            if not tar_path.is_file():
                raise DataError("no such archive", path=tar_path)
        else:
            tar_path = fetch(url, tmp_dir / "senteval.tar", timeout=timeout)
        report.archive_sha256 = sha256_file(tar_path)
        extracted = tmp_dir / "x"
        extracted.mkdir()
        _safe_extract(tar_path, extracted)
        downstream = _find_downstream(extracted)
        ok, missing, bad = verify_tree(downstream, manifest)
        if missing:
            raise DataError(f"archive lacks {len(missing)} evaluation file(s): {', '.join(missing[:6])}"
                            + (" ..." if len(missing) > 6 else ""), path=tar_path)
        if bad and verify:
            raise DataError(f"sha256 differs from the manifest for {len(bad)} file(s): {', '.join(bad[:6])}"
                            + (" ..." if len(bad) > 6 else "") + "; turn verification off to accept them",
                            path=tar_path, setting="verify")
        report.verified = ok
        target.mkdir(parents=True, exist_ok=True)
        for src in sorted(p for p in downstream.rglob("*") if p.is_file()):
            rel = src.relative_to(downstream)
            dst = target / rel
            if dst.exists() and not force:
                report.kept.append(str(rel))
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), dst)
            report.installed.append(str(rel))
    log.info("installed %d file(s) under %s (%d kept, %d verified)", len(report.installed), target,
             len(report.kept), report.verified)
    return report


def download_cannot(dest: str | Path | None = None, url: str = CANNOT_URL, file: str | Path | None = None,
                    verify: bool = True, force: bool = False, timeout: float = 30.0) -> DownloadReport:
    """Install the CANNOT dataset as ``<dest>/cannot/cannot_dataset_v1.1.tsv`` (``file``: a copy fetched
    elsewhere instead of ``url``). The file must read as CANNOT (``read_cannot``) and, unless
    ``verify=False``, hold the published 77,376 rows. An installed file is kept unless ``force``."""
    dest = install_root(dest)
    target = dest / CANNOT_FILE
    report = DownloadReport(dest, str(file or url))
    if target.is_file() and not force:
        report.kept.append(CANNOT_FILE)
        log.info("kept %s (force to replace it)", target)
        return report
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".sncse-download-", dir=target.parent) as tmp:
        if file is not None:
            src = Path(file)
            if not src.is_file():
                raise DataError("no such file", path=src)
        else:
            src = fetch(url, Path(tmp) / Path(CANNOT_FILE).name, timeout=timeout)
        try:
            rows = read_cannot(src)
        except DataError as exc:
            raise DataError(f"{report.source} is not the CANNOT dataset: {exc}") from None
        if len(rows) != CANNOT_ROWS and verify:
            raise DataError(f"{len(rows):,} rows, the published CANNOT file has {CANNOT_ROWS:,}; turn "
                            "verification off to accept it", path=report.source, setting="verify")
        report.archive_sha256 = sha256_file(src)
        report.verified = len(rows)
        staged = Path(tmp) / "staged.tsv"
        shutil.copyfile(src, staged)
        staged.replace(target)  # same folder: atomic
    report.installed.append(CANNOT_FILE)
    log.info("installed %s (%d rows, sha256 %s)", target, report.verified, report.archive_sha256)
    return report
