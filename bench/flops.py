"""Analytic FLOPs of a BERT-style encoder training step, and the measured matrix-multiply ceiling.

Used by ``bench/train_throughput.py`` for model FLOPs utilisation (MFU, Chowdhery et al., 2022,
"PaLM", Appendix B): the FLOPs the model *needs* for the sentences it processed per second, divided
by the rate the chip reaches on a large matrix product **measured in the same run** (not a datasheet
number).

Counting (one multiply-add = 2 FLOPs; L layers, hidden H, feed-forward width I, a sequence of t
tokens; embeddings, layer norms, softmax, GELU and biases are left out: they are element-wise, well
under 1% at these sizes)::

    weight matmuls per token      2 * P,   P = L * (4 H^2 + 2 H I)   (Q, K, V, output; FFN in/out)
    attention per sequence        4 * L * t^2 * H                     (Q K^T and A V, all heads)
    pooled vector per sequence    2 * H^2                             (SimCSE's MLP head, training only)
    forward(batch)  = sum over sequences s of [2 P t_s + 4 L H t_s^2 + 2 H^2 * head]
    train step      = 3 * forward          (backward = 2 x forward: grads w.r.t. inputs and weights)

``t_s`` is the sequence's real length (padding excluded) for the *model* FLOPs behind ``mfu``; with
the padded length of the batch tensor (what the kernels actually computed) the same formula gives the
*hardware* FLOPs behind ``hfu``. The contrastive loss (a B x N cosine matrix, 2 B N H) is below 0.1%
and left out. For BERT-base (L=12, H=768, I=3072) P = 84.9M, so a 32-token sequence costs
2 * 84.9M * 32 + 4 * 12 * 32^2 * 768 = 5.44 GFLOP forward + 38M attention = 5.47 GFLOP, 16.4 GFLOP per
training pass (three passes per source sentence for SNCSE).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EncoderShape:
    """The sizes that set a BERT-style encoder's FLOPs."""

    layers: int
    hidden: int
    intermediate: int

    @classmethod
    def from_config(cls, config: Any) -> EncoderShape:
        """From a Hugging Face ``PretrainedConfig`` (BERT/RoBERTa/MiniLM field names)."""
        return cls(int(config.num_hidden_layers), int(config.hidden_size), int(config.intermediate_size))

    @property
    def matmul_params(self) -> int:
        """P: weights of the per-token matrix products (Q, K, V, attention output, FFN in and out)."""
        h, i = self.hidden, self.intermediate
        return self.layers * (4 * h * h + 2 * h * i)


def forward_flops(shape: EncoderShape, lengths: Iterable[int], head: bool = True) -> float:
    """FLOPs of one forward pass over sequences of the given token lengths (see the module docstring)."""
    lengths = list(lengths)
    tokens = sum(lengths)
    squares = sum(t * t for t in lengths)
    flops = 2.0 * shape.matmul_params * tokens + 4.0 * shape.layers * shape.hidden * squares
    if head:
        flops += 2.0 * shape.hidden * shape.hidden * len(lengths)
    return flops


def train_step_flops(shape: EncoderShape, lengths: Iterable[int], head: bool = True) -> float:
    """Forward + backward (= 2 x forward) over all sequences of a step (every view of every sentence)."""
    return 3.0 * forward_flops(shape, lengths, head=head)


def padded_lengths(rows: int, padded_length: int) -> list[int]:
    """The lengths a padded (rows, padded_length) batch tensor computes on (for hardware FLOPs)."""
    return [padded_length] * rows


@dataclass
class MatmulRate:
    """A measured matrix-multiply rate: the ceiling MFU is relative to."""

    flops_per_s: float
    dtype: str
    size: int
    device: str
    repeats: int
    statistic: str = "median"

    def as_dict(self) -> dict[str, Any]:
        return {"tflops": self.flops_per_s / 1e12, "dtype": self.dtype, "size": self.size,
                "device": self.device, "repeats": self.repeats, "statistic": self.statistic}


def measure_matmul_rate(device: str = "cpu", dtype: str | None = None, size: int | None = None,
                        repeats: int | None = None, warmup: int = 3) -> MatmulRate:
    """Median rate of ``torch.matmul`` on two random (size x size) matrices on ``device``.

    Defaults: bf16 at 8192 on CUDA (what autocast runs the encoder's matmuls in), fp32 at 1024 on
    CPU (the CPU path trains in fp32). On CUDA each product is timed with CUDA events and the median
    taken; on CPU the fastest of the products. Random operands (not zeros, which run faster), three
    matrix pairs in rotation on CUDA so that no cache holds them.
    """
    import torch

    dev = torch.device(device)
    cuda = dev.type == "cuda"
    dtype = dtype or ("bfloat16" if cuda else "float32")
    size = size or (8192 if cuda else 1024)
    repeats = repeats or (20 if cuda else 10)
    tdtype = getattr(torch, dtype)
    gen = torch.Generator(device=dev).manual_seed(0)  # drawn where they live: 8192^2 fp32 on a CPU is slow
    pairs = [(torch.randn(size, size, generator=gen, device=dev).to(tdtype),
              torch.randn(size, size, generator=gen, device=dev).to(tdtype)) for _ in range(3 if cuda else 1)]
    out = torch.empty(size, size, device=dev, dtype=tdtype)
    for k in range(warmup):
        a, b = pairs[k % len(pairs)]
        torch.matmul(a, b, out=out)
    times: list[float] = []
    if cuda:
        torch.cuda.synchronize(dev)
        for k in range(repeats):
            a, b = pairs[k % len(pairs)]
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch.matmul(a, b, out=out)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
    else:
        for k in range(repeats):
            a, b = pairs[k % len(pairs)]
            t0 = time.perf_counter()
            torch.matmul(a, b, out=out)
            times.append(time.perf_counter() - t0)
    # CUDA: the median (METHOD.md). CPU: the fastest product, since on cores shared with other jobs the
    # median measures the neighbours as much as the chip.
    seconds = statistics.median(times) if cuda else min(times)
    return MatmulRate(2.0 * size**3 / seconds, dtype, size, str(dev), repeats,
                      "median" if cuda else "best")


def mfu(step_flops: float, step_seconds: float, peak_flops_per_s: float) -> float:
    """Model FLOPs utilisation: achieved FLOP/s over the measured ceiling (NaN if unmeasurable)."""
    if step_seconds <= 0 or peak_flops_per_s <= 0 or not math.isfinite(step_seconds):
        return float("nan")
    return step_flops / step_seconds / peak_flops_per_s


def mean_step_flops(shape: EncoderShape, steps: Sequence[Iterable[int]], head: bool = True) -> float:
    """Mean training FLOPs over several steps, each given as the token lengths of all its sequences."""
    if not steps:
        return 0.0
    return sum(train_step_flops(shape, s, head=head) for s in steps) / len(steps)
