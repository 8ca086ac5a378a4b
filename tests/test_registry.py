"""Entry-point registries, exercised with a throwaway distribution on sys.path like a third-party plugin."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from sncse import registry
from sncse.errors import RegistryError


def make_distribution(root: Path, name: str, entry_points: str, modules: dict[str, str]) -> Path:
    """A minimal installed distribution: ``<name>-0.3.dist-info`` with ``entry_points.txt``, plus modules."""
    # the folder name is the normalised project name: importlib reads the name up to the first "-"
    info = root / f"{name.replace('-', '_')}-0.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.3\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return root


@pytest.fixture()
def third_party(tmp_path, monkeypatch):
    make_distribution(
        tmp_path,
        "sncse-toyplugin",
        """
        [sncse.losses]
        toy.v1 = toyplugin:ToyLoss
        toy.v2 = toyplugin:ToyLossV2
        broken.v1 = toyplugin_missing:Nothing

        [sncse.negators]
        shout.v1 = toyplugin:ShoutNegator
        """,
        {
            "toyplugin": """
            class ToyLoss:
                version = 1

            class ToyLossV2:
                version = 2

            class ShoutNegator:
                def __init__(self, **kwargs):
                    self.kwargs = kwargs

                def negate(self, sentences):
                    return ["NOT " + s.upper() for s in sentences]
            """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    importlib.invalidate_caches()
    return tmp_path


def test_builtins_are_registered_through_entry_points():
    for group, name in [("losses", "bml.v1"), ("negators", "spacy.v1"), ("encoders", "tiny-bert.v1"),
                        ("poolers", "prompt.v1")]:
        entry = next(e for e in registry.entries(group) if e.name == name)
        assert entry.distribution == "sncse"


def test_unversioned_name_resolves_to_highest_version(third_party):
    assert registry.resolve_name("losses", "toy") == "toy.v2"
    assert registry.get("losses", "toy").version == 2
    assert registry.get("losses", "toy.v1").version == 1


def test_unknown_name_lists_what_exists(third_party):
    with pytest.raises(RegistryError) as exc:
        registry.get("losses", "nonexistent")
    msg = str(exc.value)
    assert "unknown loss 'nonexistent'" in msg
    assert "toy" in msg and "infonce" in msg


def test_broken_entry_point_reports_error_without_breaking_others(third_party):
    rows = {e.name: e for e in registry.list_entries(["losses"])}
    assert rows["broken.v1"].status == "error"
    assert "ModuleNotFoundError" in rows["broken.v1"].error
    assert rows["toy.v1"].status == "ok"
    with pytest.raises(RegistryError, match="failed to import"):
        registry.get("losses", "broken")


def test_plugins_list_cli_shows_third_party(third_party, runner, cli_app):
    result = runner.invoke(cli_app, ["plugins", "list", "--json", "-", "--group", "losses"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    toy = next(r for r in rows if r["name"] == "toy.v1")
    assert toy["distribution"] == "sncse-toyplugin" and toy["version"] == "0.3"
    assert toy["value"] == "toyplugin:ToyLoss" and toy["status"] == "ok"
    assert next(r for r in rows if r["name"] == "broken.v1")["status"] == "error"


def test_plugins_list_unknown_group_is_usage_error(runner, cli_app):
    result = runner.invoke(cli_app, ["plugins", "list", "--group", "nope"])
    assert result.exit_code == 2
    assert "available: negators, losses, encoders, poolers" in result.output


def test_third_party_negator_used_through_cli(third_party, runner, cli_app, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("a cat sat\nit rained\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli_app, ["negate", str(src), "-o", str(out), "--backend", "shout"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [["a cat sat", "NOT A CAT SAT"], ["it rained", "NOT IT RAINED"]]


def test_a_plugin_loss_takes_its_parameters_from_yaml(tmp_path, monkeypatch):
    """A third-party loss declares its parameters by its __init__ signature; the config checks them."""
    from sncse.config import load_config
    from sncse.errors import ConfigError
    from sncse.losses import build_loss

    make_distribution(
        tmp_path / "site",
        "sncse-marginplugin",
        """
        [sncse.losses]
        margin.v1 = marginplugin:MarginLoss
        """,
        {
            "marginplugin": """
            from typing import Literal

            from sncse.losses.base import ContrastiveLoss


            class MarginLoss(ContrastiveLoss):
                name = "margin"

                def __init__(self, temperature: float = 0.05, margin: float = 0.2,
                             reduce: Literal["mean", "sum"] = "mean"):
                    super().__init__(temperature)
                    self.margin, self.reduce = margin, reduce
            """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    import importlib

    importlib.invalidate_caches()
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("loss:\n  name: margin\n  temperature: 0.1\n  margin: {margin: 0.3, reduce: sum}\n")
    loss = build_loss(load_config(cfg_file).loss)
    assert (type(loss).__name__, loss.margin, loss.reduce, loss.temperature) == ("MarginLoss", 0.3, "sum", 0.1)
    assert load_config(None, ["loss.name=margin"]).loss.params["margin"] == {"margin": 0.2, "reduce": "mean"}
    cfg_file.write_text("loss:\n  name: margin\n  margin: {margn: 0.3}\n")
    with pytest.raises(ConfigError, match=rf"^{cfg_file}: unknown key 'loss.margin.margn': loss 'margin' takes margin, reduce$"):
        load_config(cfg_file)
    with pytest.raises(ConfigError, match=r"key 'loss.margin.reduce': expected mean\|sum, got 'max'"):
        load_config(None, ["loss.name=margin", "loss.margin.reduce=max"])


def test_get_class_holds_a_loss_to_its_contract(third_party):
    from sncse.losses import BidirectionalMarginLoss

    assert registry.get_class("losses", "bml") is BidirectionalMarginLoss
    with pytest.raises(RegistryError, match="loss 'toy' is registered as .*, which is not a ContrastiveLoss"):
        registry.get_class("losses", "toy")  # a class without parameters / from_config
