"""A run directory: what ``sncse train`` and ``sncse eval RUN`` leave in it, and how it is read.

Layout (``train.output_dir``)::

    RUN/config.yaml      the resolved config (what ``--resume`` re-reads)
    RUN/run.json         versions, device, command (``sncse.runinfo``)
    RUN/metrics.jsonl    train records {"step", "loss", ...} and eval records {"step", "dev_stsb"}
    RUN/results.json     {"best_step", "best_dev_stsb", "steps", "train_seconds", ...}
    RUN/best/, RUN/last/ checkpoints (saved models; ``last/`` also holds the trainer state)
    RUN/eval_test.json   what ``sncse eval RUN`` wrote (``eval_dev.json`` for ``--mode dev``,
                         ``eval_triplets.json`` for triplet sets alone, ``eval_pairs.json`` for own pairs),
                         with ``eval_<mode>.pair_scores.json.gz`` and ``eval_<mode>.overlap.json`` beside it

- ``files``: these names and the paths built from them, the one place they are spelled;
- ``reader``: reading a run directory (read-only, lenient), for the model card, sweeps and the results page.

Both sit just above ``errors``, ``io`` and ``registry`` (they import nothing else of ``sncse``), so that
training, evaluation, analysis, export, the CLI and the scripts all take the names from here.
"""
