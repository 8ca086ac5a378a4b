"""Errors the user can fix. The CLI turns these into a one-line message and exit code 2."""

from __future__ import annotations

from pathlib import Path


class SncseError(Exception):
    """Bad input or bad usage: a message that names what to fix (file, line, key).

    ``setting`` names the argument or setting at fault (``"errors"``, ``"resume"``) when there is one;
    the message itself never names a command-line flag, the CLI adds the flag from ``setting``.
    ``remedy`` says what a value of that setting would do about it (``"replace substitutes U+FFFD"``),
    for callers that offer the setting; it is not part of the message, since not every caller does.
    """

    exit_code = 2

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 setting: str | None = None, remedy: str | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.setting = setting
        self.remedy = remedy
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        super().__init__(where + message)


class ConfigError(SncseError):
    """A config file or override that does not fit the schema."""


class RegistryError(SncseError):
    """An unknown or broken plugin name."""


class DataError(SncseError):
    """Missing or malformed data files."""
