"""Analyses of trained models (SNCSE, Wang et al., 2022, Section 5): rank-based error analysis
(Eq. 10-11) with heuristic tags, soft-negative similarity (Figure 4), hyperparameter sweeps (Figure 3).

>>> from sncse.analyze import negation_similarity
>>> result = negation_similarity(["runs/simcse", "runs/sncse"], "pairs.negations.jsonl",
...                              figure="analysis/negation_similarity.png")        # doctest: +SKIP
>>> result.rows()                                                                   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "negation_similarity": "negation_sim",
    "analyze_task": "ranks",
}


def __getattr__(name: str) -> Any:  # lazy: keep `import sncse.analyze` free of numpy/scipy/matplotlib
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


__all__ = list(_LAZY)
