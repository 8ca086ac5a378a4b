"""Dev evaluation during training: Spearman correlation x 100 of cosine similarities on scored pairs.

As SimCSE and SNCSE select checkpoints: every ``train.eval_steps`` steps the model (evaluation mode:
dropout off, training-only MLP head off) encodes the dev pairs and the Spearman correlation between
their cosine similarities and the gold scores is computed over all pairs. By default the pairs are
STS-B dev; ``train.dev_file`` puts a scored-pairs file of one's own in their place (read by
:func:`sncse.data.pairs.load_pairs`, the reader of ``sncse eval --pairs``), and any scored pair set (two
sentence lists and gold scores) can be passed in Python.

The score is computed by the code ``sncse eval`` runs: ``SentenceEncoder.encode`` (each distinct
sentence once, length-sorted batches, precision per ``eval.amp``, fp32 by default as ``sncse eval``'s)
and :func:`sncse.eval.sts.score_task` (cosines rounded to ``COSINE_DECIMALS``, Spearman over all pairs).
So the number a run selects on is the number ``sncse eval RUN --mode dev`` prints for STS-B on that
checkpoint, on any device. One evaluation
tokenizes the ~2,900 distinct STS-B dev sentences again (tens of milliseconds) and otherwise costs
what ``encode`` costs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..config.schema import AmpMode
from ..data.senteval import STSSubset, STSTask
from ..encoders.model import SentenceEncoder
from ..errors import SncseError
from ..eval.sts import embed_tasks, load_tasks, score_task

log = logging.getLogger(__name__)


class DevEvaluator:
    """``evaluator(model) -> float``: Spearman x 100 of the cosines of ``sentences1[i]``/``sentences2[i]``
    against ``gold[i]``; ``name`` is the metric's name in ``metrics.jsonl`` (``dev_stsb``)."""

    def __init__(self, sentences1: Sequence[str], sentences2: Sequence[str], gold: Sequence[float],
                 name: str = "dev", batch_size: int = 128, amp: AmpMode = "off", source: str | None = None):
        s1, s2, scores = list(sentences1), list(sentences2), np.asarray(gold, dtype=np.float64)
        if not len(s1) == len(s2) == len(scores):
            raise SncseError(f"dev pairs '{name}': {len(s1)} first sentences, {len(s2)} second sentences and "
                             f"{len(scores)} gold scores; they must be equally many")
        if len(scores) < 2:
            raise SncseError(f"dev pairs '{name}': a correlation needs at least 2 pairs, got {len(scores)}")
        self.name = name
        self.source = source  # the file the pairs came from (None for a built-in split)
        self.task = STSTask(task=name, split="dev", subsets=[STSSubset(name, s1, s2, scores)])
        self.batch_size = batch_size
        self.amp = amp

    @classmethod
    def from_sts(cls, task: str = "stsb", limit: int | None = None, root: str | Path | None = None,
                 batch_size: int = 128, amp: AmpMode = "off") -> DevEvaluator:
        """The dev split of an STS task (STS-B dev, SICK-R trial); ``limit``: its first N pairs, as
        ``sncse eval --mode dev --limit N``."""
        (loaded,) = load_tasks([task], mode="dev", root=root, limit=limit)
        s1, s2, gold = loaded.all_pairs()
        return cls(s1, s2, gold, name=f"dev_{task}", batch_size=batch_size, amp=amp)

    @classmethod
    def from_file(cls, path: str | Path, columns: str | None = None, limit: int | None = None,
                  batch_size: int = 128, amp: AmpMode = "off") -> DevEvaluator:
        """Scored pairs from ``path`` (TSV, CSV or JSONL, as ``sncse eval --pairs``; ``columns`` as there);
        the metric is ``dev_<file stem>``, and :attr:`source` names the file."""
        from ..data.pairs import load_pairs

        loaded = load_pairs(path, columns=columns, limit=limit)
        s1, s2, gold = loaded.all_pairs()
        return cls(s1, s2, gold, name=f"dev_{loaded.task}", batch_size=batch_size, amp=amp, source=str(path))

    @property
    def pairs(self) -> int:
        return self.task.pairs

    def embeddings(self, model: SentenceEncoder) -> dict[str, np.ndarray]:
        """sentence -> vector, through ``model.encode`` (evaluation mode; the model's mode is restored)."""
        return embed_tasks([self.task], lambda sentences: model.encode(
            sentences, batch_size=self.batch_size, amp=self.amp, show_progress=False))

    def __call__(self, model: SentenceEncoder) -> float:
        return float(score_task(self.task, self.embeddings(model))["spearman"])
