"""Report figures: each function draws one chart on a given matplotlib ``ax`` and returns it.

Every figure function has the form ``name(ax, data..., **kw) -> ax``: it draws on the axes
it is given (so researchers can place it in their own figures), sets a title, axis labels
with units and a legend, and never calls ``show()``. Most take the tidy interval table of a
run (``intervals.parquet``, or :attr:`sim.results.Results.intervals`): one row per
replication x interval x channel x queue, with ``queue == "all"`` rows aggregating a channel.

Confidence bands are 95% Student t-intervals across replications: each replication's value
is computed first (a ratio KPI pooled over the intervals it covers, e.g. answered within
the threshold / offered), then the mean and interval over replications. With one
replication there is no band. Bands of shares are drawn clipped to [0, 1].

The ``*_table`` helpers compute what a figure shows, as a DataFrame, for tests and reuse.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator, PercentFormatter
from scipy import stats as _stats

#: Per-channel colours (a colour-blind-safe cycle, Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: KPI -> the count it is pooled with over intervals (ratio = sum(kpi * weight) / sum(weight)).
POOL_WEIGHT = {
    "service_level": "offered",
    "abandon_rate": "offered",
    "asa_s": "answered",
    "aht_s": "answered",
    "mean_wait_s": "offered",
    "p_wait": "offered",
}


def channel_colors(channels) -> dict[str, str]:
    """A stable colour per channel name (in the given order)."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(channels)}


# --------------------------------------------------------------------------- helpers

def _channel_rows(intervals: pd.DataFrame, channels) -> pd.DataFrame:
    rows = intervals[intervals["queue"] == "all"]
    return rows[rows["channel"].isin(list(channels))]


def _t_band(frame: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Mean and 95% t-interval of ``value`` over replications, per ``by`` group."""
    g = frame.groupby(by, sort=True)[value]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.count()})
    n = out["n"].to_numpy(dtype=float)
    q = np.full(n.shape, np.nan)
    ok = n >= 2
    q[ok] = _stats.t.ppf(0.975, n[ok] - 1.0)
    half = q * out["sd"].to_numpy() / np.sqrt(np.maximum(n, 1.0))
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out.drop(columns="sd").reset_index()


def _pooled(rows: pd.DataFrame, kpi: str, by: list[str]) -> pd.DataFrame:
    """Per-replication ``kpi`` pooled over the intervals of each ``by`` group.

    Ratio KPIs are weighted by their denominator count (:data:`POOL_WEIGHT`); other KPIs are
    plain means over intervals where they are defined.
    """
    weight = POOL_WEIGHT.get(kpi)
    keys = ["replication", *by]
    if weight is None:
        ok = rows[rows[kpi].notna()]
        return ok.groupby(keys, sort=True)[kpi].mean().rename("value").reset_index()
    ok = rows[(rows[weight] > 0) & rows[kpi].notna()]
    tmp = pd.DataFrame({k: ok[k] for k in keys})
    tmp["num"] = ok[kpi].to_numpy(float) * ok[weight].to_numpy(float)
    tmp["den"] = ok[weight].to_numpy(float)
    sums = tmp.groupby(keys, sort=True)[["num", "den"]].sum()
    return (sums["num"] / sums["den"]).rename("value").reset_index()


def _time_of_day_h(interval_start: pd.Series) -> pd.Series:
    return (interval_start.astype(float) % 86400.0) / 3600.0


def _interval_h(intervals: pd.DataFrame) -> float:
    starts = np.unique(intervals["interval_start"].to_numpy(float))
    if starts.size >= 2:
        return float(np.min(np.diff(starts))) / 3600.0
    return 1.0


def _day_index(intervals: pd.DataFrame) -> pd.Series:
    return np.floor(intervals["interval_start"].astype(float) / 86400.0).astype(int)


def _finish(ax, title: str, xlabel: str, ylabel: str, legend: bool = True,
            outside: bool = True):
    """Title, labels, grid and legend (outside, right of the axes, by default)."""
    ax.set_title(title, loc="left", fontsize="medium", fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        if outside:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                      frameon=False, borderaxespad=0.0)
        else:
            ax.legend(loc="best", fontsize="small", framealpha=0.85)
    return ax


# --------------------------------------------------------------------------- time of day

def by_time_of_day_table(intervals: pd.DataFrame, channels, kpi: str) -> pd.DataFrame:
    """Mean of ``kpi`` by interval of the day over days and replications, with its band.

    Returns
    -------
    pandas.DataFrame
        ``channel, hour (start of the interval, h), mean, n, low, high``; the mean is over
        replications of each replication's value pooled over the days.
    """
    rows = _channel_rows(intervals, channels).copy()
    rows["hour"] = _time_of_day_h(rows["interval_start"])
    per_rep = _pooled(rows, kpi, ["channel", "hour"])
    if per_rep.empty:
        return pd.DataFrame(columns=["channel", "hour", "mean", "n", "low", "high"])
    return _t_band(per_rep, ["channel", "hour"], "value")


def _time_of_day_plot(ax, intervals, channels, kpi, targets, title, ylabel, percent,
                      colors=None):
    channels = list(channels)
    colors = colors or channel_colors(channels)
    table = by_time_of_day_table(intervals, channels, kpi)
    step_h = _interval_h(intervals)
    for ch in channels:
        t = table[table["channel"] == ch]
        if t.empty:
            continue
        x = t["hour"].to_numpy(float) + step_h / 2.0
        ax.plot(x, t["mean"].to_numpy(float), color=colors[ch], lw=1.8, label=ch)
        low, high = t["low"].to_numpy(float), t["high"].to_numpy(float)
        if percent:  # a share's band is drawn inside [0, 1]
            low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
        if np.isfinite(low).any():
            ax.fill_between(x, low, high, color=colors[ch], alpha=0.2, lw=0,
                            label=f"{ch} 95% CI")
        target = (targets or {}).get(ch)
        if target is not None and np.isfinite(target):
            ax.axhline(target, color=colors[ch], ls="--", lw=1.2,
                       label=f"{ch} target {_fmt_target(target, percent)}")
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(ax, title, "hour of day (interval midpoint)", ylabel)


def _fmt_target(value: float, percent: bool) -> str:
    return f"{100 * value:.0f}%" if percent else f"{value:g}"


def service_level_by_interval(ax, intervals: pd.DataFrame, channels, targets=None,
                              colors=None, title="Service level by interval of the day"):
    """Service level by interval of the day per channel, with its target and 95% CI band.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
        Tidy interval KPIs (``intervals.parquet``).
    channels : list of str
        Channels to draw (each one line, its band and its target).
    targets : dict of str -> float, optional
        Target share per channel (e.g. 0.8), drawn as a dashed line.
    colors : dict of str -> colour, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per channel: x = interval midpoint (hours), y = answered within the
        threshold / offered, pooled over days.
    """
    ax = _time_of_day_plot(ax, intervals, channels, "service_level", targets, title,
                           "service level (% answered within threshold)", True, colors)
    ax.set_ylim(top=1.02)
    return ax


def asa_by_interval(ax, intervals: pd.DataFrame, channels, targets=None, colors=None,
                    title="Average speed of answer by interval of the day"):
    """Average speed of answer (seconds) by interval of the day, with target and CI band.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
    channels : list of str
    targets : dict of str -> float, optional
        Maximum ASA per channel in seconds.
    colors : dict, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _time_of_day_plot(ax, intervals, channels, "asa_s", targets, title,
                           "ASA (s)", False, colors)
    ax.set_ylim(bottom=0)
    return ax


def abandonment_by_interval(ax, intervals: pd.DataFrame, channels, targets=None, colors=None,
                            title="Abandonment by interval of the day"):
    """Abandonment rate (abandoned / offered) by interval of the day, with target and band.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
    channels : list of str
    targets : dict of str -> float, optional
        Maximum abandonment share per channel.
    colors : dict, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _time_of_day_plot(ax, intervals, channels, "abandon_rate", targets, title,
                           "abandoned (% of offered)", True, colors)
    ax.set_ylim(bottom=0)
    return ax


# --------------------------------------------------------------------------- occupancy

def occupancy_matrix(intervals: pd.DataFrame, start: dt.date, channel: str = "all"
                     ) -> np.ndarray:
    """Mean occupancy per weekday (rows, Monday first) x hour of day (columns).

    Returns
    -------
    numpy.ndarray, shape (7, 24)
        Mean over replications and over the intervals of each cell; NaN where no agent was
        available.
    """
    rows = intervals[(intervals["queue"] == "all") & (intervals["channel"] == channel)]
    rows = rows[rows["occupancy"].notna()]
    out = np.full((7, 24), np.nan)
    if rows.empty:
        return out
    day = np.floor(rows["interval_start"].to_numpy(float) / 86400.0).astype(int)
    weekday = (start.weekday() + day) % 7
    hour = np.floor(_time_of_day_h(rows["interval_start"]).to_numpy()).astype(int)
    frame = pd.DataFrame({"w": weekday, "h": hour, "v": rows["occupancy"].to_numpy(float)})
    means = frame.groupby(["w", "h"])["v"].mean()
    out[means.index.get_level_values(0), means.index.get_level_values(1)] = means.to_numpy()
    return out


def occupancy_heatmap(ax, intervals: pd.DataFrame, start: dt.date, band=(0.75, 0.85),
                      channel: str = "all", colorbar: bool = True, annotate: bool = True,
                      title="Occupancy by weekday and hour"):
    """Heatmap of occupancy, weekday x hour of day, with the target band marked.

    Cells whose mean occupancy lies inside ``band`` are outlined; the band is also marked
    on the colour bar.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
    start : datetime.date
        First day of the horizon (gives each interval its weekday).
    band : (float, float) or None
        Occupancy target band, e.g. the seed's 75-85%.
    channel : str
        ``"all"`` (the whole center) or one channel's share.
    colorbar, annotate : bool
        Draw a colour bar; write the percentage in each cell.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0]`` holds the (7, 24) matrix of :func:`occupancy_matrix`.
    """
    matrix = occupancy_matrix(intervals, start, channel)
    im = ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0,
                   interpolation="nearest", origin="upper")
    ax.set_yticks(range(7), WEEKDAY_NAMES)
    ax.set_xticks(range(0, 24, 2))
    ax.set_xticks(np.arange(-0.5, 24, 1), minor=True)
    if annotate:
        for w in range(7):
            for h in range(24):
                v = matrix[w, h]
                if np.isfinite(v):
                    ax.text(h, w, f"{100 * v:.0f}", ha="center", va="center", fontsize=6.5,
                            color="white" if v < 0.6 else "black")
    if band is not None:
        lo, hi = band
        inside = np.isfinite(matrix) & (matrix >= lo) & (matrix <= hi)
        for w, h in zip(*np.nonzero(inside), strict=True):
            ax.add_patch(Rectangle((h - 0.5, w - 0.5), 1, 1, fill=False, ec="#D55E00",
                                   lw=1.6))
        ax.plot([], [], marker="s", ls="", mfc="none", mec="#D55E00", mew=1.6,
                label=f"inside the {100 * lo:.0f}–{100 * hi:.0f}% band")
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.16), fontsize="small",
                  frameon=False)
    if colorbar:
        cbar = ax.figure.colorbar(im, ax=ax, fraction=0.04, pad=0.015,
                                  format=PercentFormatter(1.0))
        cbar.set_label("occupancy")
        if band is not None:
            cbar.ax.axhspan(band[0], band[1], color="#D55E00", alpha=0.35)
    ax.set_title(title, loc="left", fontsize="medium", fontweight="bold")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("weekday")
    return ax


# --------------------------------------------------------------------------- horizon

def _x_dates(interval_end_s: np.ndarray, start: dt.date | None):
    if start is None:
        return interval_end_s / 86400.0, "day of the horizon"
    base = np.datetime64(start.isoformat(), "s")
    return base + interval_end_s.astype("int64").astype("timedelta64[s]"), "date"


def horizon_table(intervals: pd.DataFrame, channels, kpi: str, daily_peak: bool = False
                  ) -> pd.DataFrame:
    """Mean of ``kpi`` over replications per interval: ``channel, time_s, mean``.

    ``time_s`` is the end of the interval (seconds from the start of the horizon). With
    ``daily_peak`` the table has one row per day instead: the largest interval mean of the
    day, at ``time_s`` = the end of that day.
    """
    rows = _channel_rows(intervals, channels)
    rows = rows[rows[kpi].notna()]
    step_s = _interval_h(intervals) * 3600.0
    out = (rows.groupby(["channel", "interval_start"], sort=True)[kpi].mean()
           .rename("mean").reset_index())
    out["time_s"] = out["interval_start"].astype(float) + step_s
    if daily_peak:
        out["day"] = np.floor(out["interval_start"].astype(float) / 86400.0).astype(int)
        out = out.groupby(["channel", "day"], sort=True)["mean"].max().reset_index()
        out["time_s"] = (out["day"] + 1) * 86400.0
    return out[["channel", "time_s", "mean"]]


def _horizon_plot(ax, intervals, channels, kpi, start, targets, title, ylabel, colors,
                  daily_peak):
    channels = list(channels)
    colors = colors or channel_colors(channels)
    if daily_peak is None:
        daily_peak = choose_period(intervals) == "M"
    table = horizon_table(intervals, channels, kpi, daily_peak)
    xlabel = "date"
    for ch in channels:
        t = table[table["channel"] == ch]
        if t.empty:
            continue
        x, xlabel = _x_dates(t["time_s"].to_numpy(float), start)
        ax.plot(x, t["mean"].to_numpy(float), color=colors[ch], lw=1.0,
                label=f"{ch} (daily peak)" if daily_peak else ch,
                drawstyle="steps-pre" if daily_peak else "default")
        target = (targets or {}).get(ch)
        if target is not None and np.isfinite(target):
            ax.axhline(target, color=colors[ch], ls="--", lw=1.2,
                       label=f"{ch} target {target:g}")
    ax.set_ylim(bottom=0)
    if start is not None:
        _date_axis(ax)
    return _finish(ax, title, xlabel, ylabel)


def _date_axis(ax):
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def backlog_over_horizon(ax, intervals: pd.DataFrame, channels, start: dt.date | None = None,
                         colors=None, daily_peak: bool | None = None,
                         title="Backlog of deferred channels"):
    """Deferred contacts waiting at the end of each interval, mean over replications.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
    channels : list of str
        Deferred channels (live channels have no backlog and draw nothing).
    start : datetime.date, optional
        First day of the horizon: x in dates; without it x is in days from the start.
    colors : dict, optional
    daily_peak : bool, optional
        Draw each day's largest value instead of every interval (default: when the window
        spans 60 days or more, where intervals would be unreadable).

    Returns
    -------
    matplotlib.axes.Axes
        One line per channel, x = interval end (or day end), y = :func:`horizon_table`.
    """
    return _horizon_plot(ax, intervals, channels, "backlog", start, None, title,
                         "contacts waiting", colors, daily_peak)


def backlog_age_over_horizon(ax, intervals: pd.DataFrame, channels,
                             start: dt.date | None = None, targets=None, colors=None,
                             daily_peak: bool | None = None,
                             title="Age of the oldest waiting item (deferred channels)"):
    """Age of the oldest deferred contact waiting at each interval end (hours).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
    channels : list of str
    start : datetime.date, optional
    targets : dict of str -> float, optional
        Maximum age in hours per channel (dashed line).
    colors : dict, optional
    daily_peak : bool, optional
        As in :func:`backlog_over_horizon`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _horizon_plot(ax, intervals, channels, "backlog_age_h", start, targets, title,
                         "oldest item age (h)", colors, daily_peak)


# --------------------------------------------------------------------------- periods

def period_of(intervals: pd.DataFrame, start: dt.date, period: str) -> pd.Series:
    """Label of the day (``period="D"``) or month (``"M"``) of each interval, as a Timestamp
    of its first day."""
    day = pd.Timestamp(start) + pd.to_timedelta(_day_index(intervals), unit="D")
    if period == "M":
        return day.dt.to_period("M").dt.start_time
    if period == "D":
        return day
    raise ValueError(f"period must be 'D' or 'M', got {period!r}")


def choose_period(intervals: pd.DataFrame) -> str:
    """``"M"`` (monthly) when the measured window spans 60 days or more, else ``"D"``."""
    if intervals.empty:
        return "D"
    days = _day_index(intervals)
    return "M" if int(days.max()) - int(days.min()) + 1 >= 60 else "D"


def period_table(intervals: pd.DataFrame, channels, start: dt.date, period: str,
                 kpi: str) -> pd.DataFrame:
    """Per period: mean over replications of ``kpi`` with its band.

    Counts (``offered``...) are summed over the period; ratio KPIs are pooled.

    Returns
    -------
    pandas.DataFrame
        ``channel, period, mean, n, low, high``.
    """
    rows = _channel_rows(intervals, channels).copy()
    rows["period"] = period_of(rows, start, period).to_numpy()
    if kpi in ("offered", "answered", "abandoned", "lost_closed"):
        per_rep = (rows.groupby(["replication", "channel", "period"], sort=True)[kpi].sum()
                   .rename("value").reset_index())
    else:
        per_rep = _pooled(rows, kpi, ["channel", "period"])
    if per_rep.empty:
        return pd.DataFrame(columns=["channel", "period", "mean", "n", "low", "high"])
    return _t_band(per_rep, ["channel", "period"], "value")


def _period_axis(ax, periods: list, period: str):
    labels = [p.strftime("%b %Y") if period == "M" else p.strftime("%a %d %b") for p in periods]
    step = 1 if len(periods) <= 14 else int(math.ceil(len(periods) / 14))
    ticks = list(range(0, len(periods), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=30, ha="right")
    ax.set_xlim(-0.6, len(periods) - 0.4)


def volume_by_period(ax, intervals: pd.DataFrame, channels, start: dt.date,
                     period: str | None = None, colors=None, title=None):
    """Offered contacts per day or month, stacked by channel (mean over replications).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
    channels : list of str
    start : datetime.date
        First day of the horizon.
    period : {"D", "M"}, optional
        Default: :func:`choose_period` (monthly from 60 days on).
    colors : dict, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per channel (``ax.containers``), one bar per period.
    """
    channels = list(channels)
    colors = colors or channel_colors(channels)
    period = period or choose_period(intervals)
    table = period_table(intervals, channels, start, period, "offered")
    periods = sorted(table["period"].unique())
    x = np.arange(len(periods))
    bottom = np.zeros(len(periods))
    for ch in channels:
        t = table[table["channel"] == ch].set_index("period").reindex(periods)
        if t["mean"].isna().all():
            continue
        heights = t["mean"].fillna(0.0).to_numpy(float)
        ax.bar(x, heights, bottom=bottom, color=colors[ch], label=ch, width=0.8)
        bottom += heights
    _period_axis(ax, periods, period)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    word = "month" if period == "M" else "day"
    return _finish(ax, title or f"Offered contacts per {word}", word,
                   f"offered contacts per {word}")


def service_level_by_period(ax, intervals: pd.DataFrame, channels, start: dt.date,
                            period: str | None = None, targets=None, colors=None,
                            title=None):
    """Service level per day or month and channel, with 95% CI error bars and targets.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
    channels : list of str
    start : datetime.date
    period : {"D", "M"}, optional
    targets : dict of str -> float, optional
        Target share per channel (dashed line).
    colors : dict, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per channel, x = period index (0, 1, ...).
    """
    channels = list(channels)
    colors = colors or channel_colors(channels)
    period = period or choose_period(intervals)
    table = period_table(intervals, channels, start, period, "service_level")
    periods = sorted(table["period"].unique())
    x = np.arange(len(periods))
    for ch in channels:
        t = table[table["channel"] == ch].set_index("period").reindex(periods)
        if t["mean"].isna().all():
            continue
        y = t["mean"].to_numpy(float)
        ax.plot(x, y, color=colors[ch], marker="o", ms=3.5, lw=1.5, label=ch)
        low = np.clip(t["low"].to_numpy(float), 0.0, 1.0)
        high = np.clip(t["high"].to_numpy(float), 0.0, 1.0)
        if np.isfinite(low).any():
            ax.fill_between(x, low, high, color=colors[ch], alpha=0.2, lw=0)
        target = (targets or {}).get(ch)
        if target is not None and np.isfinite(target):
            ax.axhline(target, color=colors[ch], ls="--", lw=1.0,
                       label=f"{ch} target {100 * target:.0f}%")
    _period_axis(ax, periods, period)
    ax.set_ylim(top=1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    word = "month" if period == "M" else "day"
    return _finish(ax, title or f"Service level per {word} (95% CI band)", word,
                   "service level (% within threshold)")


# --------------------------------------------------------------------------- weekly SL

def weekly_service_level(intervals: pd.DataFrame, channels) -> pd.DataFrame:
    """Service level of each replication x week x channel.

    Weeks are 7-day blocks from the first measured day; an incomplete last week is left out
    (unless the window is shorter than a week: then the window is the only "week").

    Returns
    -------
    pandas.DataFrame
        ``replication, channel, week, service_level``.
    """
    rows = _channel_rows(intervals, channels).copy()
    if rows.empty:
        return pd.DataFrame(columns=["replication", "channel", "week", "service_level"])
    day = _day_index(rows)
    day = day - day.min()
    rows["week"] = (day // 7).to_numpy()
    n_days = int(day.max()) + 1
    full_weeks = n_days // 7
    if full_weeks >= 1:
        rows = rows[rows["week"] < full_weeks]
    else:
        rows["week"] = 0
    out = _pooled(rows, "service_level", ["channel", "week"])
    return out.rename(columns={"value": "service_level"})[
        ["replication", "channel", "week", "service_level"]]


def p_target_met(weekly: pd.DataFrame, targets: dict) -> dict[str, float]:
    """Share of replication-weeks whose service level meets each channel's target."""
    out = {}
    for ch, target in targets.items():
        v = weekly.loc[weekly["channel"] == ch, "service_level"].to_numpy(float)
        v = v[np.isfinite(v)]
        if v.size and target is not None and np.isfinite(target):
            out[ch] = float(np.mean(v >= target))
    return out


def monthly_service_level(intervals: pd.DataFrame, channels, start: dt.date) -> pd.DataFrame:
    """Service level of each replication x calendar month x channel (pooled over the month).

    Returns
    -------
    pandas.DataFrame
        ``replication, channel, month (Timestamp of its first day), service_level``.
    """
    rows = _channel_rows(intervals, channels).copy()
    if rows.empty:
        return pd.DataFrame(columns=["replication", "channel", "month", "service_level"])
    rows["month"] = period_of(rows, start, "M").to_numpy()
    out = _pooled(rows, "service_level", ["channel", "month"])
    return out.rename(columns={"value": "service_level"})[
        ["replication", "channel", "month", "service_level"]]


def weekly_service_level_distribution(ax, intervals: pd.DataFrame, channels, targets=None,
                                      colors=None, title=None, period: str = "W",
                                      start: dt.date | None = None):
    """Distribution of weekly (or monthly) service level (replications x periods) per channel.

    A box per channel with every replication-week (or -month) as a dot, the target as a
    dashed segment, and P(target met) = share of replication-weeks (-months) at or above the
    target written above.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    intervals : pandas.DataFrame
    channels : list of str
    targets : dict of str -> float, optional
        Target share per channel.
    colors : dict, optional
    period : {"W", "M"}
        7-day weeks (:func:`weekly_service_level`) or calendar months
        (:func:`monthly_service_level`, needs ``start``).
    start : datetime.date, optional
        First day of the horizon.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[i]`` holds channel i's dots (x = i, y = weekly values).
    """
    channels = list(channels)
    colors = colors or channel_colors(channels)
    if period == "M":
        if start is None:
            raise ValueError("period='M' needs the first day of the horizon (start)")
        weekly = monthly_service_level(intervals, channels, start)
    elif period == "W":
        weekly = weekly_service_level(intervals, channels)
    else:
        raise ValueError(f"period must be 'W' or 'M', got {period!r}")
    word = "month" if period == "M" else "week"
    title = title or f"{word.capitalize()}ly service level across replications"
    p_met = p_target_met(weekly, targets or {})
    shown = []
    targeted = False
    for ch in channels:
        v = weekly.loc[weekly["channel"] == ch, "service_level"].to_numpy(float)
        v = v[np.isfinite(v)]
        if v.size:
            shown.append((ch, v))
    for i, (ch, v) in enumerate(shown):
        ax.boxplot([v], positions=[i], widths=0.5, showfliers=False, manage_ticks=False,
                   medianprops={"color": "black"},
                   boxprops={"color": colors[ch]}, whiskerprops={"color": colors[ch]},
                   capprops={"color": colors[ch]})
        # NOTE: deterministic horizontal spread instead of random jitter (no RNG outside
        # sampling); points keep their order.
        spread = np.linspace(-0.18, 0.18, v.size) if v.size > 1 else np.zeros(1)
        ax.scatter(i + spread, v, s=12, color=colors[ch], alpha=0.7, zorder=3,
                   label=f"one replication-{word}" if i == 0 else None)
        target = (targets or {}).get(ch)
        if target is not None and np.isfinite(target):
            ax.plot([i - 0.35, i + 0.35], [target, target], color="#D55E00", ls="--",
                    lw=1.5, zorder=4, label="target" if not targeted else None)
            targeted = True
            ax.annotate(f"P(met) {100 * p_met.get(ch, math.nan):.0f}%", (i, 1.0),
                        xytext=(0, 4), textcoords="offset points", ha="center",
                        va="bottom", fontsize="small", fontweight="bold",
                        annotation_clip=False)
    ax.set_xticks(range(len(shown)), [ch for ch, _ in shown])
    ax.set_xlim(-0.6, max(len(shown), 1) - 0.4)
    ax.set_ylim(top=1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _finish(ax, "", "channel", f"{word}ly service level (% within threshold)")
    ax.set_title(title, loc="left", fontsize="medium", fontweight="bold", pad=18)
    return ax


# --------------------------------------------------------------------------- cost

def cost_per_contact_by_channel(ax, values: dict, currency: str = "",
                                band: tuple[float, float] | None = None,
                                title="Full cost per answered contact, by channel"):
    """Full cost per answered contact of each channel (economics) with 95% CIs.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    values : dict of str -> (mean, ci95_low, ci95_high)
        Per channel, in display order.
    currency : str
        Unit written on the axis.
    band : (low, high), optional
        A target range to shade (e.g. the CareConnect guide's $3-10 per contact).

    Returns
    -------
    matplotlib.axes.Axes
        One bar per channel (``ax.patches``, the band excluded).
    """
    names = list(values)
    means = [values[n][0] for n in names]
    y = np.arange(len(names))
    if band is not None:
        ax.axvspan(band[0], band[1], color=PALETTE[2], alpha=0.15, label="target range")
    ax.barh(y, means, color=PALETTE[0], height=0.6)
    lows = [m - values[n][1] for n, m in zip(names, means, strict=True)]
    highs = [values[n][2] - m for n, m in zip(names, means, strict=True)]
    ax.errorbar(means, y, xerr=[lows, highs], fmt="none", ecolor="black", capsize=4,
                lw=1.2, label="95% CI")
    for yi, m in zip(y, means, strict=True):
        ax.text(m, yi + 0.32, f" {m:,.2f}", va="center", fontsize="small")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    unit = f" ({currency})" if currency else ""
    ax.set_xlabel(f"cost per answered contact{unit}")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlim(0, max(max(values[n][2] for n in names), band[1] if band else 0) * 1.12)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return ax


def cost_per_contact(ax, mean: float, low: float = math.nan, high: float = math.nan,
                     by_team: dict | None = None, currency: str = "",
                     title="Cost per answered contact"):
    """Cost per answered contact with its 95% CI, split by team when given.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    mean, low, high : float
        Mean over replications and its 95% interval.
    by_team : dict of str -> float, optional
        Each team's share of the cost (fractions, summing to 1): the bar is split in those
        proportions.
    currency : str
        Unit written on the axis (the scenario's currency; none by default).

    Returns
    -------
    matplotlib.axes.Axes
        One horizontal bar segment per team (or one bar), ``ax.patches``.
    """
    shares = by_team or {"all agents": 1.0}
    colors = {t: PALETTE[(i + 2) % len(PALETTE)] for i, t in enumerate(shares)}
    left = 0.0
    for team, share in shares.items():
        width = mean * share
        ax.barh([0], [width], left=left, height=0.5, color=colors[team],
                label=f"{team} ({100 * share:.0f}%)")
        if width > 0.08 * mean:
            ax.text(left + width / 2, 0, f"{width:,.2f}", ha="center", va="center",
                    color="white", fontsize="small", fontweight="bold")
        left += width
    if math.isfinite(low) and math.isfinite(high):
        ax.errorbar([mean], [0], xerr=[[mean - low], [high - mean]], fmt="none",
                    ecolor="black", capsize=6, lw=1.5, label="95% CI")
    ax.text(mean, 0.32, f"{mean:,.2f} {currency}".strip() + " per contact", ha="center",
            va="bottom", fontweight="bold")
    ax.set_yticks([])
    ax.set_ylim(-0.6, 0.8)
    ax.set_xlim(0, max(mean, high if math.isfinite(high) else mean) * 1.15 or 1.0)
    unit = f" ({currency})" if currency else ""
    _finish(ax, title, f"cost per answered contact{unit}", "")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.25), ncol=4, fontsize="small",
              frameon=False)
    return ax


def team_cost_shares(staffing: pd.DataFrame, cost_per_hour: dict) -> dict[str, float]:
    """Each team's share of scheduled paid cost (scheduled agent-hours x hourly cost).

    Parameters
    ----------
    staffing : pandas.DataFrame
        From :func:`sim.report.data.staffing_by_interval`.
    cost_per_hour : dict of str -> float

    Returns
    -------
    dict of str -> float
        Shares summing to 1 (empty when nothing is paid).
    """
    paid = {t: float(g["scheduled"].sum()) * float(cost_per_hour.get(t, 0.0))
            for t, g in staffing.groupby("team", sort=False)}
    total = sum(paid.values())
    return {t: v / total for t, v in paid.items() if v > 0} if total > 0 else {}


# --------------------------------------------------------------------------- staffing

def staffing_by_time_of_day(staffing: pd.DataFrame) -> pd.DataFrame:
    """Mean agents on duty and scheduled per interval of the day and team (over days).

    Returns
    -------
    pandas.DataFrame
        ``team, hour, on_duty, scheduled``.
    """
    s = staffing.copy()
    s["hour"] = _time_of_day_h(s["interval_start"])
    return (s.groupby(["team", "hour"], sort=False)[["on_duty", "scheduled"]].mean()
            .reset_index())


def staffed_agents_by_interval(ax, staffing: pd.DataFrame, required=None,
                               required_label="Erlang requirement (analytic)",
                               title="Agents on duty by interval of the day"):
    """Agents on duty (after shrinkage) by interval of the day, stacked by team, against
    the required agents when given.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    staffing : pandas.DataFrame
        ``interval_start, team, on_duty, scheduled`` per interval
        (:func:`sim.report.data.staffing_by_interval`); averaged over days here.
    required : pandas.Series, optional
        Required agents on duty by hour of day (index: interval start in hours), drawn as
        a solid step line, e.g. :func:`sim.report.data.required_by_time_of_day`.
    required_label : str
        Legend label of the requirement (say where it comes from).

    Returns
    -------
    matplotlib.axes.Axes
        One stack layer per team (``ax.collections``), a dashed line of scheduled agents
        and, with ``required``, a solid line labelled ``required_label``.
    """
    tod = staffing_by_time_of_day(staffing)
    teams = list(dict.fromkeys(staffing["team"]))
    hours = np.sort(tod["hour"].unique())
    step_h = float(np.min(np.diff(hours))) if hours.size > 1 else 1.0
    x = np.append(hours, hours[-1] + step_h) if hours.size else hours
    layers = []
    for t in teams:
        v = tod[tod["team"] == t].set_index("hour")["on_duty"].reindex(hours).fillna(0.0)
        layers.append(np.append(v.to_numpy(float), v.to_numpy(float)[-1:]))
    colors = [PALETTE[(i + 2) % len(PALETTE)] for i in range(len(teams))]
    if layers:
        ax.stackplot(x, *layers, labels=[f"{t} on duty" for t in teams], colors=colors,
                     alpha=0.75, step="post")
    sched = tod.groupby("hour")["scheduled"].sum().reindex(hours).fillna(0.0).to_numpy(float)
    if sched.size:
        ax.step(x, np.append(sched, sched[-1:]), where="post", color="black", ls="--", lw=1.3,
                label="scheduled (before shrinkage)")
    if required is not None:
        r = pd.Series(required).sort_index()
        ax.step(np.append(r.index.to_numpy(float), r.index.to_numpy(float)[-1] + step_h),
                np.append(r.to_numpy(float), r.to_numpy(float)[-1:]), where="post",
                color="#D55E00", lw=2.0, label=required_label)
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.set_ylim(bottom=0)
    return _finish(ax, title, "hour of day", "agents (mean over days)")


# --------------------------------------------------------------------------- comparison

#: KPIs drawn by default in :func:`kpi_changes`.
CHANGE_KPIS = ("service_level", "asa_s", "abandon_rate", "occupancy", "aht_s",
               "sla_compliance", "backlog_age_h", "cost_per_contact", "fcr",
               "escalation_rate", "mttr_h")

_VERDICT_COLORS = {"worse": "#D55E00", "better": "#009E73", "": "#555555"}


def kpi_changes_table(table: pd.DataFrame, kpis=CHANGE_KPIS, channels=None) -> pd.DataFrame:
    """Relative changes of a run comparison, for :func:`kpi_changes`.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sim.compare.compare_runs` (``channel, kpi, mean_baseline, diff,
        ci95_low, ci95_high, verdict``).
    kpis, channels : sequence of str, optional

    Returns
    -------
    pandas.DataFrame
        ``channel, kpi, change, low, high, verdict``: the difference and its interval
        divided by |baseline mean|, rows with a zero or undefined baseline left out.
    """
    rows = table[table["kpi"].isin(list(kpis))]
    if channels is not None:
        rows = rows[rows["channel"].isin(list(channels))]
    base = rows["mean_baseline"].abs().to_numpy(float)
    ok = np.isfinite(base) & (base > 0)
    rows, base = rows[ok], base[ok]
    order = {k: i for i, k in enumerate(kpis)}
    out = pd.DataFrame({
        "channel": rows["channel"].to_numpy(), "kpi": rows["kpi"].to_numpy(),
        "change": rows["diff"].to_numpy(float) / base,
        "low": rows["ci95_low"].to_numpy(float) / base,
        "high": rows["ci95_high"].to_numpy(float) / base,
        "verdict": rows["verdict"].fillna("").to_numpy()})
    out["_o"] = out["kpi"].map(order)
    return out.sort_values(["_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def kpi_changes(ax, table: pd.DataFrame, kpis=CHANGE_KPIS, channels=None,
                threshold: float = 0.10, title="Change against the baseline (95% CI)"):
    """Relative change of each KPI against a baseline run, with its 95% interval.

    One row per channel x KPI: a dot at (run - baseline) / |baseline| and a bar over the
    interval of the difference (paired or Welch, as the comparison says), coloured by
    verdict (worse, better, no preferred direction); the band of +/- ``threshold`` (the
    alert rule) is shaded. The x axis spans the largest change (at least twice the
    threshold); wider intervals are cut at its edges.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    table : pandas.DataFrame
        From :func:`sim.compare.compare_runs`.
    kpis, channels : sequence of str, optional
    threshold : float

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines`` / ``ax.collections`` hold the dots and interval bars, y = row index
        (top row first).
    """
    from sim.report.data import label_of

    t = kpi_changes_table(table, kpis, channels)
    n = len(t)
    y = np.arange(n)[::-1].astype(float)
    ax.axvspan(-threshold, threshold, color="#999999", alpha=0.15,
               label=f"±{100 * threshold:.0f}% (alert rule)")
    ax.axvline(0.0, color="black", lw=0.8)
    shown = set()
    for i, r in enumerate(t.itertuples()):
        color = _VERDICT_COLORS.get(r.verdict, "#555555")
        label = {"worse": "worse", "better": "better", "": "no preferred direction"}.get(
            r.verdict)
        if np.isfinite(r.low) and np.isfinite(r.high):
            ax.plot([r.low, r.high], [y[i], y[i]], color=color, lw=2.0, alpha=0.7)
        ax.plot([r.change], [y[i]], "o", color=color,
                label=label if label not in shown else None)
        shown.add(label)
    ax.set_yticks(y, [f"{r.channel}: {label_of(r.kpi)}" for r in t.itertuples()])
    ax.set_ylim(-0.7, max(n, 1) - 0.3)
    # the axis fits the changes (and the alert band), not the widest interval: intervals
    # from a few replications can be much wider than every change, and are cut at the edge
    changes = np.abs(t["change"].to_numpy(float))
    changes = changes[np.isfinite(changes)]
    reach = max(2.0 * threshold, 1.3 * float(changes.max()) if changes.size else 0.0)
    ax.set_xlim(-reach, reach)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(ax, title, "(run − baseline) / baseline", "")


# --------------------------------------------------------------------------- journeys

#: Journey KPIs drawn by :func:`journey_kpis`, in order.
JOURNEY_KPIS = ("fcr", "repeat_rate", "escalation_rate")

#: Severity classes, most urgent last so colours run from calm to alarming.
SEVERITY_COLORS = {"routine": "#56B4E9", "urgent": "#E69F00", "critical": "#D55E00"}


def _yerr(mean, low, high):
    mean, low, high = (np.asarray(v, dtype=float) for v in (mean, low, high))
    ok = np.isfinite(low) & np.isfinite(high)
    err = np.vstack([np.where(ok, mean - low, 0.0), np.where(ok, high - mean, 0.0)])
    return np.maximum(err, 0.0), ok


def journey_kpis(ax, table: pd.DataFrame, targets=None, kpis=JOURNEY_KPIS,
                 title="First-contact resolution, repeats and escalations"):
    """FCR, repeat rate and escalation rate per channel, with 95% CIs and targets.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    table : pandas.DataFrame
        ``channel, kpi, mean, low, high`` (shares), e.g.
        :func:`sim.report.data.journey_table`.
    targets : dict of (channel, kpi) -> float, optional
        Target shares, drawn as a dark tick across the bar.
    kpis : sequence of str

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per KPI present (``ax.containers``), one bar per channel.
    """
    from sim.report.data import label_of

    channels = list(dict.fromkeys(table["channel"]))
    present = [k for k in kpis if (table["kpi"] == k).any()]
    width = 0.8 / max(len(present), 1)
    x = np.arange(len(channels), dtype=float)
    for j, kpi in enumerate(present):
        t = table[table["kpi"] == kpi].set_index("channel").reindex(channels)
        pos = x - 0.4 + width * (j + 0.5)
        err, _ = _yerr(t["mean"], t["low"], t["high"])
        ax.bar(pos, t["mean"].fillna(0.0).to_numpy(float), width=width * 0.92,
               color=PALETTE[j % len(PALETTE)], label=label_of(kpi), yerr=err, capsize=3,
               error_kw={"lw": 1.0})
        for i, ch in enumerate(channels):
            target = (targets or {}).get((ch, kpi))
            if target is not None and np.isfinite(target):
                ax.plot([pos[i] - width / 2, pos[i] + width / 2], [target, target],
                        color="black", lw=2.2,
                        label="target" if "target" not in ax.get_legend_handles_labels()[1]
                        else None)
    ax.set_xticks(x, channels)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(ax, title, "channel", "share (95% CI)")


#: Compliance columns of an escalation table, with the word written on the bars.
COMPLIANCE_LABELS = {"ack": "ack", "resolve": "resolve", "compliance": "in window"}


def escalations_by_tier(ax, table: pd.DataFrame, title="Escalations by tier and severity"):
    """Escalation tasks per tier and severity, with response-window compliance written on
    each bar.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    table : pandas.DataFrame
        ``tier, severity, tasks`` (mean count per replication) and optionally the shares
        ``ack`` (started within the acknowledge window), ``resolve`` (completed within the
        resolve window) or ``compliance`` (answered within the window), e.g.
        :func:`sim.report.data.escalation_table`.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per severity, one bar per tier; the compliance labels
        (``"ack 92%"``, one line per measure) are ``ax.texts``.
    """
    tiers = sorted(dict.fromkeys(table["tier"]), key=str)
    order = list(SEVERITY_COLORS)
    severities = sorted(dict.fromkeys(table["severity"]),
                        key=lambda s: (order.index(s) if s in order else len(order), str(s)))
    measures = [m for m in COMPLIANCE_LABELS if m in table]
    width = 0.8 / max(len(severities), 1)
    x = np.arange(len(tiers), dtype=float)
    top = float(np.nanmax(table["tasks"].to_numpy(float))) if len(table) else 1.0
    top = max(top, 1.0)
    for j, sev in enumerate(severities):
        t = table[table["severity"] == sev].set_index("tier").reindex(tiers)
        pos = x - 0.4 + width * (j + 0.5)
        heights = t["tasks"].fillna(0.0).to_numpy(float)
        ax.bar(pos, heights, width=width * 0.92,
               color=SEVERITY_COLORS.get(sev, PALETTE[j % len(PALETTE)]), label=str(sev))
        for i, (p, h) in enumerate(zip(pos, heights, strict=True)):
            lines = [f"{COMPLIANCE_LABELS[m]} {100 * v:.0f}%" for m in measures
                     if np.isfinite(v := float(t[m].iloc[i]))]
            if lines:
                ax.text(p, h + 0.01 * top, "\n".join(lines), ha="center", va="bottom",
                        fontsize="x-small", fontweight="bold")
    ax.set_xticks(x, [f"tier {t}" for t in tiers])
    ax.set_ylim(0, top * (1.15 + 0.1 * len(measures)))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    words = {"ack": "ack: started within the acknowledge window",
             "resolve": "resolve: completed within the resolve window",
             "compliance": "in window: answered within the response window"}
    xlabel = "tier" + ("\n(" + "; ".join(words[m] for m in measures) + ")" if measures
                       else "")
    return _finish(ax, title, xlabel, "tasks per replication (mean)")


def mttr_by_severity(ax, table: pd.DataFrame, targets=None,
                     title="Mean time to resolve by severity"):
    """Mean time to resolve (hours) per severity with its 95% CI and targets.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    table : pandas.DataFrame
        ``severity, mean, low, high`` in hours, e.g. :func:`sim.report.data.mttr_table`.
    targets : dict of str -> float, optional
        Maximum hours per severity, drawn as a dashed tick.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per severity (``ax.patches``).
    """
    order = list(SEVERITY_COLORS)
    t = table.assign(_o=[order.index(s) if s in order else len(order)
                         for s in table["severity"]]).sort_values(["_o", "severity"])
    x = np.arange(len(t), dtype=float)
    err, _ = _yerr(t["mean"], t["low"], t["high"])
    ax.bar(x, t["mean"].to_numpy(float), width=0.6, yerr=err, capsize=5,
           color=[SEVERITY_COLORS.get(s, PALETTE[0]) for s in t["severity"]],
           label="MTTR (95% CI)")
    labelled = False
    for i, sev in enumerate(t["severity"]):
        target = (targets or {}).get(sev)
        if target is not None and np.isfinite(target):
            ax.plot([x[i] - 0.35, x[i] + 0.35], [target, target], color="black", ls="--",
                    lw=1.6, label=None if labelled else "target")
            labelled = True
    ax.set_xticks(x, [str(s) for s in t["severity"]])
    ax.set_ylim(bottom=0)
    return _finish(ax, title, "severity", "hours from first contact to resolution")


#: Economics measures of :func:`margin_by_tier`, in drawing order, with their colours.
ECONOMICS_MEASURES = {"revenue": "#0072B2", "sla_credits": "#CC79A7", "cost": "#E69F00",
                      "margin": "#009E73"}


def margin_by_tier(ax, table: pd.DataFrame, currency: str = "",
                   title="Revenue, SLA credits, cost and margin per pricing tier"):
    """Revenue, SLA credits, cost and margin per pricing tier, with 95% CIs.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    table : pandas.DataFrame
        ``tier, measure, mean, low, high`` with ``measure`` among
        :data:`ECONOMICS_MEASURES`, e.g. :func:`sim.report.data.economics_table`.
    currency : str
        Unit written on the axis.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per measure present (``ax.containers``), one bar per tier.
    """
    tiers = list(dict.fromkeys(table["tier"]))
    present = [m for m in ECONOMICS_MEASURES if (table["measure"] == m).any()]
    width = 0.8 / max(len(present), 1)
    x = np.arange(len(tiers), dtype=float)
    for j, m in enumerate(present):
        t = table[table["measure"] == m].set_index("tier").reindex(tiers)
        err, _ = _yerr(t["mean"], t["low"], t["high"])
        ax.bar(x - 0.4 + width * (j + 0.5), t["mean"].fillna(0.0).to_numpy(float),
               width=width * 0.92, color=ECONOMICS_MEASURES[m], yerr=err, capsize=3,
               label=m.replace("sla_", "SLA ").replace("_", " "))
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xticks(x, [str(t) for t in tiers])
    unit = f" ({currency})" if currency else ""
    return _finish(ax, title, "pricing tier", f"per replication, whole horizon{unit}")
