"""Comparisons with common random numbers, sweeps, precision-driven runs, risk outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.api import Precision
from sim.cli import main
from sim.scenario import load_scenario
from sim.sweep import SweepError, parse_set, sweep

BASE = """\
name: two queues, {label}
horizon: {{start: 2026-01-05, days: 2, warmup: 6h, interval: 60min}}
channels:
  phone: {{kind: live, sla: {{threshold: 20s, target: 0.8}},
          patience: {{dist: exponential, mean: 5min}}}}
contact_types:
  billing: {{queue: billing, share: {{phone: 0.5}}, handle_time: {{dist: exponential, mean: 4min}}}}
  tech: {{queue: tech, share: {{phone: 0.5}}, handle_time: {{dist: exponential, mean: 6min}}}}
demand: {{daily: {{phone: 2400}}}}
teams:
  agents: {{headcount: {headcount}, skills: {{billing: 1.0, tech: 1.0}}, channels: [phone]}}
queues: {{tech: {{priority: 1}}, billing: {{priority: 2}}}}
routing: {{on_free: {on_free}}}
targets: {{phone: {{service_level: {{min: 0.8}}, abandon_rate: {{max: 0.05}}}}}}
"""


def scenario_file(tmp_path: Path, label: str, headcount: int = 10,
                  on_free: str = "queue_priority") -> Path:
    path = tmp_path / f"{label}.yaml"
    path.write_text(BASE.format(label=label, headcount=headcount, on_free=on_free))
    return path


def test_crn_gives_a_smaller_variance_than_independent_runs(tmp_path):
    a = scenario_file(tmp_path, "priority")
    b = scenario_file(tmp_path, "oldest", on_free="oldest")
    n = 20
    table = sim.compare([a, b], replications=n, workers=2)
    row = table[(table.channel == "phone") & (table.kpi == "service_level")].iloc[0]
    assert row.n == n and row.var_paired < row.var_independent
    # against truly independent runs: B with another seed
    ra = sim.run(a, replications=n)
    rb = sim.run(b, replications=n, seed=12345)
    x = ra.totals.query("channel == 'phone'").service_level.to_numpy()
    y = rb.totals.query("channel == 'phone'").service_level.to_numpy()
    var_independent_runs = np.var(y - x, ddof=1)
    assert row.var_paired < var_independent_runs / 4
    # the baseline's per-replication values are those of a plain run (same seeds)
    assert row.mean_baseline == pytest.approx(x.mean(), rel=1e-12)
    # direction and significance follow KPI_INFO and the interval
    sl = table[(table.channel == "phone") & (table.kpi == "service_level")].iloc[0]
    if sl.significant:
        assert (sl.ci95_low > 0) or (sl.ci95_high < 0)
        assert sl.better == (sl.scenario if sl["diff"] > 0 else sl.baseline)


def test_compare_cli(tmp_path, capsys):
    a = scenario_file(tmp_path, "ten")
    b = scenario_file(tmp_path, "eleven", headcount=11)
    assert main(["compare", str(a), str(b), "-n", "6", "--quiet", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "two queues, eleven" in out and "common random numbers" in out
    assert main(["compare", str(a), "-n", "2"]) == 2


def test_sweep_table_best_point_and_bad_paths(tmp_path, capsys):
    a = scenario_file(tmp_path, "base")
    table = sweep(a, ["teams.agents.headcount=10..12", "routing.on_free=queue_priority,oldest"],
                  replications=4, workers=2, out=tmp_path / "sw")
    assert sorted(table.point.unique()) == list(range(6))
    assert {"teams.agents.headcount", "routing.on_free", "mean", "ci95_low"} <= set(
        table.columns)
    on_disk = pd.read_parquet(tmp_path / "sw" / "sweep.parquet")
    assert len(on_disk) == len(table) and (tmp_path / "sw" / "sweep.csv").exists()
    # common random numbers: each point's offered counts are the same draws
    offered = table[(table.kpi == "offered") & (table.channel == "all")]["mean"]
    assert offered.nunique() == 1
    # one worker gives the same table
    again = sim.sweep(a, {"teams.agents.headcount": [10, 11, 12],
                      "routing.on_free": ["queue_priority", "oldest"]},
                  replications=4, workers=1)
    pd.testing.assert_frame_equal(table, again)

    assert main(["sweep", str(a), "--set", "teams.agents.headcount=10..12", "-n", "4",
                 "--quiet", "--out", str(tmp_path / "sw2")]) == 0
    assert "least cost meeting every target" in capsys.readouterr().out
    assert main(["sweep", str(a), "--set", "teams.nobody.headcount=3", "-n", "2"]) == 2
    assert "no 'nobody' in teams" in capsys.readouterr().err
    assert main(["sweep", str(a), "--set", "teams.agents.headcout=3", "-n", "2"]) == 2
    assert "headcout" in capsys.readouterr().err
    with pytest.raises(SweepError):
        parse_set("teams.agents.headcount")
    assert parse_set("a.b=1..3") == ("a.b", [1, 2, 3])
    assert parse_set("a=x, 2") == ("a", ["x", 2])


def test_precision_adds_replications_until_the_goal(tmp_path, capsys):
    a = scenario_file(tmp_path, "prec")
    r = sim.run(a, replications=4, workers=2,
                precision=Precision("service_level", "phone", 0.02, None, 40))
    p = r.manifest["precision"]
    n = r.manifest["replications"]
    assert 4 <= n <= 40 and (p["reached"] or n == 40)
    assert p["half_width"] == pytest.approx(
        (r.kpi("service_level", "phone")["ci95_high"]
         - r.kpi("service_level", "phone")["ci95_low"]) / 2)
    # replication i is the same draw as in a fixed-size run
    fixed = sim.run(a, replications=n)
    pd.testing.assert_frame_equal(fixed.totals, r.totals)
    out = tmp_path / "run"
    assert main(["run", str(a), "--precision", "abs:0.05", "--channel", "phone", "-n", "3",
                 "--quiet", "--out", str(out)]) == 0
    assert "precision: phone service_level" in capsys.readouterr().out
    assert main(["run", str(a), "--precision", "abs:x", "--quiet"]) == 2


def test_risk_outputs_per_week_and_month(tmp_path):
    path = tmp_path / "long.yaml"
    text = BASE.format(label="long", headcount=10, on_free="queue_priority").replace(
        "days: 2, warmup: 6h", "days: 35, warmup: 1d")
    path.write_text(text)
    r = sim.run(path, replications=3, workers=2, out=tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for t in summary["targets"]:
        for key in ("p_met", "p_met_week", "p_met_month"):
            assert 0.0 <= t[key] <= 1.0
    # by hand: service level of week 0 of replication 0 = answered-within / offered
    rows = r.intervals.query("channel == 'phone' and queue == 'all' and replication == 0")
    week = rows[rows.interval_start < rows.interval_start.min() + 7 * 86400]
    value = (week.service_level * week.offered).sum() / week.offered.sum()
    from sim.results import period_values

    weeks = period_values(load_scenario(path), r.intervals, "phone", "service_level", "week")
    assert weeks[0] == pytest.approx(value, rel=1e-12)
    assert len(weeks) == 3 * 5  # 34 measured days: 5 weeks (the last partial)
    months = period_values(load_scenario(path), r.intervals, "phone", "service_level",
                           "month")
    assert len(months) == 3 * 2  # January and the first days of February



# BASE with agents at 30/h and one pricing tier whose SLA credits punish a missed phone
# service level: more agents cost more, too few pay credits.
PRICED = BASE.replace("channels: [phone]}}", "channels: [phone], cost_per_hour: 30}}") + """\
economics:
  pricing:
    standard: {{fee_per_placement: 400, placements_per_month: 300,
               targets: {{service_level: {{min: 0.8}}}}}}
  sla_credits: {{max_share: 0.2, rules: [{{kpi: service_level, share: 0.2}}]}}
"""


def test_sweep_ranks_by_margin_with_pricing_tiers(tmp_path):
    from sim.sweep import best_points, format_sweep

    def write(headcount: int) -> Path:
        path = tmp_path / f"h{headcount}.yaml"
        path.write_text(PRICED.format(label="priced", headcount=headcount,
                                      on_free="queue_priority"))
        return path

    table = sweep(write(10), ["teams.agents.headcount=10..13"], replications=3, workers=1)
    points = table.drop_duplicates("point").set_index("teams.agents.headcount")
    # each point's margin is the one sim.run reports for that variant (same seeds)
    for headcount in (10, 13):
        s = sim.run(write(headcount), replications=3).economics_summary
        want = s[(s.scope == "all") & (s.kpi == "margin_per_month")]["mean"].iloc[0]
        assert points.loc[headcount, "margin_per_month"] == want
    # among the points meeting every target the best has the highest margin, which is not
    # the one with the most agents
    best = best_points(table)
    meeting = points[points.meets_targets]
    assert len(meeting) >= 2, "the grid should have several points meeting the targets"
    assert best.margin_per_month.iloc[0] == meeting.margin_per_month.max()
    assert best["teams.agents.headcount"].iloc[0] != meeting.index.max()
    assert "highest margin meeting every target" in format_sweep(table)
