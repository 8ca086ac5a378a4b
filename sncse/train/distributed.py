"""Multi-process training through ``torchrun`` (DDP), with the contrastive candidates of all processes.

Every process encodes its slice of the global batch; the positives (and hard negatives) are
all-gathered *with gradients* (``torch.distributed.nn.functional.all_gather``), so each anchor is
contrasted with the candidates of every process, as with one large batch. The positive of local
anchor i sits at ``rank * local_batch + i`` of the gathered tensor (``label_offset``). The gather's
backward sums the gradients that every process's loss sends to this process's candidates, and DDP
then averages the parameter gradients over processes: the result is the gradient of the mean loss
over the global batch, exactly as on one device with the concatenated batch.

``torchrun --nproc_per_node N -m sncse_cli.main train ...`` sets ``RANK``/``WORLD_SIZE``/
``LOCAL_RANK``; NCCL is used on CUDA, gloo on CPU. Evaluation and checkpoints happen on rank 0.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    initialized_here: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def all_gather_with_grad(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H) on every process -> (world * B, H) in rank order, differentiable."""
        return all_gather_with_grad(x) if self.enabled else x

    def label_offset(self, local_batch: int) -> int:
        return self.rank * local_batch

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        """Average a tensor over processes (for logging; a collective: call it on every rank)."""
        if not self.enabled:
            return x
        y = x.detach().clone()
        dist.all_reduce(y, op=dist.ReduceOp.SUM)
        return y / self.world_size

    def gather_objects(self, obj: Any) -> list[Any]:
        if not self.enabled:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast_object(self, obj: Any) -> Any:
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        if self.initialized_here and dist.is_initialized():
            # every rank reaches this point before the group goes: a rank that destroys it while
            # another still works aborts the process under gloo ("terminate called ...")
            dist.barrier()
            dist.destroy_process_group()


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """All-gather along dim 0 keeping the autograd graph (the backward sums gradients over processes)."""
    from torch.distributed.nn.functional import all_gather

    with warnings.catch_warnings():  # deprecated in favour of a private API since torch 2.x; still correct
        warnings.simplefilter("ignore", FutureWarning)
        return torch.cat(all_gather(x.contiguous()), dim=0)


def launch_rank() -> int:
    """This process's rank in the launch ``torchrun`` described in the environment (0 without one).

    Readable before the process group exists, so that a front end can quiet every process but the
    one that reports (rank 0) from the start.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0")) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else 0


def is_main_process() -> bool:
    """Whether this process reports (logs, progress, results): rank 0, or the only process."""
    return launch_rank() == 0


def init_distributed(device: str = "auto") -> tuple[DistContext, torch.device | None]:
    """Join the process group that ``torchrun`` describes in the environment (no-op for one process).

    Returns the context and, in a multi-process run on CUDA, this process's device (``cuda:LOCAL_RANK``).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(), None
    rank = launch_rank()
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    use_cuda = torch.cuda.is_available() and not str(device).startswith("cpu")
    dev = None
    if use_cuda:
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    here = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
        here = True
    ctx = DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local, initialized_here=here)
    log.info("distributed: rank %d of %d (%s)", ctx.rank, ctx.world_size, dist.get_backend())
    return ctx, dev
