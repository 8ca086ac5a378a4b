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

Failures. A collective waits for every process, so an error on one process must not leave the others
waiting: work done by rank 0 alone (preparing the run directory, the token cache, the dev evaluator,
evaluating, saving) runs through :meth:`DistContext.on_main`, whose closing broadcast tells every rank
whether it succeeded (the others then stop with :class:`PeerFailure`); and a process that fails leaves
the process group without a barrier (``close(ok=False)``), so that it exits at once and its peers'
next collective fails instead of waiting (``train.dist_timeout`` bounds the wait where a backend
notices no lost peer).
"""

from __future__ import annotations

import datetime
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from ..errors import SncseError

log = logging.getLogger(__name__)

T = TypeVar("T")


class PeerFailure(SncseError):
    """Another process of the launch failed (it reports its own error): one line, exit status 1."""

    exit_code = 1


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

    def on_main(self, fn: Callable[[], T], doing: str, share: bool = False) -> T | None:
        """``fn()`` on rank 0 alone, then a broadcast that tells every rank how it went (a collective:
        call it on every rank). A failure raises everywhere: the error itself on rank 0,
        :class:`PeerFailure` naming it on the others. Returns ``fn()``'s result on rank 0 (on every rank
        with ``share``, which broadcasts it) and None on the others. ``doing`` says what ``fn`` does, for
        the others' error ("building the dev evaluator")."""
        if not self.enabled:
            return fn()
        result: T | None = None
        error: BaseException | None = None
        if self.is_main:
            try:
                result = fn()
            except BaseException as exc:  # every rank must hear of it, KeyboardInterrupt included
                error = exc
        failure = f"{type(error).__name__}: {error}" if error is not None else None
        failure, shared = self.broadcast_object((failure, result if share and error is None else None))
        if error is not None:
            raise error
        if failure is not None:
            raise PeerFailure(f"process 0 failed while {doing} ({failure})")
        return shared if share else result

    def close(self, ok: bool = True) -> None:
        """Leave the process group. ``ok``: every rank reaches this point (a barrier first: a rank that
        destroys the group while another still works aborts that process under gloo); after a failure
        the group goes at once, so that this process exits and the others' collectives fail."""
        if self.initialized_here and dist.is_initialized():
            if ok:
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


def init_distributed(device: str = "auto", timeout: float | None = None) -> tuple[DistContext, torch.device | None]:
    """Join the process group that ``torchrun`` describes in the environment (no-op for one process).

    Returns the context and, in a multi-process run on CUDA, this process's device (``cuda:LOCAL_RANK``).
    ``timeout``: seconds a collective waits for the other processes before it fails (None: torch's default).
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
        dist.init_process_group(backend="nccl" if use_cuda else "gloo",
                                timeout=datetime.timedelta(seconds=timeout) if timeout else None)
        here = True
    ctx = DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local, initialized_here=here)
    log.info("distributed: rank %d of %d (%s)", ctx.rank, ctx.world_size, dist.get_backend())
    return ctx, dev
