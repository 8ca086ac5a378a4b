"""``python tests/train/fail_on_rank.py RANK WHERE SNCSE_ARGS...``: the ``sncse`` CLI in which the process
of rank RANK raises ``RuntimeError("injected failure ...")`` at WHERE: ``model`` (building the model,
during setup) or ``evaluation`` (the dev evaluation). The other processes run unchanged. Used by
``test_cuda_paths.py`` to fail one process of a two-process run."""

from __future__ import annotations

import os
import sys


def main() -> None:
    rank, where = int(sys.argv[1]), sys.argv[2]
    if int(os.environ.get("RANK", "0")) == rank:
        from sncse.train import dev_eval, loop

        def fail(*args, **kwargs):
            raise RuntimeError(f"injected failure in the {where} of process {rank}")

        if where == "model":
            loop.build_model = fail
        elif where == "evaluation":
            dev_eval.DevEvaluator.__call__ = fail
        else:
            raise SystemExit(f"unknown place {where!r}")
    from sncse_cli.main import main as sncse

    sys.argv = ["sncse", *sys.argv[3:]]
    sncse()


if __name__ == "__main__":
    main()
