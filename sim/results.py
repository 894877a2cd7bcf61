"""``Results``: a run's KPIs as DataFrames, targets, and the atomic write of a run folder.

A run folder (ARCHITECTURE section 4) holds ``manifest.json``, the resolved
``scenario.yaml``, ``summary.json``, ``summary.csv``, ``totals.parquet``,
``intervals.parquet``, ``economics.parquet`` when the scenario has an ``economics`` section
and, when asked for, ``contacts.parquet``. :meth:`Results.write`
writes it to a temporary sibling folder renamed into place, so a reader never sees half a
run and a failed run leaves nothing behind; :meth:`Results.write_final` finishes an
incremental run folder (``sim.run(out=...)``) file by file, each whole or absent.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.economics import csv_rows, json_section
from sim.errors import CcsimError
from sim.scenario import Scenario

SUMMARY_STATS = ("mean", "se", "ci95_low", "ci95_high", "n")


@dataclass
class Results:
    """Everything a run measured.

    Attributes
    ----------
    scenario : Scenario
    summary : DataFrame
        One row per channel (and ``all``) x KPI: ``channel, kpi, mean, se, ci95_low,
        ci95_high, n`` over replications.
    totals : DataFrame
        Per replication x channel KPIs over the measured window.
    intervals : DataFrame
        Per replication x interval x channel x queue KPIs (tidy).
    targets : DataFrame
        One row per scenario target: value with CI, ``met`` and ``status``, and ``p_met``
        (the share of replications meeting it).
    contacts : DataFrame or None
        One row per contact, when the run kept them.
    manifest : dict
    economics, economics_summary, economics_targets : DataFrame or None
        With an ``economics`` section: per replication x month x tier costs, revenue, SLA
        credits and margin; their summary over replications; P(contractual target met)
        (:mod:`sim.economics`).
    """

    scenario: Scenario
    summary: pd.DataFrame
    totals: pd.DataFrame
    intervals: pd.DataFrame
    targets: pd.DataFrame
    contacts: pd.DataFrame | None = None
    manifest: dict = field(default_factory=dict)
    alerts: list = field(default_factory=list)
    economics: pd.DataFrame | None = None
    economics_summary: pd.DataFrame | None = None
    economics_targets: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """The summary table (channel x KPI with mean, se and 95% interval)."""
        return self.summary.copy()

    def kpi(self, key: str, channel: str = "all") -> dict:
        """``{"mean", "se", "ci95_low", "ci95_high", "n"}`` of one KPI."""
        row = self.summary[(self.summary.channel == channel) & (self.summary.kpi == key)]
        if row.empty:
            raise KeyError(f"no KPI {key!r} for channel {channel!r}")
        return {k: row.iloc[0][k] for k in SUMMARY_STATS}

    def plot(self, ax=None, kpi: str = "service_level", channel: str = "all"):
        """Mean of ``kpi`` by interval of the day over replications and days, on ``ax``."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 3.5))
        rows = self.intervals[(self.intervals.channel == channel)
                              & (self.intervals["queue"] == "all")]
        tod_h = (rows.interval_start % 86400.0) / 3600.0
        means = rows.groupby(tod_h)[kpi].mean()
        ax.plot(means.index, means.values, drawstyle="steps-post", label=f"{channel} {kpi}")
        for bound in ("min", "max"):
            value = self._target_value(channel, kpi, bound)
            if value is not None:
                ax.axhline(value, linestyle="--", color="grey", label=f"target {bound}")
        ax.set_xlabel("hour of day")
        ax.set_ylabel(kpi)
        ax.legend(loc="best", fontsize="small")
        return ax

    def _target_value(self, channel, kpi, bound):
        bounds = self.scenario.targets.get(channel, {}).get(kpi)
        return getattr(bounds, bound) if bounds is not None else None

    # ----------------------------------------------------------------- writing

    def summary_json(self) -> dict:
        """The content of ``summary.json``."""
        kpis: dict = {}
        for row in self.summary.itertuples(index=False):
            kpis.setdefault(row.channel, {})[row.kpi] = {
                k: _json_number(getattr(row, k)) for k in SUMMARY_STATS}
        return {
            "scenario": self.scenario.name,
            "replications": self.manifest.get("replications"),
            "seed": self.manifest.get("seed"),
            "engine": self.manifest.get("engine"),
            "kpis": kpis,
            "targets": [{k: _json_number(v) for k, v in row.items()}
                        for row in self.targets.to_dict(orient="records")],
            "alerts": list(self.alerts),
            "notes": list(self.manifest.get("notes", [])),
            **({"economics": json_section(self.scenario, self.economics_summary,
                                          self.economics_targets, _json_number)}
               if self.economics_summary is not None else {}),
        }

    def _write_files(self, folder: Path) -> None:
        """Every final file of the run folder into ``folder``; ``summary.json`` last."""
        write_resolved_scenario(folder / "scenario.yaml", self.scenario)
        table = self.summary.merge(
            self.targets[["channel", "kpi", "min", "max", "met", "status"]]
            if not self.targets.empty else
            pd.DataFrame(columns=["channel", "kpi", "min", "max", "met", "status"]),
            on=["channel", "kpi"], how="left")
        table = table.rename(columns={"min": "target_min", "max": "target_max"})
        if self.economics_summary is not None:
            table = pd.concat([table, csv_rows(self.economics_summary)], ignore_index=True)
            self.economics.to_parquet(folder / "economics.parquet", index=False)
        table.to_csv(folder / "summary.csv", index=False)
        self.totals.to_parquet(folder / "totals.parquet", index=False)
        _to_parquet(self.intervals, folder / "intervals.parquet")
        if self.contacts is not None:
            _to_parquet(self.contacts, folder / "contacts.parquet")
        _write_json(folder / "summary.json", self.summary_json())
        _write_json(folder / "manifest.json", self.manifest)

    def write(self, out_dir: str | Path) -> Path:
        """Write the run folder atomically; refuse to overwrite a non-empty folder."""
        out = Path(out_dir)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CcsimError(f"{out}: already exists and is not empty; choose another --out")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        try:
            self._write_files(tmp)
            if out.exists():
                out.rmdir()  # empty, checked above
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out

    def write_final(self, out_dir: str | Path) -> Path:
        """Write the final files into an existing (incremental) run folder.

        They are written to a temporary folder inside it, then each is renamed into place,
        ``summary.json`` and then ``manifest.json`` (``status: finished``) last: every file
        is whole or absent, and ``summary.json`` present means the others are complete.
        """
        out = Path(out_dir)
        tmp = Path(tempfile.mkdtemp(prefix=".final.", suffix=".tmp", dir=out))
        try:
            self._write_files(tmp)
            names = [p.name for p in tmp.iterdir()
                     if p.name not in ("summary.json", "manifest.json")]
            for name in [*sorted(names), "summary.json", "manifest.json"]:
                os.replace(tmp / name, out / name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return out


def write_resolved_scenario(path: Path, scenario: Scenario) -> None:
    """The scenario as resolved (defaults filled in), loadable by ``ccsim run``."""
    resolved = scenario.model_dump(mode="json")
    path.write_text(
        "# The scenario as resolved by ccsim: defaults filled in, durations in "
        "seconds.\n" + yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True),
        encoding="utf-8")


def write_json_atomic(path: Path, data) -> None:
    """``data`` as JSON, written to a temporary sibling and renamed: whole or absent."""
    tmp = path.with_name(f".{path.name}.tmp")
    _write_json(tmp, data)
    os.replace(tmp, path)


def _json_number(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame.to_parquet(path)`` with dictionary encoding for its text and categorical
    columns only.

    # NOTE: Parquet's default dictionary-encodes every column first; on the float KPI
    # columns of a year of intervals that took 40% of the write (a year x 30 replications:
    # ~3.5 s -> ~2.1 s) for a file ~10% smaller. The values read back are the same.
    """
    text = [str(c) for c, d in frame.dtypes.items()
            if isinstance(d, pd.CategoricalDtype) or not isinstance(d, np.dtype)
            or d.kind in "OSU"]
    frame.to_parquet(path, index=False, use_dictionary=text)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False, default=_json_number) + "\n",
                    encoding="utf-8")


def evaluate_targets(scenario: Scenario, summary: pd.DataFrame, totals: pd.DataFrame,
                     intervals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per target: the KPI's mean and 95% CI, whether the mean meets it, how sure.

    ``status`` is ``met`` when the whole 95% interval is inside the bounds, ``missed`` when
    it is wholly outside, ``uncertain`` otherwise (or with one replication, by the mean).
    ``p_met`` is the share of replications whose own value meets the target;
    ``p_met_week`` and ``p_met_month`` the share of (replication, week) and (replication,
    calendar month) pairs whose value meets it (:func:`period_values`; NaN without
    ``intervals`` or for KPIs not defined per interval).
    """
    rows = []
    cache: dict = {}  # channel -> its rows and period blocks (see period_values)
    for channel, bounds in scenario.targets.items():
        for kpi, b in bounds.items():
            sel = summary[(summary.channel == channel) & (summary.kpi == kpi)]
            if sel.empty:
                continue
            r = sel.iloc[0]
            per_rep = totals.loc[totals.channel == channel, kpi].to_numpy(dtype=float)

            def ok(x, b=b):
                return (b.min is None or x >= b.min) & (b.max is None or x <= b.max)

            met = bool(ok(r["mean"])) if not math.isnan(r["mean"]) else False
            lo, hi = r["ci95_low"], r["ci95_high"]
            if math.isnan(lo) or math.isnan(hi):
                status = "met" if met else "missed"
            elif ok(lo) and ok(hi):
                status = "met"
            elif (b.max is not None and lo > b.max) or (b.min is not None and hi < b.min):
                status = "missed"
            else:
                status = "uncertain"
            valid = per_rep[~np.isnan(per_rep)]
            rows.append({"channel": channel, "kpi": kpi, "min": b.min, "max": b.max,
                         "mean": r["mean"], "ci95_low": lo, "ci95_high": hi, "met": met,
                         "status": status,
                         "p_met": float(ok(valid).mean()) if valid.size else math.nan,
                         **{f"p_met_{period}": _share(ok, period_values(
                             scenario, intervals, channel, kpi, period, cache))
                            for period in ("week", "month")}})
    return pd.DataFrame(rows, columns=["channel", "kpi", "min", "max", "mean", "ci95_low",
                                       "ci95_high", "met", "status", "p_met", "p_met_week",
                                       "p_met_month"])


def _share(ok, values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(ok(values).mean()) if values.size else math.nan


#: How a KPI's per-interval values combine over a period: weighted by a count column,
#: "last" (a level at the period end), or "mean" (time average: equal-length intervals).
PERIOD_WEIGHTS = {
    "service_level": "offered", "abandon_rate": "offered", "p_wait": "offered",
    "mean_wait_s": "offered", "service_level_excl_short_abandons": "offered",
    "asa_s": "answered", "service_level_answered": "answered", "aht_s": "answered",
    "sla_compliance": "answered", "backlog": "last", "backlog_age_h": "last",
    "mean_queue_len": "mean", "occupancy": "mean", "shrinkage": "mean",
}


def period_values(scenario: Scenario, intervals: pd.DataFrame | None, channel: str, kpi: str,
                  period: str, cache: dict | None = None) -> np.ndarray:
    """A KPI per replication x week (7-day blocks from the measured window's start) or x
    calendar month, from the tidy intervals (``queue == "all"`` rows of ``channel``).

    Ratio KPIs are the interval values weighted by their denominator count (``offered`` or
    ``answered``, so a period's service level is its answered-within / offered); levels
    (backlog) are taken at the period's last interval; ``occupancy``, ``shrinkage`` and
    ``mean_queue_len`` are averaged over intervals (occupancy: an approximation, intervals
    not weighted by available agent time). Counts and KPIs not defined per interval
    (``cost_per_contact``, ``overtime_h``) give no values. Partial periods at the ends count.
    ``cache``: a dict kept across calls on the same ``intervals`` (each channel's rows and
    blocks are then found once).

    Returns
    -------
    numpy.ndarray of float, shape (n_replications * n_periods,)
    """
    if intervals is None or kpi not in PERIOD_WEIGHTS or intervals.empty:
        return np.empty(0)
    cache = {} if cache is None else cache
    if channel not in cache:
        # NOTE: row numbers, then only the columns a KPI needs: a year of intervals over 30
        # replications is millions of rows x 40 columns, and a boolean take of the whole
        # frame per target copied all of them.
        idx = np.flatnonzero(((intervals.channel == channel)
                              & (intervals["queue"] == "all")).to_numpy())
        cache[channel] = {"idx": idx}
    entry = cache[channel]
    idx = entry["idx"]
    if period not in entry:
        start_s = intervals["interval_start"].to_numpy(dtype=float)[idx]
        if period == "week":
            block = np.floor((start_s - start_s.min()) / (7 * 86400.0)).astype(np.int64) \
                if idx.size else np.zeros(0, dtype=np.int64)
        else:
            dates = (pd.Timestamp(scenario.horizon.start)
                     + pd.to_timedelta(start_s, unit="s"))
            block = (dates.year * 12 + dates.month).to_numpy(dtype=np.int64)
        entry[period] = block
    for column in ("replication", "interval_start", kpi, PERIOD_WEIGHTS[kpi]):
        if column not in entry and column in intervals.columns:
            entry[column] = intervals[column].to_numpy()[idx]
    rows = pd.DataFrame({c: entry[c] for c in ("replication", "interval_start", kpi,
                                                PERIOD_WEIGHTS[kpi]) if c in entry},
                        copy=False)
    if f"{period}_key" not in entry:
        entry[f"{period}_key"] = _group_key(rows, entry[period])
    return _aggregate(rows, entry[period], kpi, entry[f"{period}_key"])


def _group_key(rows: pd.DataFrame, block: np.ndarray) -> np.ndarray:
    """One integer per row ordered like (replication, block).

    # NOTE: grouping by it gives the same groups in the same order as by the two columns,
    # and is several times faster.
    """
    rep = rows.replication.to_numpy().astype(np.int64)
    block = np.asarray(block, dtype=np.int64)
    span = int(block.max() - block.min()) + 1 if block.size else 1
    return (rep - (rep.min() if rep.size else 0)) * span + (block - (block.min() if block.size
                                                                     else 0))


def _aggregate(rows: pd.DataFrame, block: np.ndarray, kpi: str,
               key: np.ndarray | None = None) -> np.ndarray:
    """One value of ``kpi`` per (replication, block), sorted, by :data:`PERIOD_WEIGHTS`
    (``key``: :func:`_group_key` of ``rows`` and ``block``, when already known)."""
    how = PERIOD_WEIGHTS.get(kpi, "sum" if kpi in _COUNTS else None)
    start_s = rows.interval_start.to_numpy(dtype=float)
    key = _group_key(rows, block) if key is None else key
    frame = pd.DataFrame({"key": key, "v": rows[kpi].to_numpy(dtype=float), "t": start_s},
                         copy=False)
    groups = frame.groupby("key", sort=True)
    if how is None:
        return np.full(groups.ngroups, np.nan)
    if how == "sum":
        return groups.v.sum().to_numpy(dtype=float)
    if how == "last":
        frame = frame.sort_values(["key", "t"], kind="stable")
        return frame.groupby("key", sort=True).v.last().to_numpy(dtype=float)
    if how == "mean":
        return groups.v.mean().to_numpy(dtype=float)
    w = rows[how].to_numpy(dtype=float)
    ok = ~np.isnan(frame.v.to_numpy()) & (w > 0)
    frame["wv"] = np.where(ok, frame.v.to_numpy() * w, 0.0)
    frame["w"] = np.where(ok, w, 0.0)
    sums = frame.groupby("key", sort=True)[["wv", "w"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums.wv / sums.w).to_numpy(dtype=float)


_COUNTS = ("offered", "answered", "abandoned", "lost_closed")


def batch_frame(intervals: pd.DataFrame, channels: list[str], kpis: list[str], batches: int
                ) -> pd.DataFrame:
    """Batch means of one long replication: its measured window cut into ``batches`` equal
    runs of consecutive intervals, each KPI aggregated over a batch like a period
    (:func:`period_values`; counts summed; KPIs not defined per interval NaN).

    Returns
    -------
    pandas.DataFrame
        Shaped like ``totals``: one row per batch x channel (``replication`` = batch number),
        so :func:`sim.stats.summarize` gives the batch-means interval with ``n = batches``.
    """
    out = []
    for channel in channels:
        rows = intervals[(intervals.channel == channel) & (intervals["queue"] == "all")]
        rows = rows.sort_values("interval", kind="stable")
        n_rows = len(rows)
        if n_rows < batches:
            raise CcsimError(f"--batch-means {batches}: the measured window has only "
                             f"{n_rows} intervals")
        block = (np.arange(n_rows) * batches) // n_rows
        frame = {"channel": [channel] * batches}
        for kpi in kpis:
            frame[kpi] = _aggregate(rows, block, kpi)
        frame["replication"] = np.arange(batches)
        out.append(pd.DataFrame(frame))
    return pd.concat(out, ignore_index=True)
