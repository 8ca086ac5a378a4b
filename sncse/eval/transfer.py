"""SentEval transfer tasks with a logistic-regression probe on frozen sentence embeddings.

Follows SentEval (Conneau & Kiela, 2018; ``senteval/tools/validation.py``) with its scikit-learn
classifier (``usepytorch=False``), as SimCSE's Appendix E describes ("a logistic regression classifier
is trained on top of (frozen) sentence embeddings ... default configurations from SentEval"):

- MR, CR, SUBJ, MPQA — ``InnerKFoldClassifier``: outer stratified k-fold (k=10, shuffled, seed 1111);
  in each outer fold, an inner k-fold over the training part picks C in {2^-2, ..., 2^3}; the test
  fold accuracy with that C is averaged over the outer folds.
- TREC, MRPC — ``KFoldClassifier``: k-fold CV on the given train split picks C in {2^-1, ..., 2^5};
  refit on all of train, accuracy on the given test split. MRPC features are ``[|u - v|, u * v]``.
- SST-2 — ``SplitClassifier``: C in {2^-2, ..., 2^3} chosen on the given dev split, accuracy on test.

Samples are ordered as SentEval orders them (by length, then label) so that the shuffled folds are
the same index sets. Differences that remain: SentEval's published numbers (and SimCSE's) used its
PyTorch logistic regression (``usepytorch=True``, Adam, l2 in {1e-5..1e-2}); here scikit-learn's
``LogisticRegression(C, random_state=1111, max_iter=...)`` with the lbfgs solver of current
scikit-learn (old versions defaulted to liblinear), so expect differences of a few tenths.
Accuracy is x100, rounded as SentEval rounds (2 decimals per fold).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.senteval import TransferTask, load_transfer
from ..data.tasks import transfer_tasks
from ..progress import task as progress_task

log = logging.getLogger(__name__)

Embedder = Callable[[list[str]], np.ndarray]
SEED = 1111
INNER_REGS = [2.0**t for t in range(-2, 4)]
KFOLD_REGS = [2.0**t for t in range(-1, 6)]
SPLIT_REGS = [2.0**t for t in range(-2, 4)]
PROTOCOL = ("SentEval transfer (scikit-learn logistic regression on frozen embeddings): MR/CR/SUBJ/MPQA "
            "nested {k}-fold CV; TREC/MRPC {k}-fold CV on train then test split (MRPC [|u-v|, u*v]); "
            "SST-2 C chosen on dev; accuracy x100")


def _clf(c: float, max_iter: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, random_state=SEED, max_iter=max_iter)


def _fit_score(c: float, xtr, ytr, xte, yte, max_iter: int) -> float:
    with warnings.catch_warnings(), _one_thread():
        warnings.simplefilter("ignore")  # ConvergenceWarning at small max_iter: the score still counts
        clf = _clf(c, max_iter).fit(xtr, ytr)
    return float(clf.score(xte, yte))


def _one_thread():
    """Single-threaded BLAS for the many small lbfgs fits: on a busy 2-core machine, multi-threaded
    BLAS spends more time synchronising than computing (measured 3-10x slower per fit)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def inner_kfold(x: np.ndarray, y: np.ndarray, k: int = 10, max_iter: int = 1000,
                advance: Callable[[int], None] | None = None) -> dict[str, float]:
    """SentEval's InnerKFoldClassifier (sklearn branch)."""
    from sklearn.model_selection import StratifiedKFold

    outer = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    inner = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    dev, test = [], []
    for tr, te in outer.split(x, y):
        xtr, ytr = x[tr], y[tr]
        scores = []
        for c in INNER_REGS:
            accs = [_fit_score(c, xtr[a], ytr[a], xtr[b], ytr[b], max_iter) for a, b in inner.split(xtr, ytr)]
            scores.append(round(100 * float(np.mean(accs)), 2))
        best = INNER_REGS[int(np.argmax(scores))]
        dev.append(max(scores))
        test.append(round(100 * _fit_score(best, xtr, ytr, x[te], y[te], max_iter), 2))
        if advance:
            advance(1)
    return {"acc": round(float(np.mean(test)), 2), "devacc": round(float(np.mean(dev)), 2)}


def kfold_then_test(xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, yte: np.ndarray, k: int = 10,
                    max_iter: int = 1000) -> dict[str, Any]:
    """SentEval's KFoldClassifier (sklearn branch): CV on train picks C, then test accuracy."""
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    scores = []
    for c in KFOLD_REGS:
        accs = [_fit_score(c, xtr[a], ytr[a], xtr[b], ytr[b], max_iter) for a, b in skf.split(xtr, ytr)]
        scores.append(round(100 * float(np.mean(accs)), 2))
    best = KFOLD_REGS[int(np.argmax(scores))]
    with warnings.catch_warnings(), _one_thread():
        warnings.simplefilter("ignore")
        clf = _clf(best, max_iter).fit(xtr, ytr)
    return {"acc": round(100 * float(clf.score(xte, yte)), 2), "devacc": max(scores), "C": best,
            "yhat": clf.predict(xte)}


def split_classifier(x: dict[str, np.ndarray], y: dict[str, np.ndarray], max_iter: int = 1000) -> dict[str, float]:
    """SentEval's SplitClassifier (sklearn branch): C chosen on dev, accuracy on test."""
    scores = [round(100 * _fit_score(c, x["train"], y["train"], x["dev"], y["dev"], max_iter), 2)
              for c in SPLIT_REGS]
    best = SPLIT_REGS[int(np.argmax(scores))]
    return {"acc": round(100 * _fit_score(best, x["train"], y["train"], x["test"], y["test"], max_iter), 2),
            "devacc": max(scores), "C": best}


def _limit(task: TransferTask, limit: int | None) -> TransferTask:
    """Keep an evenly spread subset of each split (smoke tests only: every class stays present)."""
    if limit is None:
        return task
    from ..data.senteval import TransferSplit

    out = {}
    for name, s in task.splits.items():
        if len(s) <= limit:
            out[name] = s
            continue
        idx = np.linspace(0, len(s) - 1, limit).round().astype(int)
        out[name] = TransferSplit([s.sent1[i] for i in idx], s.labels[idx],
                                  [s.sent2[i] for i in idx] if s.sent2 is not None else None)
    return TransferTask(task.task, out)


def evaluate_transfer(
    embed: Embedder,
    tasks: str | Sequence[str] | None = None,
    root: str | Path | None = None,
    kfold: int = 10,
    max_iter: int = 1000,
    limit: int | None = None,
) -> dict[str, Any]:
    """Accuracy x100 per transfer task and their mean. ``embed``: list[str] -> (N, H) array."""
    names = transfer_tasks(tasks)
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        t0 = time.perf_counter()
        task = _limit(load_transfer(name, root=root), limit)
        emb = {k: np.asarray(embed(s.sent1)) for k, s in task.splits.items()}
        if name == "mrpc":
            emb = {k: (lambda a, b: np.c_[np.abs(a - b), a * b])(emb[k], np.asarray(embed(s.sent2)))
                   for k, s in task.splits.items()}
        y = {k: s.labels for k, s in task.splits.items()}
        if "all" in task.splits:
            with progress_task(f"{name} {kfold}-fold", total=kfold, unit="fold") as advance:
                r = inner_kfold(emb["all"], y["all"], k=kfold, max_iter=max_iter, advance=advance)
            n = len(y["all"])
            r.update(ndev=n, ntest=n)
        elif name == "sst2":
            r = split_classifier(emb, y, max_iter=max_iter)
            r.update(ndev=len(y["dev"]), ntest=len(y["test"]))
        else:
            r = kfold_then_test(emb["train"], y["train"], emb["test"], y["test"], k=kfold, max_iter=max_iter)
            if name == "mrpc":
                from sklearn.metrics import f1_score

                r["f1"] = round(100 * float(f1_score(y["test"], r["yhat"])), 2)
            r.pop("yhat")
            r.update(ndev=len(y["train"]), ntest=len(y["test"]))
        r["seconds"] = round(time.perf_counter() - t0, 2)
        log.info("%s: acc %.2f (dev %.2f) in %.0fs", name, r["acc"], r["devacc"], r["seconds"])
        results[name] = r
    accs = [r["acc"] for r in results.values()]
    return {"protocol": PROTOCOL.format(k=kfold), "tasks": results,
            "avg": round(float(np.mean(accs)), 2) if accs else float("nan"), "limit": limit}
