"""Hyperparameter sweep view (SNCSE Figure 3): values read from run dirs, the PNG, the table."""

from __future__ import annotations

import pytest
from analyze_runs import write_sweep_run

from sncse.analyze.sweep import collect, plot_sweep
from sncse.errors import DataError, SncseError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def sweep_runs(tmp_path):
    runs = [write_sweep_run(tmp_path, f"a{a}", a, 0.3, 1e-3, dev=80 + 10 * a) for a in (0.0, 0.1, 0.2)]
    runs += [write_sweep_run(tmp_path, f"b{b}", 0.1, b, 1e-3, dev=79 + b) for b in (0.2, 0.4)]
    runs += [write_sweep_run(tmp_path, f"l{lam:g}", 0.1, 0.3, lam, dev=78.0, metrics_only=True)
             for lam in (1e-4, 1e-2)]
    runs.append(write_sweep_run(tmp_path, "tested", 0.1, 0.3, 1e-3, dev=81.0,
                                test={"sts12": 70.0, "stsb": 80.0}))
    return runs


def test_collect_reads_config_results_metrics_and_tests(sweep_runs):
    rows = {r.run: r for r in collect(sweep_runs)}
    assert rows["a0.2"].alpha == 0.2 and rows["a0.2"].beta == 0.3 and rows["a0.2"].lam == 1e-3
    assert rows["a0.2"].dev == pytest.approx(82.0) and rows["a0.2"].test is None
    assert rows["l0.01"].dev == 78.0 and rows["l0.01"].steps == 20  # best dev record of metrics.jsonl
    assert rows["tested"].test == pytest.approx(75.0) and rows["tested"].test_tasks == 2
    assert rows["b0.4"].loss == "bml"


def test_plot_is_a_png(sweep_runs, tmp_path):
    png = plot_sweep(collect(sweep_runs), tmp_path / "sweep.png")
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000


def test_errors(tmp_path):
    with pytest.raises(SncseError):
        collect([])
    with pytest.raises(DataError):
        collect([tmp_path / "missing"])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.yaml").write_text("loss: [unclosed\n")
    with pytest.raises(DataError, match="config.yaml"):
        collect([bad])
    (bad / "config.yaml").write_text("loss: {alpha: 0.1}\n")
    (bad / "metrics.jsonl").write_text('{"step": 1, "dev_stsb": 3}\nnot json\n')
    with pytest.raises(DataError, match=r"metrics.jsonl:2"):
        collect([bad])


def test_losses_without_bml_show_no_margins(tmp_path):
    run = write_sweep_run(tmp_path, "simcse", 0.1, 0.3, 1e-3, dev=75.0, loss="infonce")
    (row,) = collect([run])
    assert row.loss == "infonce" and row.alpha is row.beta is row.lam is None and row.dev == 75.0
