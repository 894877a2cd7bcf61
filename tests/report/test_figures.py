"""Figure functions: each draws on the ax it is given, the right series, and never shows.

The interval tables here are synthetic, with values chosen so the expected series can be
written down by hand.
"""

from __future__ import annotations

import datetime as dt
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from sim.kpi import KPI_KEYS  # noqa: E402
from sim.report import figures as F  # noqa: E402
from sim.stats import t_interval  # noqa: E402

MONDAY = dt.date(2026, 1, 5)




def intervals(days=2, reps=2, channels=("phone", "email"), interval_s=3600.0, **values):
    """A tidy interval table: ``queue == "all"`` rows per channel plus ``all``.

    ``values[kpi]`` is a function ``(rep, day, hour, channel) -> value``; counts default to
    10 offered and 10 answered; other KPIs to NaN.
    """
    rows = []
    per_day = int(86400 / interval_s)
    for rep in range(reps):
        for day in range(days):
            for k in range(per_day):
                start = day * 86400.0 + k * interval_s
                hour = start % 86400 / 3600.0
                for ch in (*channels, "all"):
                    row = {"interval": day * per_day + k, "interval_start": start,
                           "channel": ch, "queue": "all", "replication": rep}
                    for key in KPI_KEYS:
                        row[key] = np.nan
                    row["offered"], row["answered"] = 10, 10
                    for key, f in values.items():
                        row[key] = f(rep, day, hour, ch)
                    rows.append(row)
    return pd.DataFrame(rows)


def line_of(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return line


def test_service_level_by_interval_draws_pooled_mean_target_and_band():
    iv = intervals(service_level=lambda r, d, h, c: 0.5 + 0.01 * h + 0.1 * r)
    fig, ax = plt.subplots()
    out = F.service_level_by_interval(ax, iv, ["phone"], {"phone": 0.8})
    assert out is ax and ax.figure is fig
    line = line_of(ax, "phone")
    x, y = line.get_data()
    np.testing.assert_allclose(x, np.arange(24) + 0.5)  # interval midpoints, hours
    np.testing.assert_allclose(y, 0.5 + 0.01 * np.arange(24) + 0.05)  # mean of reps 0, 1
    target = line_of(ax, "phone target 80%")
    assert set(target.get_ydata()) == {0.8}
    assert len(ax.collections) == 1  # the CI band
    table = F.by_time_of_day_table(iv, ["phone"], "service_level")
    ref = t_interval([0.5, 0.6])
    row = table[table.hour == 0].iloc[0]
    assert row["low"] == pytest.approx(ref.low) and row["high"] == pytest.approx(ref.high)
    assert ax.get_title(loc="left") and "%" in ax.get_ylabel()


def test_service_level_is_pooled_by_offered_contacts():
    # day 0: 10 offered at 100%; day 1: 30 offered at 0% -> pooled 25%, not 50%
    iv = intervals(reps=1, service_level=lambda r, d, h, c: 1.0 - d,
                   offered=lambda r, d, h, c: 10 + 20 * d)
    fig, ax = plt.subplots()
    F.service_level_by_interval(ax, iv, ["phone"])
    np.testing.assert_allclose(line_of(ax, "phone").get_ydata(), 0.25)
    assert len(ax.collections) == 0  # one replication: no band


def test_asa_and_abandonment_by_interval():
    iv = intervals(asa_s=lambda r, d, h, c: 10.0 * h, abandon_rate=lambda r, d, h, c: 0.02)
    fig, (a1, a2) = plt.subplots(2)
    assert F.asa_by_interval(a1, iv, ["phone"], {"phone": 20.0}) is a1
    np.testing.assert_allclose(line_of(a1, "phone").get_ydata(), 10.0 * np.arange(24))
    assert "(s)" in a1.get_ylabel()
    assert F.abandonment_by_interval(a2, iv, ["phone"], {"phone": 0.05}) is a2
    np.testing.assert_allclose(line_of(a2, "phone").get_ydata(), 0.02)
    assert line_of(a2, "phone target 5%").get_ydata()[0] == 0.05


def test_occupancy_heatmap_matrix_and_band():
    # Monday and Tuesday; occupancy 0.8 (inside 75-85%) before noon, 0.5 after
    iv = intervals(occupancy=lambda r, d, h, c: 0.8 if h < 12 else 0.5)
    fig, ax = plt.subplots()
    assert F.occupancy_heatmap(ax, iv, MONDAY, band=(0.75, 0.85)) is ax
    image = ax.images[0].get_array()
    assert image.shape == (7, 24)
    np.testing.assert_allclose(image[:2, :12], 0.8)
    np.testing.assert_allclose(image[:2, 12:], 0.5)
    assert np.isnan(np.ma.filled(image, np.nan)[2:]).all()  # no Wednesday..Sunday data
    outlined = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(outlined) == 2 * 12
    # weekday follows the start date: starting on a Wednesday fills rows 2 and 3
    m = F.occupancy_matrix(iv, dt.date(2026, 1, 7))
    assert np.isfinite(m[2:4]).all() and np.isnan(m[:2]).all()


def test_backlog_and_age_over_horizon():
    iv = intervals(channels=("email",), backlog=lambda r, d, h, c: 2.0 * r + h,
                   backlog_age_h=lambda r, d, h, c: 1.0 + r)
    fig, (a1, a2) = plt.subplots(2)
    assert F.backlog_over_horizon(a1, iv, ["email"], daily_peak=False) is a1
    x, y = line_of(a1, "email").get_data()
    np.testing.assert_allclose(x, (np.arange(48) + 1) / 24.0)  # interval ends, in days
    np.testing.assert_allclose(y, 1.0 + np.tile(np.arange(24), 2))
    F.backlog_age_over_horizon(a2, iv, ["email"], MONDAY, {"email": 48.0}, daily_peak=True)
    y = line_of(a2, "email (daily peak)").get_ydata()
    np.testing.assert_allclose(y, [1.5, 1.5])
    assert line_of(a2, "email target 48").get_ydata()[0] == 48.0
    assert "(h)" in a2.get_ylabel()


def test_volume_by_period_daily_and_monthly():
    iv = intervals(days=3, offered=lambda r, d, h, c: 1 + r)  # 24 or 48 a day
    fig, ax = plt.subplots()
    assert F.volume_by_period(ax, iv, ["phone", "email"], MONDAY) is ax
    phone, email = ax.containers
    np.testing.assert_allclose([b.get_height() for b in phone], [36.0] * 3)
    np.testing.assert_allclose([b.get_y() for b in email], [36.0] * 3)  # stacked
    assert "per day" in ax.get_ylabel()
    fig, ax = plt.subplots()
    F.volume_by_period(ax, iv, ["phone"], dt.date(2026, 1, 30), period="M")
    # Jan 30, 31 -> January; Feb 1 -> February
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], [72.0, 36.0])
    assert F.choose_period(iv) == "D"
    assert F.choose_period(intervals(days=60, reps=1, interval_s=86400.0)) == "M"


def test_service_level_by_period_has_target_and_band():
    iv = intervals(days=3, service_level=lambda r, d, h, c: 0.7 + 0.1 * r + 0.05 * d)
    fig, ax = plt.subplots()
    assert F.service_level_by_period(ax, iv, ["phone"], MONDAY, "D", {"phone": 0.8}) is ax
    np.testing.assert_allclose(line_of(ax, "phone").get_ydata(), [0.75, 0.8, 0.85])
    assert len(ax.collections) == 1


def test_weekly_service_level_distribution_and_p_met():
    # two full weeks + 2 days (dropped); week 0 at 0.9, week 1 at 0.7 -> P(met 0.8) = 50%
    iv = intervals(days=16, channels=("phone",),
                   service_level=lambda r, d, h, c: 0.9 if d < 7 else 0.7)
    weekly = F.weekly_service_level(iv, ["phone"])
    assert sorted(weekly.week.unique()) == [0, 1] and len(weekly) == 4
    assert F.p_target_met(weekly, {"phone": 0.8}) == {"phone": 0.5}
    fig, ax = plt.subplots()
    assert F.weekly_service_level_distribution(ax, iv, ["phone"], {"phone": 0.8}) is ax
    dots = ax.collections[0].get_offsets()
    assert dots.shape == (4, 2)
    assert sorted(np.asarray(dots)[:, 1]) == pytest.approx([0.7, 0.7, 0.9, 0.9])
    assert any(t.get_text() == "P(met) 50%" for t in ax.texts)


def test_cost_per_contact_split_by_team():
    fig, ax = plt.subplots()
    out = F.cost_per_contact(ax, 10.0, 9.0, 11.0, {"a": 0.25, "b": 0.75})
    assert out is ax
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [b.get_width() for b in bars] == pytest.approx([2.5, 7.5])
    assert [b.get_x() for b in bars] == pytest.approx([0.0, 2.5])
    assert any("10.00" in t.get_text() for t in ax.texts)
    shares = F.team_cost_shares(pd.DataFrame({"team": ["a", "a", "b"],
                                              "scheduled": [1.0, 1.0, 2.0]}),
                                {"a": 10.0, "b": 30.0})
    assert shares == pytest.approx({"a": 0.25, "b": 0.75})


def test_staffed_agents_by_interval_stacks_teams():
    starts = np.arange(48) * 3600.0
    staffing = pd.concat([
        pd.DataFrame({"interval_start": starts, "team": "a", "on_duty": 2.0,
                      "scheduled": 3.0}),
        pd.DataFrame({"interval_start": starts, "team": "b",
                      "on_duty": np.where(starts % 86400 < 43200, 1.0, 0.0),
                      "scheduled": 1.0}),
    ], ignore_index=True)
    fig, ax = plt.subplots()
    assert F.staffed_agents_by_interval(ax, staffing) is ax
    assert len(ax.collections) == 2  # one stack layer per team
    sched = line_of(ax, "scheduled (before shrinkage)")
    np.testing.assert_allclose(sched.get_ydata(), 4.0)
    tod = F.staffing_by_time_of_day(staffing)
    assert tod[(tod.team == "b") & (tod.hour == 13.0)]["on_duty"].item() == 0.0


def test_figure_functions_draw_only_on_the_given_ax():
    iv = intervals(service_level=lambda r, d, h, c: 0.9)
    fig, (a1, a2) = plt.subplots(2)
    F.service_level_by_interval(a2, iv, ["phone"])
    assert not a1.has_data() and a2.has_data()
    assert plt.get_fignums() == [fig.number]  # no new figure was opened


def test_nan_only_channel_draws_nothing():
    iv = intervals(service_level=lambda r, d, h, c: math.nan)
    fig, ax = plt.subplots()
    F.service_level_by_interval(ax, iv, ["phone"])
    assert not ax.get_lines() and not ax.collections
