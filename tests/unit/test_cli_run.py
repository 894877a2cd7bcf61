"""`ccsim` verbs end to end: the run folder contract, exit codes, atomicity, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]
MMC = ROOT / "scenarios" / "textbook" / "mmc_medium.yaml"
STATS = {"mean", "se", "ci95_low", "ci95_high", "n"}


def small(tmp_path: Path, **changes) -> Path:
    """A short copy of the M/M/10 scenario (2 days) with extra top-level keys."""
    text = MMC.read_text().replace("days: 8, warmup: 1d", "days: 2, warmup: 6h")
    for key, value in changes.items():
        text += f"{key}: {value}\n"
    path = tmp_path / "small.yaml"
    path.write_text(text)
    return path


def test_run_writes_the_contract(tmp_path, capsys):
    scenario = small(tmp_path, targets="{phone: {asa_s: {max: 20}}}")
    out = tmp_path / "run"
    code = main(["run", str(scenario), "-n", "3", "--seed", "7", "--out", str(out),
                 "--contacts", "--workers", "1", "--quiet"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "contacts.parquet", "intervals.parquet", "manifest.json", "scenario.yaml",
        "summary.csv", "summary.json", "totals.parquet"]
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("ccsim_version", "scenario_sha256", "seed", "engine", "replications",
                "executor", "command_line", "started", "finished"):
        assert key in manifest
    assert manifest["seed"] == 7 and manifest["replications"] == 3
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["kpis"]) == {"phone", "all"}
    for channel in summary["kpis"].values():
        for stats in channel.values():
            assert set(stats) == STATS
    assert summary["kpis"]["phone"]["offered"]["n"] == 3
    (target,) = summary["targets"]
    assert target["kpi"] == "asa_s" and target["status"] in ("met", "missed", "uncertain")
    table = pd.read_csv(out / "summary.csv")
    assert list(table.columns[:7]) == ["channel", "kpi", "mean", "se", "ci95_low",
                                      "ci95_high", "n"]
    intervals = pd.read_parquet(out / "intervals.parquet")
    assert set(intervals.replication) == {0, 1, 2}
    contacts = pd.read_parquet(out / "contacts.parquet")
    assert len(contacts) == manifest["contacts_simulated"]
    # the resolved scenario reruns as it is, to the same numbers
    again = tmp_path / "again"
    assert main(["run", str(out / "scenario.yaml"), "-n", "3", "--seed", "7", "--out",
                 str(again), "--workers", "1", "--quiet"]) == 0
    assert (again / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


def test_same_seed_same_numbers_whatever_the_workers(tmp_path):
    scenario = small(tmp_path)
    a = sim.run(scenario, replications=3, seed=11, workers=1)
    b = sim.run(scenario, replications=3, seed=11, workers=2)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.intervals, b.intervals)
    c = sim.run(scenario, replications=3, seed=12, workers=1)
    assert not a.summary["mean"].equals(c.summary["mean"])


def test_engines_give_the_same_summary(tmp_path):
    scenario = small(tmp_path)
    a = sim.run(scenario, replications=2, seed=3, engine="kernel", workers=1)
    b = sim.run(scenario, replications=2, seed=3, engine="simpy", workers=1)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_invalid_scenario_exit_2_no_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MMC.read_text().replace("skills: {general: 1.0}",
                                           "skills: {genral: 1.0}"))
    out = tmp_path / "never"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "genral" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["validate", str(bad)]) == 2


def test_existing_results_are_never_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["run", str(small(tmp_path)), "--out", str(out), "--quiet"]) == 1
    assert (out / "keep.txt").read_text() == "precious"
    assert "already exists" in capsys.readouterr().err


def test_unstable_queue_is_refused(tmp_path, capsys):
    path = tmp_path / "unstable.yaml"
    path.write_text(MMC.read_text().replace("headcount: 10", "headcount: 7"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unstable queue" in err and f"{path}:" in err


def test_validate_and_schema(tmp_path, capsys):
    assert main(["validate", str(MMC)]) == 0
    assert "ok" in capsys.readouterr().out
    schema_file = tmp_path / "schema.json"
    assert main(["schema", "--out", str(schema_file)]) == 0
    schema = json.loads(schema_file.read_text())
    assert {"channels", "teams", "demand"} <= set(schema["properties"])


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["run"]) == 2
    assert main(["run", str(MMC), "--replications", "0"]) == 2


@pytest.mark.parametrize("name", ["careconnect.yaml", "clinical_exchange.yaml"])
def test_seed_scenarios_validate(name, capsys):
    assert main(["validate", str(ROOT / "scenarios" / name)]) == 0


def test_results_plot_draws_on_the_given_ax(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plot() must not show()"))
    scenario = small(tmp_path, targets="{phone: {service_level: {min: 0.8}}}")
    res = sim.run(scenario, replications=2, seed=5, workers=1)
    fig, ax = plt.subplots()
    assert res.plot(ax=ax, kpi="service_level", channel="phone") is ax
    (line, target) = ax.get_lines()
    hours = line.get_xdata()
    assert len(hours) == 24 and min(hours) == 0 and max(hours) == 23  # hourly intervals
    assert target.get_ydata()[0] == 0.8
    plt.close(fig)
