"""Published results, for comparison tables. These are the papers' numbers, never ours.

STS rows: Spearman x100, "all" setting, test splits, no regressor (the protocol of ``sncse.eval.sts``).
Transfer rows: accuracy x100 from SentEval (SimCSE used SentEval's PyTorch probe, ``sncse.eval.transfer``
uses its scikit-learn one).

Sources (checked against the papers' text):
- SimCSE: Gao, Yao & Chen (2021), "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
  EMNLP 2021, Table 5 (STS) and Table E.1 (transfer).
- SNCSE: Wang et al. (2022), "SNCSE: Contrastive Learning for Unsupervised Sentence Embedding with Soft
  Negative Samples", arXiv:2201.05979, abstract: average 78.97 (BERT-base) and 79.23 (RoBERTa-base).
  The per-task SNCSE figures are in an image table we could not read as text, so only the averages are
  recorded; per-task cells are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.tasks import STS_TASKS, TRANSFER_TASKS

SIMCSE = "Gao et al. 2021 (SimCSE)"
SNCSE = "Wang et al. 2022 (SNCSE)"


@dataclass(frozen=True)
class PublishedRow:
    name: str
    source: str
    where: str
    scores: dict[str, float | None] = field(default_factory=dict)
    avg: float | None = None

    def label(self) -> str:
        return f"{self.name} (published)"


def _row(name: str, source: str, where: str, values: list[float | None], avg: float | None,
         columns: tuple[str, ...] = STS_TASKS) -> PublishedRow:
    return PublishedRow(name, source, where, dict(zip(columns, values, strict=True)), avg)


PUBLISHED_STS: list[PublishedRow] = [
    _row("SimCSE-BERT-base (unsup.)", SIMCSE, "Table 5",
         [68.40, 82.41, 74.38, 80.91, 78.56, 76.85, 72.23], 76.25),
    _row("SimCSE-RoBERTa-base (unsup.)", SIMCSE, "Table 5",
         [70.16, 81.77, 73.24, 81.36, 80.65, 80.22, 68.56], 76.57),
    _row("SimCSE-RoBERTa-large (unsup.)", SIMCSE, "Table 5",
         [72.86, 83.99, 75.62, 84.77, 81.80, 81.98, 71.26], 78.90),
    _row("SimCSE-BERT-base (sup.)", SIMCSE, "Table 5",
         [75.30, 84.67, 80.19, 85.40, 80.82, 84.25, 80.39], 81.57),
    _row("SBERT-base", SIMCSE + ", from Reimers & Gurevych 2019", "Table 5",
         [70.97, 76.53, 73.19, 79.09, 74.30, 77.03, 72.91], 74.89),
    _row("SNCSE-BERT-base", SNCSE, "abstract (average only)", [None] * 7, 78.97),
    _row("SNCSE-RoBERTa-base", SNCSE, "abstract (average only)", [None] * 7, 79.23),
]

PUBLISHED_TRANSFER: list[PublishedRow] = [
    _row("SimCSE-BERT-base (unsup.)", SIMCSE, "Table E.1",
         [81.18, 86.46, 94.45, 88.88, 85.50, 89.80, 74.43], 85.81, TRANSFER_TASKS),
    _row("SimCSE-RoBERTa-base (unsup.)", SIMCSE, "Table E.1",
         [81.04, 87.74, 93.28, 86.94, 86.60, 84.60, 73.68], 84.84, TRANSFER_TASKS),
    _row("SimCSE-BERT-base (sup.)", SIMCSE, "Table E.1",
         [82.69, 89.25, 94.81, 89.59, 87.31, 88.40, 73.51], 86.51, TRANSFER_TASKS),
]



@dataclass(frozen=True)
class PublishedAblation:
    """One row of SNCSE's Table 3 (BERT-base, average of the 7 STS tasks): the loss used for the soft
    negatives (a registered loss name), the paper's label of it, and whether the figure was checked
    against the paper's text."""

    loss: str
    label: str
    avg: float
    verified: bool


#: SNCSE (Wang et al., 2022, arXiv:2201.05979) Table 3. Only 78.97 (SNCSE) could be checked against the
#: paper's text (its abstract); the other three are secondary quotes of the table, which every text
#: rendering of the paper shows as an image.
SNCSE_TABLE3: list[PublishedAblation] = [
    PublishedAblation("bml", "SNCSE (BML)", 78.97, True),
    PublishedAblation("infonce", "InfoNCE only (SimCSE)", 78.21, False),
    PublishedAblation("pl", "PL", 77.11, False),
    PublishedAblation("nl", "NL", 74.37, False),
]
#: what a table says beside a figure of SNCSE_TABLE3 that is not ``verified``
UNVERIFIED_TABLE3 = "a secondary quote of the paper's Table 3, not checked against its text"


def published_sts(names: list[str] | None = None) -> list[PublishedRow]:
    """Published STS rows (all, or those whose name contains one of ``names``, case-insensitive)."""
    if not names:
        return list(PUBLISHED_STS)
    return [r for r in PUBLISHED_STS if any(n.lower() in r.name.lower() for n in names)]


def as_dict(row: PublishedRow) -> dict[str, object]:
    return {"name": row.name, "source": row.source, "where": row.where, "published": True,
            "scores": row.scores, "avg": row.avg}
