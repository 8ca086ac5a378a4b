"""Alignment and uniformity (Wang & Isola, 2020) as SimCSE measures them (Gao et al., 2021, Eq. 2-3).

With L2-normalised embeddings f(x):

    l_align   = E_{(x, x+) ~ p_pos} ||f(x) - f(x+)||^2
    l_uniform = log E_{x, y ~ p_data} exp(-2 ||f(x) - f(y)||^2)

Lower is better for both. As in SimCSE (the authors: "we take the whole STS-B dataset", SimCSE issue
#52), p_data is every distinct sentence of STS-B (train + dev + test) and p_pos the STS-B pairs whose
gold score is above 4 (of 5). ``l_uniform`` is the mean over all distinct pairs x != y (``torch.pdist``
in Wang & Isola's reference code), computed here in blocks in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.senteval import load_sts

Embedder = Callable[[list[str]], np.ndarray]
DEFAULT_SPLITS = ("train", "dev", "test")


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def align_loss(x: np.ndarray, y: np.ndarray, alpha: float = 2.0) -> float:
    """E ||f(x) - f(y)||^alpha over row pairs of normalised embeddings."""
    x, y = _normalize(x), _normalize(y)
    return float((np.linalg.norm(x - y, axis=1) ** alpha).mean())


def uniform_loss(x: np.ndarray, t: float = 2.0, block: int = 512) -> float:
    """log of the mean of exp(-t ||f(x_i) - f(x_j)||^2) over pairs i < j (``torch.pdist`` order)."""
    x = _normalize(x)
    n = len(x)
    if n < 2:
        return float("nan")
    total = 0.0
    for start in range(0, n, block):
        a = x[start : start + block]
        sq = np.maximum(2.0 - 2.0 * (a @ x.T), 0.0)  # ||u - v||^2 of unit vectors
        vals = np.exp(-t * sq)
        rows = np.arange(start, start + len(a))[:, None]
        total += float(vals[np.arange(n)[None, :] > rows].sum())
    return float(np.log(total / (n * (n - 1) / 2)))


def evaluate_alignment(embed: Embedder, root: str | Path | None = None,
                       splits: Sequence[str] = DEFAULT_SPLITS, threshold: float = 4.0,
                       limit: int | None = None) -> dict[str, Any]:
    """``{"align", "uniform", "positive_pairs", "sentences", "splits", "threshold"}`` on STS-B."""
    s1: list[str] = []
    s2: list[str] = []
    gold: list[float] = []
    for split in splits:
        a, b, g = load_sts("stsb", split, root=root).all_pairs()
        if limit is not None:
            a, b, g = a[:limit], b[:limit], g[:limit]
        s1 += a
        s2 += b
        gold += g.tolist()
    unique = list(dict.fromkeys(s1 + s2))
    vectors = np.asarray(embed(unique))
    table = dict(zip(unique, vectors, strict=True))
    pos = [i for i, g in enumerate(gold) if g > threshold]
    align = align_loss(np.stack([table[s1[i]] for i in pos]), np.stack([table[s2[i]] for i in pos])) if pos else float("nan")
    return {
        "align": align,
        "uniform": uniform_loss(vectors),
        "positive_pairs": len(pos),
        "sentences": len(unique),
        "splits": list(splits),
        "threshold": threshold,
        "protocol": f"SimCSE alignment/uniformity on STS-B ({'+'.join(splits)}): positives = gold > {threshold}, "
                    "data = all distinct sentences; embeddings L2-normalised; alpha=2, t=2",
    }
