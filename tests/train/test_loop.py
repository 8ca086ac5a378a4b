"""The Trainer's public surface: `step()` is the loop's step, and step hooks run after each step's
logging, evaluation and checkpoint (tiny random BERT, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from sncse.config import load_config
from sncse.train.loop import Trainer, register_step_hook

REPO = Path(__file__).resolve().parents[2]


def _cfg(out: Path, data: Path, *extra: str):
    return load_config(REPO / "configs" / "tiny.yaml", [
        f"data.train_file={data}", f"train.output_dir={out}", "train.batch_size=16", "train.max_steps=4",
        "train.eval_steps=2", "train.eval_limit=30", "train.log_steps=1", "data.limit=64", *extra])


def test_step_is_the_loop_step(tmp_path, text_file) -> None:
    run = Trainer(_cfg(tmp_path / "run", text_file)).run()
    logged = [r["loss"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "loss" in r]
    by_hand = Trainer(_cfg(tmp_path / "by-hand", text_file))
    by_hand.setup()
    try:
        losses = [round(by_hand.step().loss.item(), 6) for _ in range(4)]
    finally:
        by_hand.close()
    assert losses == logged and by_hand.global_step == 4
    assert by_hand.position.to_dict() == torch.load(run / "last" / "trainer_state.pt", weights_only=True)["position"]


def test_hooks_run_after_each_step_and_its_checkpoint(tmp_path, text_file) -> None:
    seen: list[tuple[int, int | None, int | None]] = []

    def record(trainer: Trainer) -> None:
        state = trainer.out / "last" / "trainer_state.pt"
        saved = torch.load(state, weights_only=True)["step"] if state.exists() else None
        seen.append((trainer.global_step, saved, trainer.best_step))

    everywhere: list[int] = []
    remove = register_step_hook(lambda trainer: everywhere.append(trainer.global_step))
    try:
        Trainer(_cfg(tmp_path / "run", text_file), hooks=[record]).run()
    finally:
        remove()
    Trainer(_cfg(tmp_path / "again", text_file, "train.max_steps=1")).run()  # the hook is gone
    assert everywhere == [1, 2, 3, 4]
    # evaluation (and last/, save_steps 0) at steps 2 and 4, done before the hook sees the step
    assert [s for s, _, _ in seen] == [1, 2, 3, 4]
    assert [saved for _, saved, _ in seen] == [None, 2, 2, 4]
    assert seen[1][2] == 2 and seen[3][2] in (2, 4)
