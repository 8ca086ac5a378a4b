#!/usr/bin/env python3
"""Helpers of ``scripts/reproduce.sh`` (the results page, ``docs/results.md``). Each subcommand is one small
step that the shell script cannot do by itself; every file is written atomically (``sncse.io.atomic_write``).

    corpus            the training corpus: the wiki prefix followed by the sentences of SentEval's transfer
                      sets (MR, CR, SUBJ, MPQA, TREC by default), de-duplicated, one sentence a line
    analysis-sentences  the STS sentences that ``sncse analyze --negation`` samples (same function, same seed),
                      one a line, so that they can be negated ahead of time where spaCy is installed; then
                      ``sncse analyze --negation --pairs FILE`` runs the analysis where it is not
    pack-negations    gzip a ``sncse negate`` output for training, dropping (and counting) pairs with an empty side:
                      the faithful rules turn the line "not" (MPQA has it) into "", which the trainer refuses
    fp32-encoder      a float32 copy of a Hugging Face encoder folder (the GPU bundle ships fp16 weights,
                      which transformers 5 would load as fp16 and train in fp16)
    meta              merge key=value pairs (values parsed as JSON when they parse) into a JSON file; key?=v
                      sets only if absent, key+=n adds, key[]=v appends
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_TRANSFER_SETS = ("mr", "cr", "subj", "mpqa", "trec")


# ------------------------------------------------------------------------------------------ corpus
def build_corpus(wiki: Path, out: Path, sets: list[str], root: str | None = None) -> dict[str, Any]:
    """Write ``out``: every line of ``wiki`` unchanged (so its negations equal those of the wiki file
    alone), then each transfer-set sentence (SentEval's reader: latin-1, labels stripped, whitespace
    re-joined) that is not blank and not already in the file. Returns the counts."""
    from sncse.data.senteval import load_transfer
    from sncse.io import atomic_write, iter_lines, write_json

    seen: set[str] = set()
    stats: dict[str, Any] = {"wiki_file": str(wiki), "sets": {}}
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as fh:
        n_wiki = 0
        for line in iter_lines(wiki):
            fh.write(line + "\n")
            seen.add(" ".join(line.split()))
            n_wiki += 1
        stats["wiki_lines"] = n_wiki
        total = n_wiki
        for name in sets:
            task = load_transfer(name, root=root)
            read = kept = 0
            for split in task.splits.values():
                for sentence in (*split.sent1, *(split.sent2 or [])):
                    read += 1
                    if not sentence or sentence in seen:
                        continue
                    seen.add(sentence)
                    fh.write(sentence + "\n")
                    kept += 1
            stats["sets"][name] = {"sentences": read, "kept": kept, "dropped_duplicate_or_blank": read - kept}
            total += kept
        stats["lines"] = total
    write_json(out.with_suffix(".stats.json"), stats)
    return stats


# ------------------------------------------------------------------------------- negation analysis
def write_analysis_sentences(out: Path, n: int, seed: int) -> int:
    from sncse.analyze.negation_sim import sample_sentences
    from sncse.io import atomic_write

    sentences = sample_sentences(n, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as fh:
        for s in sentences:
            fh.write(s + "\n")
    return len(sentences)


def pack_negations(src: Path, dst: Path) -> dict[str, int]:
    """Copy ``src`` (a ``sncse negate`` output) to the gzip file ``dst`` without the pairs that have an
    empty sentence or negation; returns ``{"pairs": kept, "dropped_empty": n}``."""
    import gzip

    from sncse.data.corpus import iter_negation_pairs
    from sncse.io import atomic_write
    from sncse.negation.io import format_pair

    kept = dropped = 0
    with atomic_write(dst, mode="wb", encoding=None) as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        for _, sentence, negation in iter_negation_pairs(src):
            if not sentence.strip() or not negation.strip():
                dropped += 1
                continue
            gz.write(format_pair(sentence, negation).encode("utf-8"))
            kept += 1
    return {"pairs": kept, "dropped_empty": dropped}


# --------------------------------------------------------------------------------------- encoder
def fp32_encoder(src: Path, dst: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tmp = dst.with_name(dst.name + ".partial")
    AutoModel.from_pretrained(str(src), dtype=torch.float32).save_pretrained(str(tmp))
    AutoTokenizer.from_pretrained(str(src)).save_pretrained(str(tmp))
    if dst.exists():
        import shutil

        shutil.rmtree(dst)
    tmp.rename(dst)


# ------------------------------------------------------------------------------------------ meta
def merge_meta(path: Path, items: list[str]) -> dict[str, Any]:
    """``key=value`` sets, ``key?=value`` sets only if absent, ``key+=number`` adds, ``key[]=value`` appends
    to a list; dotted keys nest."""
    from sncse.io import write_json

    obj: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"meta: expected key=value, got {item!r}")
        op = "[]" if key.endswith("[]") else (key[-1] if key[-1:] in ("?", "+") else "")
        key = key[: -len(op)] if op else key
        try:
            parsed: Any = json.loads(value)
        except ValueError:
            parsed = value
        target = obj
        *parents, leaf = key.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        if op == "?":
            target.setdefault(leaf, parsed)
        elif op == "+":
            target[leaf] = target.get(leaf, 0) + parsed
        elif op == "[]":
            target.setdefault(leaf, []).append(parsed)
        else:
            target[leaf] = parsed
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, obj)
    return obj


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("corpus", help="wiki prefix + transfer-set sentences")
    p.add_argument("--wiki", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--sets", default=",".join(DEFAULT_TRANSFER_SETS))

    p = sub.add_parser("analysis-sentences", help="the STS sentences `sncse analyze --negation` samples")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("pack-negations", help="gzip negations for training, without empty pairs")
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)

    p = sub.add_parser("fp32-encoder", help="float32 copy of an encoder folder")
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)

    p = sub.add_parser("meta", help="merge key=value pairs into a JSON file")
    p.add_argument("path", type=Path)
    p.add_argument("items", nargs="*")

    args = parser.parse_args(argv)
    from sncse.errors import SncseError

    try:
        if args.cmd == "corpus":
            stats = build_corpus(args.wiki, args.out, [s for s in args.sets.split(",") if s])
            print(json.dumps(stats))
        elif args.cmd == "analysis-sentences":
            print(write_analysis_sentences(args.out, args.n, args.seed))
        elif args.cmd == "pack-negations":
            print(json.dumps(pack_negations(args.src, args.dst)))
        elif args.cmd == "fp32-encoder":
            fp32_encoder(args.src, args.dst)
        else:
            merge_meta(args.path, args.items)
    except SncseError as exc:
        print(f"error: {exc}", file=sys.stderr)  # SncseError's text already names the file and line
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
