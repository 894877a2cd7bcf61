"""Statistics over replications: means, standard errors, t-intervals, paired differences.

Each replication gives one value of a KPI; replications are independent (or, for paired
differences, share common random numbers). The 95% interval is the Student t-interval
``mean +/- t(0.975, n - 1) * s / sqrt(n)`` with the sample standard deviation ``s``
(``ddof=1``). NaN values (a KPI undefined in a replication) are left out, so ``n`` counts the
replications where the KPI is defined; with ``n < 2`` the standard error and interval are NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as _scipy_stats

#: Columns :func:`summarize` adds after the group columns.
SUMMARY_COLUMNS = ("kpi", "mean", "se", "ci95_low", "ci95_high", "n")


class Interval(NamedTuple):
    """Mean of replication values with its standard error and 95% t-interval."""

    mean: float
    se: float
    low: float
    high: float
    n: int


def _t_bounds(mean, se, n):
    """Vectorised 95% t-interval; NaN where ``n < 2``."""
    n = np.asarray(n, dtype=np.float64)
    ok = n >= 2
    q = np.full(n.shape, np.nan)
    q[ok] = _scipy_stats.t.ppf(0.975, n[ok] - 1.0)
    half = q * se
    return mean - half, mean + half


def t_interval(values) -> Interval:
    """Mean, standard error and 95% t-interval of replication values.

    Parameters
    ----------
    values : array_like of float, shape (n,)
        One value per replication; NaN values are ignored.

    Returns
    -------
    Interval
        ``(mean, se, low, high, n)``; ``n`` = number of non-NaN values. ``mean`` is NaN when
        ``n == 0``; ``se``, ``low`` and ``high`` are NaN when ``n < 2``.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    n = int(x.shape[0])
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, np.nan, np.nan, np.nan, n)
    se = float(x.std(ddof=1) / np.sqrt(n))
    low, high = _t_bounds(mean, se, n)
    return Interval(mean, se, float(low), float(high), n)


def paired_difference(a, b) -> Interval:
    """t-interval of ``a - b`` over paired replications (common random numbers).

    Parameters
    ----------
    a, b : array_like of float, shape (n,)
        Values of one KPI for the same replications (same seeds) under two configurations.
        Pairs where either value is NaN are left out.

    Returns
    -------
    Interval
        Of the per-replication differences ``a[i] - b[i]``.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired_difference needs equal lengths, got {a.shape[0]} and "
                         f"{b.shape[0]}")
    return t_interval(a - b)


def summarize(frame: pd.DataFrame, by: list[str], kpis: list[str]) -> pd.DataFrame:
    """Mean, standard error and 95% t-interval of each KPI per group, over replications.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per replication x group (column ``replication``), KPI columns.
    by : list of str
        Group columns (may be empty: one group).
    kpis : list of str
        KPI columns to summarize.

    Returns
    -------
    pandas.DataFrame
        Tidy: columns ``by + ["kpi", "mean", "se", "ci95_low", "ci95_high", "n"]``, one row per
        group x KPI (groups in order of first appearance, KPIs in the given order).
    """
    by = list(by)
    kpis = list(kpis)
    values = frame[kpis].astype(np.float64)
    if by:
        grouped = values.groupby([frame[c] for c in by], sort=False, dropna=False)
        mean, std, n = grouped.mean(), grouped.std(ddof=1), grouped.count()
        keys = mean.index.to_frame(index=False)
    else:
        mean = values.mean().to_frame().T
        std = values.std(ddof=1).to_frame().T
        n = values.count().to_frame().T
        keys = pd.DataFrame(index=[0])

    n_groups, n_kpis = mean.shape
    m = mean.to_numpy().ravel()
    count = n.to_numpy().ravel().astype(np.int64)
    se = np.where(count >= 2, std.to_numpy().ravel() / np.sqrt(np.maximum(count, 1)), np.nan)
    low, high = _t_bounds(m, se, count)
    out = keys.loc[keys.index.repeat(n_kpis)].reset_index(drop=True)
    out["kpi"] = np.tile(np.array(kpis, dtype=object), n_groups)
    out["kpi"] = out["kpi"].astype("str")
    out["mean"] = m
    out["se"] = se
    out["ci95_low"] = low
    out["ci95_high"] = high
    out["n"] = count
    return out[by + list(SUMMARY_COLUMNS)]
