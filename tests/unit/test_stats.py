"""Means, standard errors and t-intervals over replications (sim.stats)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.stats import paired_difference, summarize, t_interval


def test_t_interval_by_hand():
    # values 1, 2, 3, 6: mean 3, sample variance (4 + 1 + 0 + 9) / 3 = 14/3,
    # se = sqrt(14/3) / 2; t(0.975, 3) = 3.182446305283708.
    mean, se, low, high, n = t_interval([1.0, 2.0, 3.0, 6.0])
    assert (mean, n) == (3.0, 4)
    assert se == pytest.approx(math.sqrt(14 / 3) / 2, rel=1e-14)
    half = 3.182446305283708 * math.sqrt(14 / 3) / 2
    assert (low, high) == (pytest.approx(3 - half, rel=1e-12), pytest.approx(3 + half, rel=1e-12))


def test_t_interval_matches_scipy():
    x = np.random.default_rng(7).normal(10.0, 3.0, size=17)
    got = t_interval(x)
    low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert got.mean == pytest.approx(x.mean(), rel=1e-14)
    assert got.se == pytest.approx(stats.sem(x), rel=1e-12)
    assert (got.low, got.high) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))
    assert got.n == 17


def test_t_interval_ignores_nan_and_small_n():
    # NaN replications (KPI undefined) are left out of n.
    assert t_interval([2.0, np.nan, 4.0]) == pytest.approx(t_interval([2.0, 4.0]))
    mean, se, low, high, n = t_interval([5.0, np.nan])
    assert (mean, n) == (5.0, 1)
    assert math.isnan(se) and math.isnan(low) and math.isnan(high)
    mean, se, low, high, n = t_interval([])
    assert n == 0 and math.isnan(mean) and math.isnan(se)
    # Identical values: zero-width interval.
    assert t_interval([1.5, 1.5, 1.5])[1:4] == (0.0, 1.5, 1.5)


def test_paired_difference():
    # Differences a - b = 1, 2, 3: mean 2, sd 1, se 1/sqrt(3), t(0.975, 2) = 4.302652729749462.
    a = [10.0, 12.0, 15.0]
    b = [9.0, 10.0, 12.0]
    mean, se, low, high, n = paired_difference(a, b)
    half = 4.302652729749462 / math.sqrt(3)
    assert (mean, n) == (2.0, 3)
    assert se == pytest.approx(1 / math.sqrt(3), rel=1e-14)
    assert (low, high) == (pytest.approx(2 - half, rel=1e-12), pytest.approx(2 + half, rel=1e-12))
    # Pairing removes the common noise: the unpaired se of a and b alone is much larger.
    assert se < t_interval(a).se
    # A pair with a NaN is dropped as a whole.
    assert paired_difference(a + [np.nan], b + [1.0]) == pytest.approx((mean, se, low, high, n))
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0, 2.0], [1.0])


def test_summarize_tidy():
    frame = pd.DataFrame({
        "replication": [0, 1, 2, 0, 1, 2],
        "channel": ["phone", "phone", "phone", "all", "all", "all"],
        "asa_s": [10.0, 20.0, 30.0, 1.0, 2.0, np.nan],
        "offered": [100, 110, 120, 5, 5, 5],
    })
    out = summarize(frame, ["channel"], ["asa_s", "offered"])
    assert list(out.columns) == ["channel", "kpi", "mean", "se", "ci95_low", "ci95_high", "n"]
    assert list(zip(out.channel, out.kpi, strict=True)) == [
        ("phone", "asa_s"), ("phone", "offered"), ("all", "asa_s"), ("all", "offered"),
    ]
    for _, row in out.iterrows():
        values = frame.loc[frame.channel == row.channel, row.kpi]
        expected = t_interval(values)
        got = (row["mean"], row.se, row.ci95_low, row.ci95_high, row.n)
        assert got == pytest.approx(tuple(expected), nan_ok=True)
    # asa_s of "all": 2 values -> n = 2; offered of "all": constant -> zero-width interval.
    row = out[(out.channel == "all") & (out.kpi == "offered")].iloc[0]
    assert (row["mean"], row.se, row.ci95_low, row.n) == (5.0, 0.0, 5.0, 3)
    assert out.n.dtype == np.int64


def test_summarize_single_replication_and_no_groups():
    frame = pd.DataFrame({"replication": [0], "channel": ["all"], "p_wait": [0.25]})
    out = summarize(frame, ["channel"], ["p_wait"])
    row = out.iloc[0]
    assert (row["mean"], row.n) == (0.25, 1)
    assert np.isnan(row.se) and np.isnan(row.ci95_low) and np.isnan(row.ci95_high)

    frame = pd.DataFrame({"replication": [0, 1, 2], "x": [1.0, 2.0, 3.0]})
    out = summarize(frame, [], ["x"])
    assert list(out.columns) == ["kpi", "mean", "se", "ci95_low", "ci95_high", "n"]
    assert tuple(out.iloc[0][["mean", "se", "ci95_low", "ci95_high", "n"]]) == pytest.approx(
        tuple(t_interval([1.0, 2.0, 3.0]))
    )


def test_summarize_two_group_columns_all_nan_kpi():
    frame = pd.DataFrame({
        "replication": [0, 1, 0, 1],
        "interval": [1, 1, 2, 2],
        "channel": ["email"] * 4,
        "backlog": [3.0, 5.0, np.nan, np.nan],
    })
    out = summarize(frame, ["interval", "channel"], ["backlog"])
    assert out.interval.tolist() == [1, 2]
    assert out.n.tolist() == [2, 0]
    assert out["mean"].iloc[0] == 4.0 and np.isnan(out["mean"].iloc[1])
