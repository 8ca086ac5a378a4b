"""Spread negation over worker processes, results in input order.

Each worker holds one negator (built from the registry name and options, so plugins work too) and
negates whole chunks of lines; only strings travel between processes. At most ``2 * workers`` chunks
are in flight, so memory stays bounded on a 1M-line input. ``workers=1`` runs in this process.

Start-up: a negator class that sets ``fork_safe = True`` (the spaCy one: no threads, no GPU) is built
once here and the workers are forked from this process, so they share the loaded model copy-on-write
and start in milliseconds. Other backends (Stanza/torch) start in clean ``forkserver`` processes
(``spawn`` where that does not exist) and load their model there. Open the pool
(:class:`ChunkNegator`) before starting any thread such as a progress display: forking a process that
runs other threads is unsafe.

No orphans: a worker ends when the process that started the pool dies, however it dies (``kill -9``
included). On Linux the kernel sends it SIGKILL then (``PR_SET_PDEATHSIG``, set as the worker
starts); elsewhere a thread in the worker notices its parent change and exits.
"""

from __future__ import annotations

import ctypes
import inspect
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from .base import NegationResult, Negator, negate_with_branches

log = logging.getLogger(__name__)

_worker: dict[str, Any] = {}


def build_negator(backend: str, options: dict[str, Any]) -> Negator:
    """The registered negator ``backend`` (``spacy``, ``stanza``, ``spacy.v1``, a plugin) built with the
    ``options`` its constructor accepts (a plugin need not take ``batch_size`` or ``mode``)."""
    from .. import registry

    cls = registry.get("negators", backend)
    return cls(**_accepted(cls, options))


def _accepted(cls: Any, options: dict[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):  # no introspectable signature: pass everything
        return dict(options)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(options)
    names = {p.name for p in params}
    dropped = sorted(set(options) - names)
    if dropped:
        log.debug("negator %s does not take %s; not passed", getattr(cls, "__name__", cls), ", ".join(dropped))
    return {k: v for k, v in options.items() if k in names}


PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def die_with_parent(parent: int) -> None:
    """End this process when its parent dies (``parent``: the pool's process id, to close the race of
    a parent that died while this process started)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent and not _alive(parent):
                    os._exit(1)
                return
        except (OSError, AttributeError):  # no libc prctl: watch instead
            pass
    threading.Thread(target=_watch_parent, args=(os.getppid(),), name="sncse-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_parent(ppid: int, every: float = 1.0) -> None:
    while os.getppid() == ppid:  # an orphan is adopted by another process
        time.sleep(every)
    os._exit(1)


def _init_worker(backend: str, options: dict[str, Any], parent: int, negator: Negator | None = None) -> None:
    die_with_parent(parent)
    try:  # one BLAS thread per process: the processes are the parallelism
        from threadpoolctl import threadpool_limits

        _worker["limits"] = threadpool_limits(1)
    except Exception:  # threadpoolctl missing: fine, spaCy's own matmuls (blis) are single-threaded
        pass
    if negator is not None:
        _worker["negator"] = negator
        return
    try:
        _worker["negator"] = build_negator(backend, options)
    except BaseException as exc:  # a failing initializer breaks the pool and loses the message: defer it
        _worker["error"] = exc


def _negate_chunk(lines: list[str]) -> list[tuple[str, str]]:
    if "error" in _worker:
        raise _worker["error"]
    return [(r.negation, r.branch) for r in negate_with_branches(_worker["negator"], lines)]


class ChunkNegator:
    """Context manager: ``with ChunkNegator("spacy", {"mode": "faithful"}, workers=2) as cn:
    for results in cn.map(chunks): ...`` yields each chunk's results in input order.

    Workers run in a ``ProcessPoolExecutor``: a worker that dies (killed, out of memory) makes the
    run fail with ``BrokenProcessPool`` instead of hanging, and the partial output stays resumable.
    """

    def __init__(self, backend: str, options: dict[str, Any], workers: int = 1) -> None:
        self.backend, self.options, self.workers = backend, dict(options), max(1, int(workers))
        self._negator: Negator | None = None
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ChunkNegator:
        if self.workers == 1:
            self._negator = build_negator(self.backend, self.options)
            return self
        from .. import registry

        cls = registry.get("negators", self.backend)
        methods = mp.get_all_start_methods()
        if getattr(cls, "fork_safe", False) and "fork" in methods:
            parent = cls(**_accepted(cls, self.options))  # loaded once here, inherited by the forked workers
            ctx = mp.get_context("fork")
            initargs: tuple[Any, ...] = (self.backend, self.options, os.getpid(), parent)
        else:
            ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
            initargs = (self.backend, self.options, os.getpid())
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker, initargs=initargs)
        # Start every worker now, before the caller starts threads (e.g. a progress display).
        for future in [self._pool.submit(_ping) for _ in range(self.workers)]:
            future.result()
        log.debug("started %d %s workers for %s", self.workers, ctx.get_start_method(), self.backend)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=exc[0] is None, cancel_futures=True)
            self._pool = None

    def map(self, chunks: Iterable[list[str]]) -> Iterator[list[NegationResult]]:
        if self._pool is None:
            if self._negator is None:
                raise RuntimeError("use ChunkNegator as a context manager")
            for chunk in chunks:
                yield negate_with_branches(self._negator, chunk)
            return
        pending: deque[tuple[list[str], Future]] = deque()
        for chunk in chunks:
            pending.append((chunk, self._pool.submit(_negate_chunk, chunk)))
            if len(pending) >= 2 * self.workers:
                yield _collect(*pending.popleft())
        while pending:
            yield _collect(*pending.popleft())


def _ping() -> bool:
    return True


def negate_chunks(
    chunks: Iterable[list[str]], backend: str, options: dict[str, Any], workers: int = 1
) -> Iterator[list[NegationResult]]:
    """Negate each chunk of raw lines, yielding results chunk by chunk in input order."""
    with ChunkNegator(backend, options, workers) as cn:
        yield from cn.map(chunks)


def _collect(chunk: list[str], future: Future) -> list[NegationResult]:
    pairs = future.result()
    return [NegationResult(s.strip(), neg, branch) for s, (neg, branch) in zip(chunk, pairs, strict=True)]
