"""A small data root in ``sncse``'s full layout, for the tests on a machine without the full sets.

Built from the sample embedded in the package (``sncse/resources/sample``), whose files it copies
unchanged: STS-B dev and test, the negation triplets and the first 2,000 Wikipedia lines. The sets the
sample lacks are written from those same real sentences in each set's own file format, so every
reader, evaluator and command runs on it exactly as on SentEval's files:

- STS12-16: SentEval's subset names, each a slice of STS-B test pairs with their gold scores; STS15's
  ``answers-forums`` also holds unscored pairs (an empty gold line), as SentEval's file does.
- SICK: the negation triplets as SICK rows (anchor -> positive ``ENTAILMENT``, anchor -> negative
  ``CONTRADICTION``), so that the negation task built from these files gives the sample's triplets;
  their relatedness is ``1 + 4 * word Jaccard``. Then STS-B dev pairs as ``NEUTRAL`` rows, relatedness
  ``1 + 0.8 * gold`` (SICK's 1-5 scale), so that SICK-R spans all levels of word overlap.
- SNLI: the same triplets as premise/hypothesis/label lines, plus one neutral line per premise.
- transfer sets (MR, CR, SUBJ, MPQA, SST-2, TREC, MRPC): Wikipedia sentences labelled by a rule an
  embedding can pick up (a digit in the sentence), MRPC from STS-B dev pairs (paraphrase: gold >= 3).

Counts are not the papers' (the tests that check those read the full sets); sizes are kept small so
that a test on this root runs in seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sncse.data.root import sample_root
from sncse.data.tasks import STS_SUBSETS

#: STS-B test pairs per STS12-16 subset
PAIRS_PER_SUBSET = 30
#: unscored pairs in STS15 answers-forums (an empty gold line each)
UNSCORED_FORUMS_PAIRS = 4
#: sentences per class of a binary transfer set
TRANSFER_PER_CLASS = 60
_STS_DIRS = {"sts12": "STS12-en-test", "sts13": "STS13-en-test", "sts14": "STS14-en-test",
             "sts15": "STS15-en-test", "sts16": "STS16-en-test"}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding=encoding)


def _stsb_rows(path: Path) -> list[tuple[float, str, str]]:
    rows = []
    for line in _lines(path):
        f = line.split("\t")
        rows.append((float(f[4]), f[5], f[6]))
    return rows


def _relatedness(a: str, b: str) -> str:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return f"{1 + 4 * len(wa & wb) / len(wa | wb):.1f}"


def _latin1(s: str) -> bool:
    """SentEval's MR, CR, SUBJ, MPQA and TREC files are read as latin-1."""
    try:
        s.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def build_sample_data_root(dest: Path) -> Path:
    """Write the root described in the module docstring under ``dest``; returns ``dest``."""
    src = sample_root()
    for rel in ("corpus/wiki1m_head.txt", "negation/sick_negation_triplets.tsv", "negation/LICENSE.txt"):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dest / rel)
    down = dest / "senteval" / "downstream"
    shutil.copytree(src / "senteval" / "downstream" / "STS" / "STSBenchmark", down / "STS" / "STSBenchmark")
    stsb_dir = down / "STS" / "STSBenchmark"
    _write(stsb_dir / "sts-train.csv", _lines(stsb_dir / "sts-dev.csv")[:300])
    test_pairs = _stsb_rows(stsb_dir / "sts-test.csv")
    dev_pairs = _stsb_rows(stsb_dir / "sts-dev.csv")

    # STS12-16
    start = 0
    for task, subsets in STS_SUBSETS.items():
        for name in subsets:
            chunk = test_pairs[start:start + PAIRS_PER_SUBSET]
            start += PAIRS_PER_SUBSET
            pairs = [f"{a}\t{b}" for _, a, b in chunk]
            gold = [f"{g:.3f}" for g, _, _ in chunk]
            if (task, name) == ("sts15", "answers-forums"):
                extra = test_pairs[-UNSCORED_FORUMS_PAIRS:]
                pairs = pairs[:6] + [f"{a}\t{b}" for _, a, b in extra] + pairs[6:]
                gold = gold[:6] + [""] * len(extra) + gold[6:]
            _write(down / "STS" / _STS_DIRS[task] / f"STS.input.{name}.txt", pairs)
            _write(down / "STS" / _STS_DIRS[task] / f"STS.gs.{name}.txt", gold)

    # SICK and SNLI from the negation triplets
    triplets = [tuple(line.split("\t")) for line in _lines(src / "negation" / "sick_negation_triplets.tsv")[1:]]
    n = len(triplets)
    cuts = {"train": (0, n * 6 // 10), "trial": (n * 6 // 10, n * 7 // 10), "test_annotated": (n * 7 // 10, n)}
    neutral = {"train": dev_pairs[:200], "trial": dev_pairs[200:260], "test_annotated": dev_pairs[260:560]}
    pair_id = 0
    for split, (lo, hi) in cuts.items():
        rows = ["pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment"]
        for a, p, neg in triplets[lo:hi]:
            for b, judgment in ((p, "ENTAILMENT"), (neg, "CONTRADICTION")):
                pair_id += 1
                rows.append(f"{pair_id}\t{a}\t{b}\t{_relatedness(a, b)}\t{judgment}")
        for gold, a, b in neutral[split]:
            pair_id += 1
            rows.append(f"{pair_id}\t{a}\t{b}\t{1 + 0.8 * gold:.1f}\tNEUTRAL")
        _write(down / "SICK" / f"SICK_{split}.txt", rows)
    for split, (lo, hi) in {"dev": cuts["trial"], "test": cuts["test_annotated"]}.items():
        s1, s2, labels = [], [], []
        chunk = triplets[lo:hi]
        for i, (a, p, neg) in enumerate(chunk):
            other = chunk[(i + 1) % len(chunk)][1]
            for hyp, label in ((p, "entailment"), (other, "neutral"), (neg, "contradiction")):
                s1.append(a)
                s2.append(hyp)
                labels.append(label)
        for name, lines in (("s1", s1), ("s2", s2), ("labels", labels)):
            _write(down / "SNLI" / f"{name}.{split}", lines)

    # transfer sets: Wikipedia sentences, class 1 = holds a digit
    wiki = [s for s in _lines(src / "corpus" / "wiki1m_head.txt") if s.strip() and "\t" not in s and _latin1(s)]
    with_digit = [s for s in wiki if any(c.isdigit() for c in s)]
    without = [s for s in wiki if not any(c.isdigit() for c in s)]
    k = TRANSFER_PER_CLASS
    for i, (pos_file, neg_file) in enumerate((("MR/rt-polarity.pos", "MR/rt-polarity.neg"),
                                              ("CR/custrev.pos", "CR/custrev.neg"),
                                              ("SUBJ/subj.objective", "SUBJ/subj.subjective"),
                                              ("MPQA/mpqa.pos", "MPQA/mpqa.neg"))):
        _write(down / pos_file, with_digit[i * k:(i + 1) * k], encoding="latin-1")
        _write(down / neg_file, without[i * k:(i + 1) * k], encoding="latin-1")
    offset = 4 * k
    for name, size in (("train", 2 * k), ("dev", k // 2), ("test", k // 2)):
        pos, neg = with_digit[offset:offset + size // 2], without[offset:offset + size // 2]
        offset += size // 2
        _write(down / "SST" / "binary" / f"sentiment-{name}",
               [f"{s} \t{label}" for pair in zip(pos, neg, strict=True) for s, label in ((pair[0], 1), (pair[1], 0))])
    trec_labels = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    for name, size in (("train_5500.label", 120), ("TREC_10.label", 30)):
        lines = [f"{trec_labels[j % 6]}:other {without[offset + j]}" for j in range(size)]
        offset += size
        _write(down / "TREC" / name, lines, encoding="latin-1")
    header = "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String"
    for name, rows in (("msr_paraphrase_train.txt", dev_pairs[:120]), ("msr_paraphrase_test.txt", dev_pairs[120:160])):
        _write(down / "MRPC" / name, [header] + [f"{int(g >= 3)}\t{2 * j}\t{2 * j + 1}\t{a}\t{b}"
                                                 for j, (g, a, b) in enumerate(rows)])
    return dest
