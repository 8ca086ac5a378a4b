"""Config: defaults <- YAML <- CLI options <- --set, with one-line errors naming key and file."""

from __future__ import annotations

import pytest
import yaml

from sncse.config import dump_yaml, load_config, to_dict
from sncse.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_are_the_papers():
    cfg = load_config()
    assert (cfg.train.batch_size, cfg.optim.lr, cfg.train.epochs, cfg.model.max_length, cfg.train.seed) == (
        256, 1e-5, 1, 32, 42)
    assert (cfg.loss.alpha, cfg.loss.beta, cfg.loss.bml_weight, cfg.loss.temperature) == (0.1, 0.3, 1e-3, 0.05)
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
        ("train:\n  amp: sometimes\n", "key 'train.amp'"),
        ("model: 3\n", "key 'model': expected a mapping"),
        ("nope:\n  x: 1\n", "unknown key 'nope'"),
    ],
)
def test_bad_config_names_key_and_file(tmp_path, text, message):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert message in str(exc.value)
    if "amp" not in text:
        assert str(p) in str(exc.value)
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
