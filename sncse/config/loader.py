"""Load a config: defaults <- YAML file <- ``--set key=value`` overrides, validated against the schema.

Like spaCy and Lightning: a file plus dotted overrides, and ``SNCSE_CONFIG`` names a default file.
An unknown key or a value of the wrong type is a one-line :class:`ConfigError` naming the key and
where it came from (the file, or ``--set``).
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from .. import registry
from ..errors import ConfigError, RegistryError, SncseError
from .schema import Config, YamlBooleans

ENV_CONFIG = "SNCSE_CONFIG"

_NO_ACCUMULATION = ("there is no gradient accumulation: averaging the gradients of small batches adds no "
                    "in-batch negatives; train.mini_batch_size trains the whole batch in the memory of a small one")
#: keys other trainers have and sncse leaves out on purpose, with what to use instead
NOT_OFFERED = {"train.grad_accumulation": _NO_ACCUMULATION, "train.gradient_accumulation_steps": _NO_ACCUMULATION}


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """Check ``value`` against the annotation ``tp``; allow the safe conversions YAML needs."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        inner, *meta = typing.get_args(tp)
        booleans = next((m for m in meta if isinstance(m, YamlBooleans)), None)
        if booleans is not None and isinstance(value, bool):
            value = (booleans.true if value else booleans.false) or value
        return _coerce(value, inner, key, source)
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        if isinstance(value, str) and value in allowed:
            return value
        note = " (YAML reads on/off, yes/no, true/false as booleans)" if isinstance(value, bool) else ""
        raise ConfigError(f"key '{key}': expected {'|'.join(map(str, allowed))}, got {value!r}{note}", path=source)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key, source)
            except ConfigError:
                continue
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


def _section_field(obj: Any) -> dataclasses.Field | None:
    """The field of ``obj`` that collects named sections (``LossConfig.params``), if any."""
    return next((f for f in dataclasses.fields(obj) if "sections" in f.metadata), None)


def _apply(obj: Any, data: dict[str, Any], prefix: str, source: str, sources: dict[str, str]) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"key '{prefix.rstrip('.') or '<top>'}': expected a mapping, got {data!r}", path=source)
    hints = typing.get_type_hints(type(obj), include_extras=True)
    sections = _section_field(obj)
    if sections is not None:
        hints.pop(sections.name)
    for k, v in data.items():
        key = f"{prefix}{k}"
        if k not in hints:
            if sections is not None:
                _apply_section(getattr(obj, sections.name), k, v, prefix, source, sources,
                               valid=[f"{prefix}{n}" for n in hints])
                continue
            valid = ", ".join(f"{prefix}{n}" for n in hints)
            hint = f"; {NOT_OFFERED[key]}" if key in NOT_OFFERED else ""
            raise ConfigError(f"unknown key '{key}' (valid: {valid}){hint}", path=source)
        cur = getattr(obj, k)
        if dataclasses.is_dataclass(cur):
            _apply(cur, v, key + ".", source, sources)
        else:
            setattr(obj, k, _coerce(v, hints[k], key, source))
            sources[key] = source


# ------------------------------------------------------------------------------------ loss sections
# The losses are reached through the registry only: each loss class states its parameters
# (``parameters``) and builds itself (``from_config``); nothing here knows a loss module.
def _owners(param: str) -> list[str]:
    """The registered losses that take a parameter called ``param`` (for a hint in an error)."""
    owners = []
    for name in dict.fromkeys(e.base_name for e in registry.entries("losses")):
        try:
            if param in registry.get_class("losses", name).parameters():
                owners.append(name)
        except SncseError:  # a broken plugin is reported where it is used, not in a hint
            continue
    return owners


def _apply_section(sections: dict[str, dict[str, Any]], name: str, value: Any, prefix: str, source: str,
                   sources: dict[str, str], valid: list[str]) -> None:
    """``loss.<name>: {...}``: the parameters of one registered loss, checked against its class."""
    key = f"{prefix}{name}"
    if not registry.is_registered("losses", name):
        owners = [f"{prefix}{o}.{name}" for o in _owners(name)]
        hint = f"; did you mean {' or '.join(owners)}?" if owners else ""
        losses = ", ".join(sorted({registry.base_name(n) for n in registry.available("losses")}))
        raise ConfigError(f"unknown key '{key}' (valid: {', '.join(valid)}, or the parameters of a loss under "
                          f"its name: {losses}){hint}", path=source)
    base = registry.base_name(name)
    if not isinstance(value, dict):
        raise ConfigError(f"key '{key}': expected a mapping of the parameters of loss '{base}', got {value!r}",
                          path=source)
    params = registry.get_class("losses", name).parameters()
    section = sections.setdefault(base, {})
    for param, v in value.items():
        pkey = f"{prefix}{base}.{param}"
        if param not in params:
            takes = ", ".join(params) or "no parameters"
            extra = f" (the temperature is {prefix}temperature)" if param == "temperature" else ""
            raise ConfigError(f"unknown key '{pkey}': loss '{base}' takes {takes}{extra}", path=source)
        section[param] = _coerce(v, params[param].annotation, pkey, source)
        sources[pkey] = source


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
    """Defaults, then the file (or ``$SNCSE_CONFIG``), then ``extra`` (CLI options), then ``--set``;
    then :func:`validate`. Every command that reads a config goes through here, so ``sncse config show``
    accepts exactly what ``sncse train`` accepts."""
    cfg = Config()
    sources: dict[str, str] = {}
    path = path or os.environ.get(ENV_CONFIG) or None
    if path:
        _apply(cfg, load_yaml(path), "", str(path), sources)
    for key, value in (extra or {}).items():
        if value is not None:
            _apply(cfg, _nest(key, value), "", "command line", sources)
    for text in overrides or []:
        key, value = parse_override(text)
        _apply(cfg, _nest(key, value), "", "--set", sources)
    validate(cfg, sources)
    return cfg


def validate(cfg: Config, sources: dict[str, str] | None = None) -> None:
    """The checks that need more than one value's type: ranges, registered names, the loss.

    Types and enum values were checked as each value was read (:func:`_coerce`). What depends on
    the machine (CUDA for ``train.amp: fp16``, the number of processes for ``train.batch_size``) or
    on files (the training file) is checked when training starts. ``sources`` (key -> file, "--set"
    or "command line") lets an error name where the offending value came from.
    """
    where = sources or {}

    def check(ok: bool, key: str, message: str) -> None:
        if not ok:
            raise ConfigError(f"key '{key}': {message}", path=where.get(key))

    t = cfg.train
    for key, value in (("train.batch_size", t.batch_size), ("train.epochs", t.epochs),
                       ("train.log_steps", t.log_steps), ("model.max_length", cfg.model.max_length),
                       ("eval.batch_size", cfg.eval.batch_size)):
        check(value > 0, key, f"must be positive, got {value}")
    for key, value in (("train.eval_steps", t.eval_steps), ("train.num_workers", t.num_workers),
                       ("train.mini_batch_size", t.mini_batch_size), ("optim.warmup_steps", cfg.optim.warmup_steps)):
        check(value >= 0, key, f"must be >= 0, got {value}")
    check(not (t.dev_file and t.eval_steps == 0), "train.dev_file",
          "no dev evaluation runs with train.eval_steps=0, so nothing would be selected on the file")
    check(cfg.loss.temperature > 0, "loss.temperature", f"must be positive, got {cfg.loss.temperature}")
    o = cfg.optim  # the ranges AdamW accepts, checked here so that the file and key are named
    for key, value in (("optim.lr", o.lr), ("optim.weight_decay", o.weight_decay), ("optim.eps", o.eps)):
        check(value >= 0, key, f"must be >= 0, got {value}")
    check(all(0 <= b < 1 for b in o.betas), "optim.betas", f"each must be in [0, 1), got {list(o.betas)}")
    check(o.max_grad_norm is None or o.max_grad_norm > 0, "optim.max_grad_norm",
          f"must be positive (or null: no clipping), got {o.max_grad_norm}")
    for key, name in (("model.pooler", cfg.model.pooler), ("eval.pooler", cfg.eval.pooler)):
        if name is not None:
            _registered("poolers", name, key, where)
    _resolve_loss(cfg, where)


def _registered(group: str, name: str, key: str, where: dict[str, str]) -> str:
    try:
        return registry.resolve_name(group, name)
    except RegistryError as exc:
        raise ConfigError(f"key '{key}': {exc}", path=where.get(key)) from None


def _resolve_loss(cfg: Config, where: dict[str, str]) -> None:
    """Fill the chosen loss's section with its defaults and build the loss once, so that its own
    checks (BML: alpha <= beta; MixCSE: lambda in [0, 1]) fail here, naming the file."""
    full = _registered("losses", cfg.loss.name, "loss.name", where)
    base = registry.base_name(full)
    section = cfg.loss.params.setdefault(base, {})
    loss_class = registry.get_class("losses", full)
    for name, param in loss_class.parameters().items():
        if name not in section:
            if param.default is inspect.Parameter.empty:
                raise ConfigError(f"key 'loss.{base}.{name}': loss '{base}' needs this parameter",
                                  path=where.get("loss.name"))
            section[name] = param.default
    try:
        loss_class.from_config(cfg.loss)
    except SncseError as exc:
        keys = [k for k in where if k.startswith(f"loss.{base}.")] + ["loss.name"]
        source = next((where[k] for k in keys if k in where), None)
        raise ConfigError(str(exc), path=source) from None


def to_dict(cfg: Config) -> dict[str, Any]:
    """The config as plain data, in the shape of its YAML (loss sections beside ``loss.name``)."""

    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            out: dict[str, Any] = {}
            for f in dataclasses.fields(v):
                value = conv(getattr(v, f.name))
                if "sections" in f.metadata:
                    out.update(value)
                else:
                    out[f.name] = value
            return out
        if isinstance(v, (tuple, list)):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return conv(cfg)


def from_dict(data: dict[str, Any], source: str = "<dict>") -> Config:
    """A validated config from plain data in the shape of its YAML (as :func:`to_dict` gives)."""
    cfg = Config()
    sources: dict[str, str] = {}
    _apply(cfg, data, "", source, sources)
    validate(cfg, sources)
    return cfg


def dump_yaml(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)
