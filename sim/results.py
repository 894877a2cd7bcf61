"""``Results``: a run's KPIs as DataFrames, targets, and the atomic write of a run folder.

A run folder (ARCHITECTURE section 4) holds ``manifest.json``, the resolved
``scenario.yaml``, ``summary.json``, ``summary.csv``, ``totals.parquet``,
``intervals.parquet`` and, when asked for, ``contacts.parquet``. It is written to a
temporary sibling folder and renamed into place, so a reader never sees half a run and a
failed run leaves nothing behind.
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
    """

    scenario: Scenario
    summary: pd.DataFrame
    totals: pd.DataFrame
    intervals: pd.DataFrame
    targets: pd.DataFrame
    contacts: pd.DataFrame | None = None
    manifest: dict = field(default_factory=dict)
    alerts: list = field(default_factory=list)

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
        }

    def write(self, out_dir: str | Path) -> Path:
        """Write the run folder atomically; refuse to overwrite a non-empty folder."""
        out = Path(out_dir)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CcsimError(f"{out}: already exists and is not empty; choose another --out")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        try:
            _write_json(tmp / "manifest.json", self.manifest)
            resolved = self.scenario.model_dump(mode="json")
            (tmp / "scenario.yaml").write_text(
                "# The scenario as resolved by ccsim: defaults filled in, durations in "
                "seconds.\n" + yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True),
                encoding="utf-8")
            _write_json(tmp / "summary.json", self.summary_json())
            table = self.summary.merge(
                self.targets[["channel", "kpi", "min", "max", "met", "status"]]
                if not self.targets.empty else
                pd.DataFrame(columns=["channel", "kpi", "min", "max", "met", "status"]),
                on=["channel", "kpi"], how="left")
            table = table.rename(columns={"min": "target_min", "max": "target_max"})
            table.to_csv(tmp / "summary.csv", index=False)
            self.totals.to_parquet(tmp / "totals.parquet", index=False)
            self.intervals.to_parquet(tmp / "intervals.parquet", index=False)
            if self.contacts is not None:
                self.contacts.to_parquet(tmp / "contacts.parquet", index=False)
            if out.exists():
                out.rmdir()  # empty, checked above
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


def _json_number(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False, default=_json_number) + "\n",
                    encoding="utf-8")


def evaluate_targets(scenario: Scenario, summary: pd.DataFrame, totals: pd.DataFrame
                     ) -> pd.DataFrame:
    """One row per target: the KPI's mean and 95% CI, whether the mean meets it, how sure.

    ``status`` is ``met`` when the whole 95% interval is inside the bounds, ``missed`` when
    it is wholly outside, ``uncertain`` otherwise (or with one replication, by the mean).
    ``p_met`` is the share of replications whose own value meets the target.
    """
    rows = []
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
                         "p_met": float(ok(valid).mean()) if valid.size else math.nan})
    return pd.DataFrame(rows, columns=["channel", "kpi", "min", "max", "mean", "ci95_low",
                                       "ci95_high", "met", "status", "p_met"])
