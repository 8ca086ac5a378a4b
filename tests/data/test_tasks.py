"""sncse.data.tasks: the task facts every module imports, and the one parser of task lists."""

from __future__ import annotations

import pytest

from sncse.data.tasks import (
    DEV_TASKS,
    EXPECTED_PAIRS,
    MTEB_NAMES,
    STS_NAMES,
    STS_SUBSETS,
    STS_TASKS,
    STS_TEST_PAIRS,
    TRANSFER_NAMES,
    TRANSFER_TASKS,
    display_name,
    expected_pairs,
    parse_tasks,
    split_for,
    sts_tasks,
    transfer_tasks,
)
from sncse.errors import SncseError


def test_tables_cover_every_task() -> None:
    assert set(STS_NAMES) == set(MTEB_NAMES) == set(STS_TASKS)
    assert set(TRANSFER_NAMES) == set(TRANSFER_TASKS)
    assert set(STS_SUBSETS) == set(STS_TASKS) - {"stsb", "sickr"}
    assert set(DEV_TASKS) < set(STS_TASKS)
    assert [display_name(t) for t in ("stsb", "sickr", "sst2", "unknown")] == ["STS-B", "SICK-R", "SST-2", "unknown"]
    assert MTEB_NAMES["stsb"] == "STSBenchmark" and MTEB_NAMES["sickr"] == "SICK-R"


def test_pair_counts() -> None:
    assert EXPECTED_PAIRS["sts12"] == 3108
    assert expected_pairs("stsb", "dev") == 1500 and expected_pairs("sickr", "train") == 4500
    assert expected_pairs("sts12", "dev") is None
    # the papers' Table 1: 3108 + 1500 + 3750 + 3000 + 1186 + 1379 + 4927
    assert STS_TEST_PAIRS == 18850


def test_split_for() -> None:
    assert [split_for(t, "dev") for t in ("stsb", "sickr", "sts12")] == ["dev", "dev", "test"]
    assert split_for("stsb", "test") == "test"


def test_parse_tasks_groups_names_aliases() -> None:
    plan = parse_tasks("sts")
    assert plan.sts == list(STS_TASKS) and plan.transfer == [] and not plan.align
    assert parse_tasks(None, mode="dev").sts == ["stsb", "sickr"]
    plan = parse_tasks("all")
    assert plan.sts == list(STS_TASKS) and plan.transfer == list(TRANSFER_TASKS) and plan.align
    plan = parse_tasks("STS-B, sick-r,SST-2,uniformity,stsb")
    assert plan.sts == ["stsb", "sickr"] and plan.transfer == ["sst2"] and plan.align
    assert parse_tasks(["SICK", "mrpc"]).transfer == ["mrpc"]


@pytest.mark.parametrize(("spec", "mode", "needle"), [
    ("sts17", "test", "unknown task 'sts17'"),
    ("sts12", "dev", "no dev split"),
    (" , ", "test", "empty"),
    ("sts", "train", "mode must be test or dev"),
])
def test_parse_tasks_errors_name_the_setting(spec: str, mode: str, needle: str) -> None:
    with pytest.raises(SncseError, match=needle) as err:
        parse_tasks(spec, mode)
    assert "--" not in str(err.value)  # a library error names the setting, never a CLI flag
    assert err.value.setting in ("tasks", "mode")


def test_sts_tasks() -> None:
    assert sts_tasks("sts") == list(STS_TASKS) == sts_tasks("all")
    assert sts_tasks(None, mode="dev") == ["stsb", "sickr"]
    assert sts_tasks("STS-B,sick-r,sts12") == ["stsb", "sickr", "sts12"]
    with pytest.raises(SncseError, match="unknown STS task"):
        sts_tasks("sts17")
    with pytest.raises(SncseError, match="unknown STS task"):
        sts_tasks("mr")
    with pytest.raises(SncseError, match="dev"):
        sts_tasks("sts12", mode="dev")


def test_transfer_tasks() -> None:
    assert transfer_tasks("transfer") == list(TRANSFER_TASKS)
    assert transfer_tasks("SST-2,mrpc") == ["sst2", "mrpc"]
    with pytest.raises(SncseError, match="unknown transfer task"):
        transfer_tasks("cola")
