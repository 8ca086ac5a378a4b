"""Config: defaults <- YAML <- CLI options <- --set, with one-line errors naming key and file."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from sncse.config import Config, dump_yaml, load_config, to_dict
from sncse.config.schema import choices
from sncse.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_are_the_papers():
    cfg = load_config()
    assert (cfg.train.batch_size, cfg.optim.lr, cfg.train.epochs, cfg.model.max_length, cfg.train.seed) == (
        256, 1e-5, 1, 32, 42)
    assert cfg.loss.name == "bml" and cfg.loss.temperature == 0.05
    assert cfg.loss.params == {"bml": {"alpha": 0.1, "beta": 0.3, "bml_weight": 1e-3}}  # the class's defaults
    assert cfg.train.eval_steps == 125


def test_file_then_overrides(tmp_path):
    p = write(tmp_path, "optim:\n  lr: 1e-5\ntrain:\n  batch_size: 64\nloss:\n  name: infonce\n")
    cfg = load_config(p, ["optim.lr=3e-5", "train.max_steps=4"], extra={"loss.name": "pl"})
    assert cfg.optim.lr == pytest.approx(3e-5)  # YAML's "1e-5" string is read as a float too
    assert cfg.train.batch_size == 64 and cfg.train.max_steps == 4
    assert cfg.loss.name == "pl"  # CLI option beats the file


def test_env_var_names_default_file(tmp_path, monkeypatch):
    p = write(tmp_path, "train:\n  seed: 7\n")
    monkeypatch.setenv("SNCSE_CONFIG", str(p))
    assert load_config().train.seed == 7


@pytest.mark.parametrize(
    "text, message",
    [
        ("optim:\n  lrr: 1\n", "unknown key 'optim.lrr'"),
        ("train:\n  batch_size: many\n", "key 'train.batch_size': expected an integer"),
        ("train:\n  amp: sometimes\n", "key 'train.amp': expected auto|bf16|fp16|off, got 'sometimes'"),
        ("data:\n  batching: sorted\n", "key 'data.batching': expected shuffle|bucket, got 'sorted'"),
        ("train:\n  log_steps: 0\n", "key 'train.log_steps': must be positive"),
        ("model:\n  pooler: maxpool\n", "key 'model.pooler': unknown pooler 'maxpool'"),
        ("loss:\n  name: bml\n  alpha: 0.2\n", "unknown key 'loss.alpha'"),
        ("loss:\n  bml:\n    alpah: 0.1\n", "unknown key 'loss.bml.alpah': loss 'bml' takes alpha, beta, bml_weight"),
        ("loss:\n  pl:\n    form: both\n", "key 'loss.pl.form': expected code|joint, got 'both'"),
        ("loss:\n  mixcse:\n    mix_lambda: high\n", "key 'loss.mixcse.mix_lambda': expected a number"),
        ("loss:\n  bml:\n    temperature: 0.1\n", "the temperature is loss.temperature"),
        ("loss:\n  bml:\n    alpha: 0.5\n", "alpha (0.5) must not exceed beta (0.3)"),
        ("loss:\n  name: nope\n", "key 'loss.name': unknown loss 'nope'"),
        ("model: 3\n", "key 'model': expected a mapping"),
        ("nope:\n  x: 1\n", "unknown key 'nope'"),
    ],
)
def test_bad_config_names_key_and_file(tmp_path, text, message):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert message in str(exc.value)
    assert str(exc.value).startswith(f"{p}: ")  # every check names the file, range checks too
    assert "\n" not in str(exc.value)


def test_malformed_yaml_names_line(tmp_path):
    p = write(tmp_path, "train:\n  batch_size: 3\n  seed: [1,\n")
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert str(exc.value).startswith(f"{p}:") and "malformed YAML" in str(exc.value)


def test_bad_override():
    with pytest.raises(ConfigError, match="not of the form key=value"):
        load_config(None, ["optim.lr"])
    with pytest.raises(ConfigError, match="--set: key 'train.seed': expected an integer"):
        load_config(None, ["train.seed=abc"])


def test_dump_round_trips(tmp_path):
    cfg = load_config(None, ["loss.name=mixcse", "optim.betas=[0.8, 0.9]"])
    p = write(tmp_path, dump_yaml(cfg))
    assert to_dict(load_config(p)) == to_dict(cfg)
    assert yaml.safe_load(dump_yaml(cfg))["optim"]["betas"] == [0.8, 0.9]


# ------------------------------------------------------------------------------------ enum keys
REPO = Path(__file__).resolve().parents[2]


def _enum_keys() -> dict[str, Any]:
    """Every enum key of the schema (a ``Literal`` type) -> its type."""
    out = {}
    for section in dataclasses.fields(Config):
        hints = typing.get_type_hints(section.default_factory, include_extras=True)
        for name, tp in hints.items():
            try:
                choices(tp)
            except TypeError:
                continue
            out[f"{section.name}.{name}"] = tp
    return out


def _documented(key: str) -> set[str]:
    """The values docs/training.md gives for ``key``: the backticked words of its table row."""
    for line in (REPO / "docs" / "training.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"| `{key}` |"):
            cells = line.split("|")[2:]
            return {w for w in re.findall(r"`([^`\s]+)`", "|".join(cells)) if re.fullmatch(r"[a-z0-9]+", w)}
    raise AssertionError(f"{key} has no row in docs/training.md")


ENUMS = sorted(_enum_keys())


def test_the_enum_keys_are_the_documented_ones():
    assert ENUMS == ["data.batching", "data.format", "eval.amp", "eval.mode", "model.mlp", "optim.fused", "train.amp"]


@pytest.mark.parametrize("key", [k for k in ENUMS if k != "eval.mode"])  # eval.mode: docs/evaluation.md (--mode)
def test_documented_values_are_exactly_the_accepted_ones(key):
    assert _documented(key) == set(choices(_enum_keys()[key]))


@pytest.mark.parametrize("key,value", [(k, v) for k in ENUMS for v in choices(_enum_keys()[k])])
def test_every_documented_value_loads_from_yaml_and_set(tmp_path, key, value):
    """Written as the docs write them (``train.amp: off``, ``optim.fused: true``: YAML booleans)."""
    section, name = key.split(".")
    p = write(tmp_path, f"{section}:\n  {name}: {value}\n")
    assert getattr(getattr(load_config(p), section), name) == value
    assert getattr(getattr(load_config(None, [f"{key}={value}"]), section), name) == value


def test_yaml_booleans_map_only_where_documented(tmp_path):
    assert load_config(None, ["train.amp=false"]).train.amp == "off"
    assert load_config(None, ["optim.fused=no"]).optim.fused == "false"
    with pytest.raises(ConfigError, match=r"key 'train.amp': expected auto\|bf16\|fp16\|off, got True"):
        load_config(None, ["train.amp=on"])  # "on" is no documented value of train.amp
    with pytest.raises(ConfigError, match="key 'model.mlp'"):
        load_config(write(tmp_path, "model:\n  mlp: off\n"))
    assert yaml.safe_load(dump_yaml(load_config(None, ["train.amp=off"])))["train"]["amp"] == "off"  # quoted


# ------------------------------------------------------------------------------------ loss parameters
def test_loss_parameters_live_under_the_loss_name(tmp_path):
    p = write(tmp_path, "loss:\n  name: pl\n  temperature: 0.1\n  pl:\n    form: joint\n"
                        "  bml:\n    bml_weight: 5.0e-4\n")
    cfg = load_config(p)
    assert cfg.loss.params["pl"] == {"form": "joint"}
    assert cfg.loss.params["bml"] == {"bml_weight": 5e-4}  # kept: switching loss.name needs no edit
    from sncse.losses import build_loss

    loss = build_loss(cfg.loss)
    assert (loss.name, loss.form, loss.temperature) == ("pl", "joint", 0.1)
    switched = load_config(p, ["loss.name=bml"])
    bml = build_loss(switched.loss)
    assert (bml.bml_weight, bml.alpha) == (5e-4, 0.1)
    saved = yaml.safe_load(dump_yaml(switched))["loss"]
    assert saved["bml"] == {"bml_weight": 5e-4, "alpha": 0.1, "beta": 0.3} and saved["pl"] == {"form": "joint"}


def test_a_flat_loss_key_says_where_it_goes():
    with pytest.raises(ConfigError, match=r"--set: unknown key 'loss.mix_mask'.*did you mean loss.mixcse.mix_mask"):
        load_config(None, ["loss.mix_mask=remove"])


@pytest.mark.parametrize("recipe", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_every_recipe_loads_and_builds_its_loss(recipe):
    from sncse.losses import build_loss

    cfg = load_config(REPO / "configs" / recipe)
    assert build_loss(cfg.loss).name == cfg.loss.name
