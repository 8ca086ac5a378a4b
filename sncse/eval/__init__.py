"""Evaluation under the SimCSE / SNCSE protocol.

- ``sts``: the 7 STS tasks (cosine, Spearman x100, "all" aggregation), ``evaluate_sts``, ``stsb_dev_spearman``
- ``transfer``: SentEval's 7 transfer tasks with a logistic-regression probe
- ``alignment``: alignment and uniformity (Wang & Isola, 2020) on STS-B
- ``published``: the papers' published rows, for comparison
- ``results``: the result JSON schema and the MTEB export
- ``runner``: ``run_eval``, what ``sncse eval`` calls
- ``pair_scores``: every pair's cosine and gold score (``sncse eval --pair-scores``)
- ``compare``: the paired bootstrap between systems, ``compare_runs`` (``sncse analyze --compare``)
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "evaluate_sts": "sts",
    "stsb_dev_spearman": "sts",
    "evaluate_transfer": "transfer",
    "evaluate_alignment": "alignment",
    "run_eval": "runner",
    "compare_runs": "compare",
    "paired_bootstrap": "compare",
}


def __getattr__(name: str) -> Any:  # lazy: keep `import sncse.eval` free of scipy/sklearn
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


__all__ = list(_LAZY)
