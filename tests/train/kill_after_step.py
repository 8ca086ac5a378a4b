"""``python tests/train/kill_after_step.py N SNCSE_ARGS...``: the ``sncse`` CLI with a step hook that
SIGKILLs the process right after optimizer step N and whatever that step wrote (its checkpoint, its
log records), the harshest interruption a run can meet. Used by ``test_resume.py``."""

from __future__ import annotations

import os
import signal
import sys

from sncse.train.loop import register_step_hook


def main() -> None:
    kill_at = int(sys.argv[1])

    def kill(trainer) -> None:
        if trainer.global_step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    register_step_hook(kill)
    from sncse_cli.main import main as sncse

    sys.argv = ["sncse", *sys.argv[2:]]
    sncse()


if __name__ == "__main__":
    main()
