"""Load a config: defaults <- YAML file <- ``--set key=value`` overrides, validated against the schema.

Like spaCy and Lightning: a file plus dotted overrides, and ``SNCSE_CONFIG`` names a default file.
An unknown key or a value of the wrong type is a one-line :class:`ConfigError` naming the key and
where it came from (the file, or ``--set``).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from .schema import Config

ENV_CONFIG = "SNCSE_CONFIG"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """Check ``value`` against the annotation ``tp``; allow the safe conversions YAML needs."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key, source)
            except ConfigError as exc:
                errors.append(exc)
        raise ConfigError(f"key '{key}': expected {_type_name(tp)}, got {value!r}", path=source)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"key '{key}': expected a list of {len(args)} values, got {value!r}", path=source)
        return tuple(_coerce(v, a, key, source) for v, a in zip(value, args, strict=True))
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"key '{key}': expected true/false, got {value!r}", path=source)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"key '{key}': expected an integer, got {value!r}", path=source)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads "1e-5" as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"key '{key}': expected a number, got {value!r}", path=source)
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"key '{key}': expected a string, got {value!r}", path=source)
    return value


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _apply(obj: Any, data: dict[str, Any], prefix: str, source: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"key '{prefix.rstrip('.') or '<top>'}': expected a mapping, got {data!r}", path=source)
    hints = _hints(type(obj))
    for k, v in data.items():
        key = f"{prefix}{k}"
        if k not in hints:
            valid = ", ".join(f"{prefix}{n}" for n in hints)
            raise ConfigError(f"unknown key '{key}' (valid: {valid})", path=source)
        cur = getattr(obj, k)
        if dataclasses.is_dataclass(cur):
            _apply(cur, v, key + ".", source)
        else:
            setattr(obj, k, _coerce(v, hints[k], key, source))


def parse_override(text: str) -> tuple[str, Any]:
    """``optim.lr=3e-5`` -> (``optim.lr``, 3e-05); the value is parsed as YAML."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' is not of the form key=value", path="--set")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"override '{text}' has an empty key", path="--set")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def _nest(key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cur = out
    parts = key.split(".")
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError("config file not found", path=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"malformed YAML: {problem}", path=path, line=line) from None
    except UnicodeDecodeError:
        raise ConfigError("config file is not UTF-8", path=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping at the top level", path=path)
    return data


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Config:
    """Defaults, then the file (or ``$SNCSE_CONFIG``), then ``extra`` (CLI options), then ``--set``."""
    cfg = Config()
    path = path or os.environ.get(ENV_CONFIG) or None
    if path:
        _apply(cfg, load_yaml(path), "", str(path))
    for key, value in (extra or {}).items():
        if value is not None:
            _apply(cfg, _nest(key, value), "", "command line")
    for text in overrides or []:
        key, value = parse_override(text)
        _apply(cfg, _nest(key, value), "", "--set")
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    """Checks across keys that the types alone cannot express."""
    if cfg.model.mlp not in ("train", "always", "none"):
        raise ConfigError(f"key 'model.mlp': expected train|always|none, got {cfg.model.mlp!r}")
    if cfg.loss.mix_mask not in ("zero", "remove"):
        raise ConfigError(f"key 'loss.mix_mask': expected 'zero' or 'remove', got {cfg.loss.mix_mask!r}")
    if cfg.train.amp not in ("auto", "bf16", "fp16", "off"):
        raise ConfigError(f"key 'train.amp': expected auto|bf16|fp16|off, got {cfg.train.amp!r}")
    if cfg.data.batching not in ("shuffle", "bucket"):
        raise ConfigError(f"key 'data.batching': expected shuffle|bucket, got {cfg.data.batching!r}")
    if cfg.data.format not in ("auto", "text", "negations", "nli"):
        raise ConfigError(f"key 'data.format': expected auto|text|negations|nli, got {cfg.data.format!r}")
    if cfg.eval.mode not in ("test", "dev"):
        raise ConfigError(f"key 'eval.mode': expected test|dev, got {cfg.eval.mode!r}")
    for key, value in (("train.batch_size", cfg.train.batch_size), ("model.max_length", cfg.model.max_length)):
        if value <= 0:
            raise ConfigError(f"key '{key}': must be positive, got {value}")
    if cfg.loss.temperature <= 0:
        raise ConfigError(f"key 'loss.temperature': must be positive, got {cfg.loss.temperature}")


def to_dict(cfg: Config) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, tuple):
            return list(v)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return conv(dataclasses.asdict(cfg))


def from_dict(data: dict[str, Any], source: str = "<dict>") -> Config:
    cfg = Config()
    _apply(cfg, data, "", source)
    return cfg


def dump_yaml(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)
