"""The CUDA paths of training and evaluation, checked on a CPU: resume with the trainer state mapped to a
device, random states with fewer visible devices or another number of processes, a failing process in
a two-process run, the precision ``amp: auto`` picks, and the precision evaluation and ``encode`` record.

CUDA is faked where a test needs a device: ``torch.cuda``'s functions are replaced by ones over CPU
generators (``FakeCuda``), which is all the code under test asks of it. ``meta`` tensors stand in for a
device's memory. The two-process tests start two gloo processes directly (no torchrun, which would end
the survivor itself), so each process must end on its own. The tests marked ``gpu`` run the same paths
on a real device (``bench/gpu_suite.sh`` runs them first).
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from sncse.config import load_config
from sncse.encoders.amp import resolve_amp
from sncse.train.checkpoint import load_trainer_state
from sncse.train.loop import Trainer
from sncse.train.seed import derived_seed, rng_state, set_rng_state

REPO = Path(__file__).resolve().parents[2]
TINY = str(REPO / "configs" / "tiny.yaml")
FAIL_ON_RANK = Path(__file__).resolve().parent / "fail_on_rank.py"
RUN_SETTINGS = ["loss.name=bml", "model.pooler=prompt", "train.batch_size=16", "train.max_steps=2",
                "train.log_steps=1", "data.limit=64", "train.device=cpu"]


# ------------------------------------------------------------------------------------------ helpers
class FakeCuda:
    """``count`` CUDA devices whose generators are CPU generators; ``native_bf16[i]``: whether device i
    computes bf16 natively (``is_bf16_supported(including_emulation=False)``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, count: int, native_bf16: tuple[bool, ...] | None = None):
        self.generators = [torch.Generator().manual_seed(1000 + i) for i in range(count)]
        self.native_bf16 = native_bf16 or (True,) * count
        self.current = 0
        for name, fn in {"is_available": lambda: True, "device_count": lambda: len(self.generators),
                         "current_device": lambda: self.current, "get_rng_state": self.get_rng_state,
                         "set_rng_state": self.set_rng_state, "manual_seed": self.manual_seed,
                         "manual_seed_all": lambda seed: [g.manual_seed(seed) for g in self.generators],
                         "device": self.device, "is_bf16_supported": self.is_bf16_supported}.items():
            monkeypatch.setattr(torch.cuda, name, fn)

    def index(self, device: int | str | torch.device) -> int:
        d = torch.device("cuda", device) if isinstance(device, int) else torch.device(device)
        index = self.current if d.index is None else d.index
        if index >= len(self.generators):  # what torch raises for a device that is not there
            raise IndexError(f"CUDA device {index} is not visible ({len(self.generators)} are)")
        return index

    def get_rng_state(self, device: int | str | torch.device = "cuda") -> torch.Tensor:
        return self.generators[self.index(device)].get_state()

    def set_rng_state(self, state: torch.Tensor, device: int | str | torch.device = "cuda") -> None:
        assert state.device.type == "cpu", "a generator takes a CPU state"
        self.generators[self.index(device)].set_state(state)

    def manual_seed(self, seed: int) -> None:
        self.generators[self.current].manual_seed(seed)

    @contextmanager
    def device(self, device: int | torch.device):
        before, self.current = self.current, self.index(device)
        try:
            yield
        finally:
            self.current = before

    def is_bf16_supported(self, including_emulation: bool = True) -> bool:
        return self.native_bf16[self.current] or including_emulation  # every CUDA GPU emulates bf16

    def draws(self, index: int) -> torch.Tensor:
        return torch.rand(8, generator=self.generators[index])


def _draws_after(state: torch.Tensor) -> torch.Tensor:
    g = torch.Generator()
    g.set_state(state)
    return torch.rand(8, generator=g)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _two_processes(args: list[str], env: dict[str, str], logs: Path, timeout: float = 150.0) -> list[dict]:
    """Start ``python ARGS`` as ranks 0 and 1 of a gloo group; wait until both end (or kill them at
    ``timeout``). Per rank: exit status, the second it ended (from the start), its stderr."""
    port = str(_free_port())
    procs, files = [], []
    for rank in (0, 1):
        err = open(logs / f"rank{rank}.err", "w+", encoding="utf-8")  # noqa: SIM115 (closed below)
        files.append(err)
        procs.append(subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=err,
                                      env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
                                           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port}))
    start, ended = time.monotonic(), [None, None]
    while None in ended and time.monotonic() - start < timeout:
        for r, p in enumerate(procs):
            if ended[r] is None and p.poll() is not None:
                ended[r] = time.monotonic() - start
        time.sleep(0.05)
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    out = []
    for r, (p, err) in enumerate(zip(procs, files, strict=True)):
        err.seek(0)
        out.append({"rc": p.returncode, "ended": ended[r], "stderr": err.read()})
        err.close()
    return out


@pytest.fixture(scope="module")
def one_process_run(tmp_path_factory, negations_file: Path, data_root: Path) -> Path:
    """A finished one-process run of 2 steps (dropout on; STS-B dev at step 2): ``last/`` to resume from."""
    out = tmp_path_factory.mktemp("cuda_paths") / "run"
    cfg = load_config(TINY, [*RUN_SETTINGS, "train.eval_steps=2", "train.eval_limit=24",
                             f"data.train_file={negations_file}", f"train.output_dir={out}"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return Trainer(cfg).run()
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------------------------------ resume
def test_resume_with_the_state_mapped_to_a_device_restores_the_generators(one_process_run: Path) -> None:
    """``map_location`` a device (``meta`` standing in for CUDA): the optimizer state goes there, the
    random states stay on the CPU, where the generators take them, and restore exactly."""
    state = load_trainer_state(one_process_run / "last", map_location="meta")
    moments = [v for s in state["optimizer"]["state"].values() for v in s.values() if torch.is_tensor(v)]
    assert moments and {t.device.type for t in moments if t.dim()} == {"meta"}
    (saved,) = state["rng"]
    tensors = [saved["torch"], saved["numpy"]["keys"]]
    assert all(t.device.type == "cpu" for t in tensors)

    set_rng_state(saved, torch.device("cpu"))
    first = (torch.rand(4), np.random.rand(4))
    set_rng_state(load_trainer_state(one_process_run / "last")["rng"][0], torch.device("cpu"))
    assert torch.equal(first[0], torch.rand(4)) and np.array_equal(first[1], np.random.rand(4))


def test_only_the_generator_of_the_device_in_use_is_saved(monkeypatch) -> None:
    cuda = FakeCuda(monkeypatch, count=4)
    state = rng_state(torch.device("cuda", 2))
    assert torch.equal(state["cuda"], cuda.generators[2].get_state())
    assert "cuda" not in rng_state(torch.device("cpu"))


def test_resume_with_fewer_visible_devices(monkeypatch, caplog) -> None:
    """A state saved on a 4-GPU machine, resumed where one GPU is visible: the device in use gets its
    generator back, whether the checkpoint holds that device's state alone or (as older checkpoints
    did) every visible device's; a device the checkpoint has no state for gets a fresh seed, logged."""
    four = FakeCuda(monkeypatch, count=4)
    for g in four.generators:
        torch.rand(3, generator=g)
    saved = rng_state(torch.device("cuda", 3))
    expected = _draws_after(four.generators[3].get_state())
    every_device = {**saved, "cuda": [g.get_state() for g in four.generators]}
    expected_first = _draws_after(four.generators[0].get_state())

    one = FakeCuda(monkeypatch, count=1)
    set_rng_state(saved, torch.device("cuda", 0), fresh_seed=7)
    assert torch.equal(one.draws(0), expected)
    set_rng_state(every_device, torch.device("cuda", 0), fresh_seed=7)
    assert torch.equal(one.draws(0), expected_first)

    caplog.set_level(logging.WARNING, logger="sncse.train.seed")
    set_rng_state({**saved, "cuda": every_device["cuda"][:0]}, torch.device("cuda", 0), fresh_seed=7)
    assert torch.equal(one.draws(0), torch.rand(8, generator=torch.Generator().manual_seed(7)))
    assert "no random state for CUDA device 0" in caplog.text

    cpu_run = {k: v for k, v in saved.items() if k != "cuda"}  # a CPU checkpoint resumed on a GPU
    set_rng_state(cpu_run, torch.device("cuda"), fresh_seed=8)
    assert torch.equal(one.draws(0), torch.rand(8, generator=torch.Generator().manual_seed(8)))


def test_derived_seeds_differ_by_rank_and_step_and_repeat() -> None:
    seeds = {derived_seed(42, step, rank) for step in (0, 100) for rank in range(4)}
    assert len(seeds) == 8 and derived_seed(42, 100, 1) == derived_seed(42, 100, 1)
    assert derived_seed(42, 100, 1) != derived_seed(43, 100, 1)


RESUME_WORKER = r'''
import logging, sys
import torch
from sncse.train.loop import Trainer, resolve_train_config

torch.set_num_threads(1)
logging.basicConfig(level=logging.WARNING)
cfg = resolve_train_config(None, ["train.max_steps=4", "train.dist_timeout=60"],
                           {"train.output_dir": sys.argv[1]}, resume=True)
trainer = Trainer(cfg, resume=True)
trainer.setup()
mask = torch.nn.functional.dropout(torch.ones(256), 0.5, training=True)  # what the next forward would draw
got = trainer.dist.gather_objects({"rank": trainer.dist.rank, "step": trainer.global_step, "mask": mask,
                                   "state": torch.get_rng_state()})
if trainer.dist.is_main:
    torch.save(got, sys.argv[2])
trainer.close()
trainer.dist.close()
'''


@pytest.mark.slow
def test_resume_with_more_processes_gives_each_its_own_dropout(one_process_run: Path, tmp_path: Path,
                                                              child_env) -> None:
    """A one-process checkpoint resumed by two processes: each derives a fresh state of its own (one saved
    state restored on both would give both the same dropout masks), and rank 0 says so."""
    run = shutil.copytree(one_process_run, tmp_path / "run")
    worker = tmp_path / "worker.py"
    worker.write_text(RESUME_WORKER, encoding="utf-8")
    ranks = _two_processes([str(worker), str(run), str(tmp_path / "states.pt")], child_env(), tmp_path)
    assert [r["rc"] for r in ranks] == [0, 0], ranks[0]["stderr"][-2000:] + ranks[1]["stderr"][-2000:]
    a, b = torch.load(tmp_path / "states.pt", weights_only=True)
    assert a["step"] == b["step"] == 2
    assert not torch.equal(a["state"], b["state"]) and not torch.equal(a["mask"], b["mask"])
    assert "holds the random states of 1 process(es), this run has 2" in ranks[0]["stderr"]


# ------------------------------------------------------------------------------------------ a failing process
def _bad_dev_file(path: Path) -> Path:
    path.write_text("sentence1\tsentence2\tscore\na cat sits\ta cat sat\t4.5\na dog runs\ta dog ran\thigh\n",
                    encoding="utf-8")
    return path


FAILURES = {  # case: (launcher, extra settings, the original error, what the other process says)
    "setup-rank0": ([], ["--dev-file", "{dev}"], "bad.tsv:3", "process 0 failed while building the dev evaluator"),
    "evaluation-rank0": ([str(FAIL_ON_RANK), "0", "evaluation"], [], "injected failure in the evaluation of process 0",
                         "process 0 failed while evaluating on the dev set"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failing_process_ends_both_at_once(case: str, tmp_path: Path, negations_file: Path, child_env) -> None:
    """One process raises (rank 0 on a bad dev file while building the dev evaluator, which only it does;
    rank 1 while building its model; rank 0 while evaluating): both processes end within seconds, not
    at the collective timeout (60 s here), with a non-zero status, and the failing one prints its error."""
    launcher, extra, original, other = FAILURES[case]
    dev = _bad_dev_file(tmp_path / "bad.tsv")
    args = [*(launcher or ["-m", "sncse_cli.main"]), "train", "-c", TINY, "--data", str(negations_file),
            "-o", str(tmp_path / "run"), *[x.format(dev=dev) for x in extra]]
    for kv in [*RUN_SETTINGS, "train.eval_steps=1", "train.eval_limit=24", "train.dist_timeout=60"]:
        args += ["--set", kv]
    ranks = _two_processes(args, child_env(), tmp_path)
    failing = int(case[-1])
    assert all(r["ended"] is not None for r in ranks), "a process was still running after 150 s"
    assert abs(ranks[0]["ended"] - ranks[1]["ended"]) < 30, [r["ended"] for r in ranks]
    assert all(r["rc"] != 0 for r in ranks), [r["rc"] for r in ranks]
    assert original in ranks[failing]["stderr"], ranks[failing]["stderr"][-2000:]
    assert f"process {failing} of 2 failed" in ranks[failing]["stderr"]
    if other is not None:
        assert other in ranks[1 - failing]["stderr"] and original in ranks[1 - failing]["stderr"]
    assert "Traceback" not in ranks[failing]["stderr"]  # one line, not a stack


# ------------------------------------------------------------------------------------------ precision
def test_amp_auto_without_native_bf16_is_fp16_with_a_scaler(monkeypatch) -> None:
    """``auto`` asks the device in use for native bf16: device 0 has it (bf16, no scaler), device 1
    emulates it only, as a V100 or T4 does (fp16 with a gradient scaler)."""
    cuda = FakeCuda(monkeypatch, count=2, native_bf16=(True, False))
    assert torch.cuda.is_bf16_supported() is True  # emulation counts here: why auto must not ask this
    native = resolve_amp(torch.device("cuda", 0), "auto")
    assert native.name == "bf16" and native.scaler is None
    emulated = resolve_amp(torch.device("cuda", 1), "auto")
    assert emulated.dtype is torch.float16 and isinstance(emulated.scaler, torch.amp.GradScaler)
    cuda.current = 1
    assert resolve_amp(torch.device("cuda"), "auto").name == "fp16"  # no index: the current device
    assert resolve_amp(torch.device("cuda", 1), "bf16").name == "bf16"  # as asked


def test_dev_selection_precision_is_recorded(one_process_run: Path) -> None:
    results = json.loads((one_process_run / "results.json").read_text(encoding="utf-8"))
    assert results["dev_precision"] == "fp32" and results["amp"] == "fp32" and results["best_step"] == 2


def test_eval_records_its_precision(runner, cli_app, tmp_path: Path, data_root: Path) -> None:
    """fp32 unless asked; ``--amp bf16`` runs bf16 autocast (other numbers) and says so; fp16 on a CPU
    is refused before anything runs."""
    base = ["eval", "tiny-bert", "--tasks", "stsb", "--mode", "dev", "--limit", "40", "--device", "cpu"]
    res = runner.invoke(cli_app, [*base, "--json", str(tmp_path / "fp32.json")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli_app, [*base, "--amp", "bf16", "--json", str(tmp_path / "bf16.json")])
    assert res.exit_code == 0, res.output
    fp32, bf16 = (json.loads((tmp_path / f"{n}.json").read_text(encoding="utf-8")) for n in ("fp32", "bf16"))
    assert fp32["meta"]["precision"] == "fp32" and bf16["meta"]["precision"] == "bf16"
    assert fp32["tasks"]["stsb"]["spearman"] != bf16["tasks"]["stsb"]["spearman"]
    res = runner.invoke(cli_app, [*base, "--amp", "fp16"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.output.strip().splitlines()[-1] == "error: fp16 needs CUDA (device is cpu); use bf16 or off (option --amp)"


def test_merge_refuses_shards_of_mixed_precision(runner, cli_app, tmp_path: Path, wiki_lines) -> None:
    """The sidecar records the precision of each shard; shards that differ, or an old sidecar without
    the field beside a new one, are refused in one line (exit 2); old shards merge among themselves."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(wiki_lines[:24]) + "\n", encoding="utf-8")
    out = tmp_path / "emb.npy"
    for shard, amp in (("1/2", "off"), ("2/2", "bf16")):
        res = runner.invoke(cli_app, ["encode", "tiny-bert", str(corpus), "-o", str(out), "--chunk-size", "8",
                                      "--shard", shard, "--amp", amp, "--device", "cpu"])
        assert res.exit_code == 0, res.output
    shards = [tmp_path / "emb.shard-1-of-2.npy", tmp_path / "emb.shard-2-of-2.npy"]
    cars = [json.loads(Path(f"{s}.json").read_text(encoding="utf-8")) for s in shards]
    assert [c["precision"] for c in cars] == ["fp32", "bf16"]

    res = runner.invoke(cli_app, ["merge-embeddings", str(tmp_path / "merged.npy"), *map(str, shards)])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "precision bf16, emb.shard-1-of-2.npy fp32: shards of mixed precision" in res.output
    assert not (tmp_path / "merged.npy").exists()

    cars[1]["precision"] = "fp32"  # the same shard as fp32 would merge: only the precision was in the way
    del cars[0]["precision"]  # an old sidecar beside a new one
    for s, c in zip(shards, cars, strict=True):
        Path(f"{s}.json").write_text(json.dumps(c), encoding="utf-8")
    res = runner.invoke(cli_app, ["merge-embeddings", str(tmp_path / "merged.npy"), *map(str, shards)])
    assert res.exit_code == 2 and "unrecorded (an older sidecar)" in res.output

    del cars[1]["precision"]
    Path(f"{shards[1]}.json").write_text(json.dumps(cars[1]), encoding="utf-8")
    res = runner.invoke(cli_app, ["merge-embeddings", str(tmp_path / "merged.npy"), *map(str, shards)])
    assert res.exit_code == 0, res.output
    assert np.load(tmp_path / "merged.npy").shape[0] == 24


# ------------------------------------------------------------------------------------------ the data path
def test_batches_are_pinned_without_workers_when_asked(monkeypatch) -> None:
    """``pin_memory`` (CUDA) pins every batch also when ``num_workers`` is 0, the default."""
    from sncse.data.batching import BatchSampler, Collator, TrainBatch, batches
    from sncse.data.tokenized import TokenColumn, TokenizedData

    pinned = []
    monkeypatch.setattr(TrainBatch, "pin_memory", lambda self: pinned.append(self) or self)
    data = TokenizedData({"anchor": TokenColumn.from_lists([[101, 7 + i % 5, 102] for i in range(8)])},
                         views=("anchor",), pad_id=0)
    stream = batches(BatchSampler(8, 4, seed=0), Collator(data), pin_memory=True)
    got = [next(stream) for _ in range(3)]
    assert pinned == got
    plain = batches(BatchSampler(8, 4, seed=0), Collator(data), pin_memory=False)
    next(plain)
    assert len(pinned) == 3


# ------------------------------------------------------------------------------------------ on a GPU
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_resume_restores_the_device_generator(tmp_path: Path, negations_file: Path) -> None:
    """A run on CUDA resumes: the trainer state loads with its optimizer on the device and its random
    states on the CPU, and the device's generator is the one saved."""
    settings = [*RUN_SETTINGS, "train.device=cuda", "train.eval_steps=0", f"data.train_file={negations_file}",
                f"train.output_dir={tmp_path / 'run'}"]
    Trainer(load_config(TINY, settings)).run()
    saved = torch.load(tmp_path / "run" / "last" / "trainer_state.pt", weights_only=True)["rng"][0]["cuda"]
    assert saved.device.type == "cpu" and torch.is_tensor(saved)
    resumed = Trainer(load_config(TINY, [*settings, "train.max_steps=3"]), resume=True)
    resumed.setup()
    assert resumed.global_step == 2
    assert torch.equal(torch.cuda.get_rng_state(resumed.device), saved)
    resumed.fit()
    resumed.close()
    resumed.metrics.close()
    assert resumed.global_step == 3


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_encode_keeps_only_a_few_batches_on_the_device() -> None:
    """``encode`` moves each finished batch to the host: the device's peak grows by far less than the
    N x H output (which it held whole before), and the vectors are those of the CPU."""
    from sncse.encoders.builders import build_tiny_bert
    from sncse.encoders.model import SentenceEncoder

    model = SentenceEncoder(*build_tiny_bert(), pooler="mean", mlp="none").to("cuda")
    sentences = [f"sentence {i} of the corpus with {i % 97} words" for i in range(100_000)]
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    got = model.encode(sentences, batch_size=128, amp="off", show_progress=False)
    grown = torch.cuda.max_memory_allocated() - before
    assert grown < got.nbytes / 2, (grown, got.nbytes)
    cpu = model.to("cpu").encode(sentences[:256], batch_size=128, amp="off", show_progress=False)
    np.testing.assert_allclose(got[:256], cpu, atol=1e-4)
