"""A progress hook the library calls and the CLI fills in (with rich); the library never imports rich.

Library code wraps long loops as ``for x in track(items, total=n, description="negating")`` or, where
it advances by more than one per iteration, ``with task("encoding", total=n) as advance: advance(k)``.
By default both are silent pass-throughs; ``set_progress_factory`` installs a real display.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

T = TypeVar("T")

# A factory takes (description, total, unit) and returns a context manager yielding advance(n).
ProgressFactory = Callable[[str, "int | None", str], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def _silent(description: str, total: int | None, unit: str = "it"):
    yield lambda n=1: None


_factory: ProgressFactory = _silent


def set_progress_factory(factory: ProgressFactory | None) -> None:
    """Install ``factory`` (None restores the silent default)."""
    global _factory
    _factory = factory or _silent


def task(description: str, total: int | None = None, unit: str = "it"):
    """Context manager yielding ``advance(n)`` for a loop of ``total`` units."""
    return _factory(description, total, unit)


def track(items: Iterable[T], total: int | None = None, description: str = "", unit: str = "it") -> Iterator[T]:
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with task(description, total, unit) as advance:
        for item in items:
            yield item
            advance(1)


@contextmanager
def forward_to(advance: Callable[[int], None]):
    """Inside this block every ``task()`` advances ``advance`` instead of opening a display of its own:
    one bar over many calls of a function that draws its own (``SentenceEncoder.encode`` per chunk)."""
    global _factory
    saved = _factory

    @contextmanager
    def forwarding(description: str, total: int | None, unit: str = "it"):
        yield advance

    _factory = forwarding
    try:
        yield
    finally:
        _factory = saved
