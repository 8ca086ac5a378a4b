"""STS-B dev evaluation during training: Spearman correlation x 100 of cosine similarities.

As SimCSE and SNCSE select checkpoints: every ``train.eval_steps`` steps the model (evaluation mode:
dropout off, training-only MLP head off) encodes the STS-B dev pairs and the Spearman correlation
between their cosine similarities and the gold scores is computed over all pairs.

Made cheap enough to run often: the dev sentences are deduplicated, tokenized once (original
template, no truncation to the training length, as ``SentenceEncoder.encode``), sorted by length and
collated once, and kept on the device; each evaluation is then a few forward passes in bf16 on GPUs.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

from ..encoders.model import SentenceEncoder, autocast_for

log = logging.getLogger(__name__)


class DevEvaluator:
    """``evaluator(model) -> float``: STS-B dev Spearman x 100 (first ``limit`` pairs if given)."""

    def __init__(self, model: SentenceEncoder, limit: int | None = None, batch_size: int = 128,
                 amp: str = "auto", root: str | Path | None = None, task: str = "stsb", split: str = "dev"):
        from ..data.senteval import load_sts

        sts = load_sts(task, split, root=root)
        s1, s2, gold = sts.all_pairs()
        if limit is not None:
            s1, s2, gold = s1[:limit], s2[:limit], gold[:limit]
        self.name = f"{split}_{task}"
        self.pairs = len(gold)
        self.gold = np.asarray(gold, dtype=np.float64)
        self.amp = amp
        unique = list(dict.fromkeys(list(s1) + list(s2)))
        index = {s: i for i, s in enumerate(unique)}
        self.n = len(unique)
        device = model.device
        self._i1 = torch.as_tensor([index[s] for s in s1], device=device)
        self._i2 = torch.as_tensor([index[s] for s in s2], device=device)
        ids = model.tokenize(unique, view="original", max_length=model.inference_max_length)
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        self._batches = []
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = model.collate([ids[i] for i in idx], device=device)
            self._batches.append((torch.as_tensor(idx, device=device), batch["input_ids"], batch["attention_mask"]))

    @torch.no_grad()
    def embeddings(self, model: SentenceEncoder) -> torch.Tensor:
        was_training = model.training
        model.eval()
        device = model.device
        out = torch.empty((self.n, model.hidden_size), dtype=torch.float32, device=device)
        ctx = autocast_for(device, self.amp) if device.type == "cuda" else nullcontext()
        try:
            with ctx:
                for idx, input_ids, attention_mask in self._batches:
                    out[idx] = model(input_ids, attention_mask).float()
        finally:
            model.train(was_training)
        return out

    def __call__(self, model: SentenceEncoder) -> float:
        emb = self.embeddings(model)
        # float64: near-tied cosines must not swap ranks through rounding
        cos = F.cosine_similarity(emb[self._i1].double(), emb[self._i2].double(), dim=-1)
        rho = spearmanr(cos.cpu().numpy(), self.gold).statistic
        return float(rho) * 100.0
