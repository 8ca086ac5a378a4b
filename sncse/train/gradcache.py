"""The gradient cache: a contrastive step over a batch larger than the memory holds.

Gao, Zhang, Han and Callan (2021), "Scaling Deep Contrastive Learning Batch Size under Memory Limited
Setup" (RepL4NLP; github.com/luyug/GradCache). An in-batch contrastive loss couples every sentence of
the batch through the similarity matrix, so the batch cannot be split into independent pieces the
way gradient accumulation splits a cross-entropy batch: accumulating k batches of B averages k losses
over B candidates each, it never contrasts an anchor with k * B candidates. But the loss depends on
the encoder only through the embeddings, ``L(theta) = L(f_theta(x_1), ..., f_theta(x_N))``, so by the
chain rule

    dL/dtheta = sum_i  (dL/de_i) . (de_i/dtheta),        e_i = f_theta(x_i)

and the two factors can be computed at different times:

1. embed all ``N = V * B`` rows (every view of the batch) in chunks of ``mini_batch_size`` rows,
   without autograd (no activations kept), remembering the random-generator state before each chunk;
2. compute the loss on the full batch from these embeddings (candidates gathered across processes as
   in the plain step) and back-propagate it to the embeddings only: ``g_i = dL/de_i``, a (N, H) tensor;
3. run each chunk again with autograd and back-propagate ``g`` from its embeddings
   (``e_chunk.backward(g_chunk)``): the parameter gradients add up over the chunks to ``dL/dtheta``.

Only one chunk's activations are alive at a time, so memory is that of a plain step at batch
``mini_batch_size`` plus the (N, H) embeddings and the loss's (B, N) similarity matrices; the price
is a second forward pass (about a third more compute than the plain step).

**Why the random state is replayed.** In unsupervised SimCSE / SNCSE the positive *is* the dropout
noise: anchor and positive differ only by their dropout masks. Step 3 must recompute exactly the
embeddings whose gradients step 2 cached; with fresh masks it would differentiate other embeddings
than those the loss saw, and the result would not be the gradient of any loss. So before each chunk
of step 1 the CPU generator and the CUDA generator of the device are saved, and each chunk of step 3
runs with them restored (``torch.random.fork_rng``, which afterwards puts back the state step 1 left:
the next step draws where an uninterrupted run would, and resume stays exact).

The masks are drawn chunk by chunk, so they differ from those of ONE forward over the whole batch;
both are draws of the same noise. Given the masks, the loss and the gradients are exactly those of
the full batch (tests/train/test_gradcache.py: without dropout the cached step equals the plain step
to float64 rounding; with dropout it equals the full-batch loss back-propagated through the same
chunks with autograd).

Mixed precision: fp16's loss scale multiplies the loss before step 2, so the cached gradients and so
the parameter gradients are scaled as in the plain step, and the scaler unscales, checks and steps as
usual. DDP: the backward of every chunk but the last runs under ``no_sync()``, so the parameter
gradients are averaged over processes once, after the last chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch

from ..data.batching import TrainBatch
from ..losses.base import LossOutput
from .step import TrainStep, loss_on_views, split_views

log = logging.getLogger(__name__)

GRADCACHE_CITATION = """@inproceedings{gao2021gradcache,
  title     = {Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup},
  author    = {Gao, Luyu and Zhang, Yunyi and Han, Jiawei and Callan, Jamie},
  booktitle = {Proceedings of the 6th Workshop on Representation Learning for NLP (RepL4NLP-2021)},
  pages     = {316--321},
  year      = {2021}
}"""


@dataclass
class RngSnapshot:
    """The generators a forward pass draws its dropout masks from: the CPU one and, on CUDA, the
    device's. :meth:`replay` runs a block with them restored and then puts back the current state."""

    device: torch.device
    cpu: torch.Tensor
    cuda: torch.Tensor | None = None

    @classmethod
    def take(cls, device: torch.device) -> RngSnapshot:
        cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        return cls(device, torch.get_rng_state(), cuda)

    @contextmanager
    def replay(self) -> Iterator[None]:
        devices = [self.device] if self.cuda is not None else []
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self.cpu)
            if self.cuda is not None:
                torch.cuda.set_rng_state(self.cuda, self.device)
            yield


def chunk_spans(rows: int, size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` cutting ``rows`` into chunks of ``size`` (the last may be smaller)."""
    return [(lo, min(lo + size, rows)) for lo in range(0, rows, size)]


class CachedTrainStep(TrainStep):
    """:class:`TrainStep` with the gradient cache: forwards of at most ``mini_batch_size`` rows.

    The rows are those of the stacked batch (all views: an SNCSE batch of B examples has 3B rows), so
    ``mini_batch_size`` bounds what one forward pass holds whatever the loss. A batch that fits in one
    chunk takes the plain step (the same masks, the same result, one forward). ``chunks`` is the
    number of chunks of the last step.
    """

    def __init__(self, *args, mini_batch_size: int, **kwargs):
        super().__init__(*args, **kwargs)
        if mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be >= 1, got {mini_batch_size}")
        self.mini_batch_size = mini_batch_size

    def _embed(self, batch: TrainBatch, lo: int, hi: int) -> torch.Tensor:
        with self.amp.autocast():
            return self.forward_model(batch.input_ids[lo:hi], batch.attention_mask[lo:hi])

    def forward_backward(self, batch: TrainBatch) -> LossOutput:
        spans = chunk_spans(batch.input_ids.shape[0], self.mini_batch_size)
        self.chunks = len(spans)
        if len(spans) == 1:
            return super().forward_backward(batch)

        # 1. every chunk without autograd, remembering the generators it drew its dropout masks from
        rng: list[RngSnapshot] = []
        with torch.no_grad():
            parts = []
            for lo, hi in spans:
                rng.append(RngSnapshot.take(self.device))
                parts.append(self._embed(batch, lo, hi))
        emb = torch.cat(parts).requires_grad_()  # (V * B, H), a leaf: the loss's gradient stops here
        del parts

        # 2. the full batch's loss (candidates gathered as in the plain step), back to the embeddings
        out = loss_on_views(self.loss_fn, split_views(emb, batch), batch.size, self.dist)
        self.backward(out.loss)  # scaled under fp16
        grad = emb.grad
        assert grad is not None

        # 3. each chunk again, with autograd and its own masks, fed the cached gradients; under DDP the
        # gradients are all-reduced once, in the backward of the last chunk
        no_sync = getattr(self.forward_model, "no_sync", None) if self.dist.enabled else None
        for k, ((lo, hi), state) in enumerate(zip(spans, rng, strict=True)):
            last = k == len(spans) - 1
            with (no_sync() if no_sync is not None and not last else nullcontext()), state.replay():
                self._embed(batch, lo, hi).backward(grad[lo:hi])
        return LossOutput(out.loss.detach(), out.parts)
