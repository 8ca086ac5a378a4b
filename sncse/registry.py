"""Entry-point registries: negators, losses, encoders and poolers are looked up by name.

Built-ins register through this package's own entry points (``pyproject.toml``), exactly as a
third-party package would; there is no second mechanism. Lookup is lazy: an entry point is imported
only when asked for, and one that fails to import is reported with its error without breaking the
others.

Names carry a version (``bml.v1``, spaCy style) so that old behaviour stays reproducible. An
unversioned name (``bml``) resolves to the highest version installed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from .errors import RegistryError

log = logging.getLogger(__name__)

GROUPS: dict[str, str] = {
    "negators": "sncse.negators",
    "losses": "sncse.losses",
    "encoders": "sncse.encoders",
    "poolers": "sncse.poolers",
}

#: what the objects of a group must be for a caller that builds from them (:func:`get_class`): a class
#: offering these class methods, and how an error names that kind. The classes' own modules sit above
#: this one, so the contract is checked by the methods a caller uses, not by a base class.
CONTRACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "losses": ("ContrastiveLoss", ("parameters", "from_config")),
}

_VERSIONED = re.compile(r"^(?P<base>.+)\.v(?P<version>\d+)$")


def base_name(name: str) -> str:
    """A registered name without its version suffix: ``bml.v1`` -> ``bml``; ``bml`` stays ``bml``."""
    m = _VERSIONED.match(name)
    return m.group("base") if m else name


def name_version(name: str) -> int:
    """The version of a registered name: ``bml.v2`` -> 2; 0 for an unversioned name."""
    m = _VERSIONED.match(name)
    return int(m.group("version")) if m else 0


@dataclass(frozen=True)
class Entry:
    """One registered entry point, with its load status (filled by :func:`list_entries`)."""

    group: str
    name: str
    value: str
    distribution: str | None
    dist_version: str | None
    status: str = "not loaded"
    error: str | None = None

    @property
    def base_name(self) -> str:
        return base_name(self.name)

    @property
    def version(self) -> int:
        return name_version(self.name)


def _group(group: str) -> str:
    return GROUPS.get(group, group)


def _singular(group: str) -> str:
    word = group.split(".")[-1]
    return {"losses": "loss", "negators": "negator", "encoders": "encoder", "poolers": "pooler"}.get(word, word)


def _entry_points(group: str) -> list[metadata.EntryPoint]:
    eps = metadata.entry_points(group=_group(group))
    # The same distribution can appear twice on sys.path (an editable install and a build dir):
    # keep the first occurrence of each name, which is the one Python imports.
    seen: dict[str, metadata.EntryPoint] = {}
    for ep in eps:
        seen.setdefault(ep.name, ep)
    return sorted(seen.values(), key=lambda e: e.name)


def _dist(ep: metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def entries(group: str) -> list[Entry]:
    """Every entry point in ``group``, without importing anything."""
    out = []
    for ep in _entry_points(group):
        name, version = _dist(ep)
        out.append(Entry(_group(group), ep.name, ep.value, name, version))
    return out


def available(group: str) -> list[str]:
    """Names a user can type: each versioned name, plus its unversioned alias."""
    names: set[str] = set()
    for e in entries(group):
        names.add(e.name)
        names.add(e.base_name)
    return sorted(names)


def resolve_name(group: str, name: str) -> str:
    """The registered (versioned) name that ``name`` refers to; raises with the list of names."""
    all_entries = entries(group)
    exact = [e for e in all_entries if e.name == name]
    if exact:
        return exact[0].name
    versions = [e for e in all_entries if e.base_name == name]
    if versions:
        return max(versions, key=lambda e: e.version).name
    names = ", ".join(available(group)) or "(none installed)"
    raise RegistryError(f"unknown {_singular(group)} '{name}'; available: {names}")


def get(group: str, name: str) -> Any:
    """Load and return the object registered as ``name`` in ``group``."""
    full = resolve_name(group, name)
    ep = next(e for e in _entry_points(group) if e.name == full)
    try:
        return ep.load()
    except Exception as exc:  # a broken plugin must not look like an unknown one
        raise RegistryError(
            f"plugin '{full}' in {_group(group)} ({ep.value}) failed to import: {type(exc).__name__}: {exc}"
        ) from exc


def get_class(group: str, name: str) -> Any:
    """The class registered as ``name`` in ``group``, held to the group's contract (:data:`CONTRACTS`):
    what the config and the trainers build a loss from (``get_class("losses", "bml").from_config(cfg)``)."""
    cls = get(group, name)
    kind, methods = CONTRACTS[group]
    if not (isinstance(cls, type) and all(callable(getattr(cls, m, None)) for m in methods)):
        raise RegistryError(f"{_singular(group)} '{name}' is registered as {cls!r}, which is not a {kind} "
                            f"(a class with {' and '.join(methods)})")
    return cls


def is_registered(group: str, name: str) -> bool:
    try:
        resolve_name(group, name)
    except RegistryError:
        return False
    return True


def list_entries(groups: list[str] | None = None, load: bool = True) -> list[Entry]:
    """All entries of ``groups`` (default: all), each loaded to report ``ok`` or its import error."""
    out: list[Entry] = []
    for g in groups or list(GROUPS):
        for ep in _entry_points(g):
            dist, version = _dist(ep)
            status, error = "not loaded", None
            if load:
                try:
                    ep.load()
                    status = "ok"
                except Exception as exc:
                    status, error = "error", f"{type(exc).__name__}: {exc}"
                    log.debug("entry point %s in %s failed to import: %s", ep.name, g, error)
            out.append(Entry(_group(g), ep.name, ep.value, dist, version, status, error))
    return out
