"""The figures added for journeys, escalations, pricing tiers, requirements and comparisons.

Each draws on the ax it is given, the right series, and never shows. The input frames are
synthetic, in the shapes the adapters of :mod:`sim.report.data` return (tested here too on
synthetic run-folder pieces), since the runs of the seed scenarios do not have these KPIs
yet.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.report import figures as F  # noqa: E402
from sim.report.data import (  # noqa: E402
    economics_table,
    escalation_table,
    journey_table,
    mttr_table,
)
from sim.stats import t_interval  # noqa: E402


def axes():
    fig = Figure()
    return fig, fig.add_subplot()


def bars(ax) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def bar_heights(container) -> list[float]:
    return [round(p.get_height(), 9) for p in container.patches]


class FakeRun:
    """The parts of a RunFolder the adapters read."""

    def __init__(self, path, summary=None, intervals=None, channels=("phone", "all")):
        self.path = path
        self.summary = summary or {"kpis": {}}
        self.intervals = intervals if intervals is not None else pd.DataFrame(
            {"queue": [], "offered": []})
        self.channels = list(channels)

    def kpi(self, channel, key):
        stats = self.summary.get("kpis", {}).get(channel, {}).get(key)
        return None if not stats or stats.get("mean") is None else stats


def test_journey_kpis_bars_errorbars_and_targets():
    table = pd.DataFrame({
        "channel": ["phone", "phone", "phone", "chat", "chat"],
        "kpi": ["fcr", "repeat_rate", "escalation_rate", "fcr", "repeat_rate"],
        "mean": [0.72, 0.18, 0.05, 0.81, 0.1],
        "low": [0.70, 0.16, 0.04, 0.79, np.nan],
        "high": [0.74, 0.20, 0.06, 0.83, np.nan]})
    fig, ax = axes()
    assert F.journey_kpis(ax, table, {("phone", "fcr"): 0.75}) is ax
    fcr, repeat, esc = bars(ax)
    assert bar_heights(fcr) == [0.72, 0.81]
    assert bar_heights(repeat) == [0.18, 0.1]
    assert bar_heights(esc) == [0.05, 0.0]  # chat has no escalation rate
    assert [t.get_text() for t in ax.get_xticklabels()] == ["phone", "chat"]
    target = [ln for ln in ax.get_lines() if ln.get_label() == "target"]
    assert len(target) == 1 and list(target[0].get_ydata()) == [0.75, 0.75]
    assert ax.get_title(loc="left") and ax.get_ylabel()


def test_escalations_by_tier_counts_and_compliance_labels():
    table = pd.DataFrame({"tier": [2, 2, 3], "severity": ["critical", "routine", "critical"],
                          "tasks": [4.0, 30.0, 1.5], "ack": [0.75, 0.9, np.nan],
                          "resolve": [1.0, 0.5, 0.25]})
    fig, ax = axes()
    F.escalations_by_tier(ax, table)
    routine, critical = bars(ax)  # calm first, alarming last
    assert routine.get_label() == "routine" and critical.get_label() == "critical"
    assert bar_heights(routine) == [30.0, 0.0] and bar_heights(critical) == [4.0, 1.5]
    labels = {t.get_text() for t in ax.texts}
    assert labels == {"ack 75%\nresolve 100%", "ack 90%\nresolve 50%", "resolve 25%"}
    assert "acknowledge window" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["tier 2", "tier 3"]


def test_mttr_by_severity_bars_ci_and_target():
    table = pd.DataFrame({"severity": ["critical", "routine"], "mean": [3.0, 30.0],
                          "low": [2.5, 25.0], "high": [3.5, 35.0]})
    fig, ax = axes()
    F.mttr_by_severity(ax, table, {"critical": 4.0})
    assert [round(p.get_height(), 9) for p in ax.patches] == [30.0, 3.0]
    (target,) = [ln for ln in ax.get_lines() if ln.get_label() == "target"]
    assert list(target.get_ydata()) == [4.0, 4.0]
    assert "hours" in ax.get_ylabel()


def test_margin_by_tier_one_group_per_tier():
    rows = []
    for tier, (rev, cred, cost) in {"Basic": (125.0, 5.0, 100.0),
                                    "Premium": (420.0, 0.0, 300.0)}.items():
        for m, v in (("revenue", rev), ("sla_credits", cred), ("cost", cost),
                     ("margin", rev - cred - cost)):
            rows.append({"tier": tier, "measure": m, "mean": v, "low": v - 1, "high": v + 1})
    fig, ax = axes()
    F.margin_by_tier(ax, pd.DataFrame(rows), currency="USD")
    revenue, credits, cost, margin = bars(ax)
    assert bar_heights(revenue) == [125.0, 420.0]
    assert bar_heights(credits) == [5.0, 0.0]
    assert bar_heights(margin) == [20.0, 120.0]
    assert "USD" in ax.get_ylabel()


def test_staffed_vs_required_is_labelled_as_the_analytic_requirement():
    staffing = pd.DataFrame({"interval_start": [0.0, 3600.0, 86400.0, 90000.0],
                             "team": "agents", "on_duty": [2.0, 4.0, 2.0, 4.0],
                             "scheduled": [3.0, 5.0, 3.0, 5.0]})
    required = pd.Series([1.0, 3.0], index=[0.0, 1.0])
    fig, ax = axes()
    F.staffed_agents_by_interval(ax, staffing, required)
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "Erlang requirement (analytic)"]
    assert list(line.get_ydata()) == [1.0, 3.0, 3.0]


def test_kpi_changes_relative_with_interval_and_band():
    table = pd.DataFrame({"channel": ["phone", "phone", "all"],
                          "kpi": ["asa_s", "service_level", "occupancy"],
                          "mean_baseline": [10.0, 0.8, 0.0], "diff": [5.0, -0.04, 0.1],
                          "ci95_low": [4.0, -0.08, 0.0], "ci95_high": [6.0, 0.0, 0.2],
                          "verdict": ["worse", "worse", ""]})
    t = F.kpi_changes_table(table)
    assert list(t["kpi"]) == ["service_level", "asa_s"]  # zero baseline left out
    assert t["change"].tolist() == pytest.approx([-0.05, 0.5])
    assert t["low"].tolist() == pytest.approx([-0.1, 0.4])
    fig, ax = axes()
    F.kpi_changes(ax, table)
    dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert sorted(float(d.get_xdata()[0]) for d in dots) == pytest.approx([-0.05, 0.5])
    assert any("alert rule" in str(p.get_label()) for p in ax.patches)


def test_journey_and_mttr_adapters_read_summary_json(tmp_path):
    stats = {"mean": 0.7, "se": 0.01, "ci95_low": 0.68, "ci95_high": 0.72, "n": 3}
    summary = {"kpis": {"phone": {"fcr": stats, "asa_s": stats},
                        "all": {"mttr_h_critical": {**stats, "mean": 3.0},
                                "mttr_h": {**stats, "mean": 12.0}}}}
    run = FakeRun(tmp_path, summary)
    journeys = journey_table(run)
    assert journeys[["channel", "kpi", "mean"]].values.tolist() == [["phone", "fcr", 0.7]]
    mttr = mttr_table(run).set_index("severity")["mean"].to_dict()
    assert mttr == {"critical": 3.0, "all": 12.0}
    bare = FakeRun(tmp_path, {"kpis": {"phone": {"asa_s": stats}}})
    assert journey_table(bare) is None and mttr_table(bare) is None
    assert escalation_table(bare) is None and economics_table(bare) is None


def test_escalation_adapter_pools_task_queues_per_replication(tmp_path):
    rows = []
    q = "escalation/tier2_critical"  # queues are written as channel/queue
    for rep, (n1, c1, n2, c2) in enumerate([(4, 1.0, 6, 0.5), (2, 0.5, 2, 1.0)]):
        # two intervals of tier2_critical per replication; compliance pooled by answered
        rows += [{"replication": rep, "channel": "escalation", "queue": q, "offered": n1,
                  "answered": n1, "tier2_ack_compliance": c1, "tier3_ack_compliance": 0.0},
                 {"replication": rep, "channel": "escalation", "queue": q, "offered": n2,
                  "answered": n2, "tier2_ack_compliance": c2, "tier3_ack_compliance": 0.0},
                 {"replication": rep, "channel": "escalation", "queue": "escalation/tier3_x",
                  "offered": 1, "answered": 1, "tier2_ack_compliance": np.nan,
                  "tier3_ack_compliance": 1.0},
                 {"replication": rep, "channel": "phone", "queue": "all", "offered": 100,
                  "answered": 90, "tier2_ack_compliance": np.nan,
                  "tier3_ack_compliance": np.nan}]
    table = escalation_table(FakeRun(tmp_path, intervals=pd.DataFrame(rows)))
    row, other = table.to_dict(orient="records")
    assert (row["tier"], row["severity"]) == (2, "critical") and "resolve" not in row
    assert row["tasks"] == pytest.approx((10 + 4) / 2)
    per_rep = [(4 * 1.0 + 6 * 0.5) / 10, (2 * 0.5 + 2 * 1.0) / 4]
    d = t_interval(per_rep)
    assert row["ack"] == pytest.approx(d.mean)
    assert (row["ack_low"], row["ack_high"]) == pytest.approx((d.low, d.high))
    assert (other["tier"], other["severity"], other["ack"]) == (3, "x", 1.0)


def test_economics_adapter_sums_months_then_averages_replications(tmp_path):
    eco = pd.DataFrame({"replication": [0, 0, 1, 1, 0, 1], "month": [1, 2, 1, 2, 1, 1],
                        "tier": ["Basic"] * 4 + ["Premium"] * 2,
                        "revenue": [100.0, 100.0, 100.0, 100.0, 400.0, 400.0],
                        "sla_credits": [0.0, 10.0, 0.0, 0.0, 0.0, 20.0],
                        "cost": [80.0, 90.0, 70.0, 70.0, 300.0, 300.0]})
    eco["margin"] = eco["revenue"] - eco["sla_credits"] - eco["cost"]
    eco.to_parquet(tmp_path / "economics.parquet", index=False)
    table = economics_table(FakeRun(tmp_path)).set_index(["tier", "measure"])
    assert table.loc[("Basic", "revenue"), "mean"] == pytest.approx(200.0)
    basic_margin = t_interval([200.0 - 10 - 170, 200.0 - 0 - 140])
    assert table.loc[("Basic", "margin"), "mean"] == pytest.approx(basic_margin.mean)
    assert table.loc[("Basic", "margin"), "low"] == pytest.approx(basic_margin.low)
    assert table.loc[("Premium", "sla_credits"), "mean"] == pytest.approx(10.0)


def test_monthly_service_level_distribution_pools_each_calendar_month():
    import datetime as dt

    # 1 replication, Jan 31 and Feb 1-2: January SL 0.5 (1 day), February 0.9 (2 days)
    rows = []
    for day, sl in enumerate([0.5, 0.9, 0.9]):
        rows.append({"interval": day, "interval_start": day * 86400.0, "channel": "phone",
                     "queue": "all", "replication": 0, "offered": 10, "answered": 10,
                     "service_level": sl})
    iv = pd.DataFrame(rows)
    start = dt.date(2026, 1, 31)
    monthly = F.monthly_service_level(iv, ["phone"], start)
    assert monthly["service_level"].tolist() == pytest.approx([0.5, 0.9])
    fig, ax = axes()
    F.weekly_service_level_distribution(ax, iv, ["phone"], {"phone": 0.8}, period="M",
                                        start=start)
    dots = ax.collections[0].get_offsets()[:, 1]
    assert sorted(dots) == pytest.approx([0.5, 0.9])
    assert any("P(met) 50%" in t.get_text() for t in ax.texts)
    assert "monthly" in ax.get_ylabel()


def test_an_unreadable_optional_table_is_a_note_not_a_failure(tmp_path):
    from sim.report.html import _absent_note, optional_tables

    pd.DataFrame({"replication": [0], "tier": ["basic"], "revenue": ["lots"]}).to_parquet(
        tmp_path / "economics.parquet", index=False)
    tables, problems = optional_tables(FakeRun(tmp_path))
    assert all(t is None for t in tables.values())
    assert set(problems) == {"margin_by_tier"}
    note = _absent_note("margin_by_tier", problems)
    assert note.startswith("Revenue, SLA credits and margin per pricing tier: could not be "
                           "read from this run (")


def test_cost_per_contact_by_channel_draws_one_bar_per_channel():
    ax = Figure().subplots()
    values = {"phone": (9.4, 9.0, 9.7), "chat": (6.1, 5.8, 6.4), "email": (4.0, 3.9, 4.2)}
    F.cost_per_contact_by_channel(ax, values, "USD", band=(3.0, 10.0))
    widths = [p.get_width() for p in ax.patches if p.get_height() == 0.6]
    assert widths == [9.4, 6.1, 4.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["phone", "chat", "email"]
    assert "USD" in ax.get_xlabel()
