"""What a report reads from a run folder, and the numbers it derives from it.

This module owns :func:`load_run` (a run folder as a :class:`RunFolder`), the per-replication
values a comparison needs (:meth:`RunFolder.per_replication`), the headline rows shared by
the HTML and Markdown reports (:func:`headline_rows`), the baseline alerts
(:func:`compare_runs`), the staffed agents by interval (:func:`staffing_by_interval`) and the
way KPI values are written for people (:func:`fmt_value`).

Per-replication values: ``summary.json`` only holds means over replications. When the run
folder carries ``totals.parquet`` (one row per replication x channel) every KPI is read from
it; otherwise only additive counts (:data:`ADDITIVE_KPIS`) are rebuilt exactly, by summing
``intervals.parquet`` over the intervals of each replication. Ratio KPIs are not, so their
paired differences are left out (and the report says so).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import CcsimError, ScenarioError
from sim.kpi import KPI_INFO, KPI_KEYS
from sim.scenario import Scenario, load_scenario

#: KPIs of the headline table, in order (KPIs with a target are added when missing).
HEADLINE_KPIS = ("offered", "asa_s", "service_level", "abandon_rate", "aht_s", "occupancy",
                 "backlog", "backlog_age_h", "sla_compliance", "shrinkage", "cost_per_contact")

#: Counts that add up over intervals, so per-replication totals follow from intervals.parquet.
ADDITIVE_KPIS = ("offered", "answered", "abandoned", "lost_closed")

#: The seed's alert rule: a KPI whose mean moved by more than this share of the baseline.
ALERT_THRESHOLD = 0.10

_SHARE_UNITS = ("share",)
_REQUIRED = ("manifest.json", "summary.json", "scenario.yaml", "intervals.parquet")


class RunFolderError(CcsimError):
    """A folder that is not a readable ccsim run folder (a usage error: exit code 2)."""


@dataclass
class RunFolder:
    """A run folder as the report reads it.

    Attributes
    ----------
    path : Path
    manifest : dict
        ``manifest.json``.
    summary : dict
        ``summary.json``.
    scenario : Scenario
        The resolved ``scenario.yaml``.
    intervals : pandas.DataFrame
        ``intervals.parquet``: per replication x interval x channel x queue KPIs.
    totals : pandas.DataFrame or None
        ``totals.parquet`` when the folder has one (per replication x channel KPIs).
    """

    path: Path
    manifest: dict
    summary: dict
    scenario: Scenario
    intervals: pd.DataFrame
    totals: pd.DataFrame | None = None
    _per_rep: dict = field(default_factory=dict, repr=False)

    @property
    def channels(self) -> list[str]:
        """Channel names in scenario order, then ``"all"``."""
        names = list(self.scenario.channels)
        return [c for c in names if c in self.summary.get("kpis", {})] + (
            ["all"] if "all" in self.summary.get("kpis", {}) else [])

    @property
    def seed(self):
        return self.manifest.get("seed", self.summary.get("seed"))

    @property
    def replications(self):
        return self.manifest.get("replications", self.summary.get("replications"))

    def kpi(self, channel: str, key: str) -> dict | None:
        """``{"mean", "se", "ci95_low", "ci95_high", "n"}`` or None when absent/undefined."""
        stats = self.summary.get("kpis", {}).get(channel, {}).get(key)
        if not stats or stats.get("mean") is None:
            return None
        return {k: (math.nan if v is None else v) for k, v in stats.items()}

    def per_replication(self, key: str) -> pd.DataFrame | None:
        """Per-replication values of one KPI: rows replication, columns channel.

        From ``totals.parquet`` when present (every KPI); otherwise summed from
        ``intervals.parquet`` for :data:`ADDITIVE_KPIS` only. None when not available.
        """
        if key in self._per_rep:
            return self._per_rep[key]
        out = None
        if self.totals is not None and key in self.totals.columns:
            out = self.totals.pivot_table(index="replication", columns="channel", values=key,
                                          aggfunc="first", dropna=False)
        elif key in ADDITIVE_KPIS and key in self.intervals.columns:
            rows = self.intervals[self.intervals["queue"] == "all"]
            out = rows.groupby(["replication", "channel"])[key].sum().unstack("channel")
        self._per_rep[key] = out
        return out


def load_run(run_dir: str | Path) -> RunFolder:
    """Read a run folder written by ``ccsim run`` (see ``results/README.md``).

    Raises
    ------
    RunFolderError
        When the folder or one of its files is missing or unreadable, with the reason.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise RunFolderError(f"{path}: not a folder (expected a run folder written by "
                             "'ccsim run')")
    missing = [f for f in _REQUIRED if not (path / f).is_file()]
    if missing:
        raise RunFolderError(f"{path}: not a ccsim run folder: missing {', '.join(missing)}")
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: unreadable manifest.json or summary.json: {exc}"
                             ) from None
    if not isinstance(summary, dict) or not isinstance(summary.get("kpis"), dict):
        raise RunFolderError(f"{path}/summary.json: no 'kpis' table")
    try:
        scenario = load_scenario(path / "scenario.yaml")
    except ScenarioError as exc:
        raise RunFolderError(f"{path}/scenario.yaml: not a valid scenario: "
                             f"{exc.problems[0] if exc.problems else exc}") from None
    try:
        intervals = pd.read_parquet(path / "intervals.parquet")
        totals = (pd.read_parquet(path / "totals.parquet")
                  if (path / "totals.parquet").is_file() else None)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise RunFolderError(f"{path}: unreadable parquet file: {exc}") from None
    return RunFolder(path=path, manifest=manifest, summary=summary, scenario=scenario,
                     intervals=intervals, totals=totals)


# --------------------------------------------------------------------------- formatting

#: Units of the economics measures (not KPIs of :data:`sim.kpi.KPI_INFO`).
_EXTRA_UNITS = {"revenue": "currency", "sla_credits": "currency", "cost": "currency",
                "margin": "currency"}


def unit_of(key: str) -> str:
    """Unit of a KPI from :data:`sim.kpi.KPI_INFO` (``""`` when unknown)."""
    return KPI_INFO.get(key, ("", _EXTRA_UNITS.get(key, ""), None))[1]


def label_of(key: str) -> str:
    """A short human label of a KPI key (``asa_s`` -> ``ASA``)."""
    return _LABELS.get(key, key.replace("_", " "))


_LABELS = {
    "offered": "offered", "answered": "answered", "abandoned": "abandoned",
    "asa_s": "ASA", "mean_wait_s": "mean wait", "p_wait": "P(wait)",
    "service_level": "service level", "service_level_answered": "SL (answered)",
    "service_level_excl_short_abandons": "SL (excl. short abandons)",
    "abandon_rate": "abandon rate", "occupancy": "occupancy", "mean_queue_len": "queue length",
    "aht_s": "AHT", "backlog": "backlog", "backlog_age_h": "oldest backlog item",
    "sla_compliance": "SLA compliance", "lost_closed": "lost (closed)",
    "shrinkage": "shrinkage", "overtime_h": "overtime", "cost_per_contact": "cost per contact",
    "fcr": "FCR", "mttr_h": "MTTR", "mttr_h_critical": "MTTR (critical)",
    "mttr_h_urgent": "MTTR (urgent)", "mttr_h_routine": "MTTR (routine)",
    "time_to_supervisor_h": "time to supervisor", "sla_credits": "SLA credits",
    "tier2_ack_compliance": "tier 2 acknowledged in window",
    "tier2_resolve_compliance": "tier 2 resolved in window",
    "tier3_ack_compliance": "tier 3 acknowledged in window",
    "tier3_resolve_compliance": "tier 3 resolved in window",
}


def _finite(value) -> bool:
    return value is not None and isinstance(value, (int, float, np.number)) and math.isfinite(
        float(value))


def fmt_value(value, key: str, signed: bool = False) -> str:
    """A KPI value for people: ``80.1%``, ``10.1 s``, ``26,997``, ``3.2 h``; ``–`` if none."""
    if not _finite(value):
        return "–"
    value = float(value)
    unit = unit_of(key)
    sign = "+" if signed and value > 0 else ""
    if unit in _SHARE_UNITS:
        return f"{sign}{100 * value:.1f}%"
    if unit == "s":
        return f"{sign}{value:,.1f} s"
    if unit == "h":
        return f"{sign}{value:,.1f} h"
    if unit == "contacts":
        return f"{sign}{value:,.0f}" if abs(value) >= 100 else f"{sign}{value:,.1f}"
    if unit == "currency":
        return f"{sign}{value:,.2f}"
    return f"{sign}{value:,.4g}"


def fmt_delta(value, key: str) -> str:
    """A signed difference of a KPI: shares in percentage points (``+2.3 pp``), others in
    the KPI's unit (:func:`fmt_value`); ``–`` if none."""
    if unit_of(key) in _SHARE_UNITS and _finite(value):
        return f"{100 * float(value):+.1f} pp".replace("+0.0 pp", "0.0 pp").replace(
            "-0.0 pp", "0.0 pp")
    return fmt_value(value, key, signed=True)


def fmt_delta_ci(low, high, key: str) -> str:
    """``[low, high]`` of a difference (:func:`fmt_delta`, not clipped), ``""`` if none."""
    if not (_finite(low) and _finite(high)):
        return ""
    if unit_of(key) in _SHARE_UNITS:
        return f"[{100 * float(low):+.1f}, {100 * float(high):+.1f}] pp"
    return f"[{fmt_value(low, key)}, {fmt_value(high, key)}]"


def fmt_ci(low, high, key: str, clip: bool = True) -> str:
    """``[low, high]`` in the KPI's unit, or ``""`` when the interval is undefined.

    With ``clip`` the interval is cut at the KPI's natural range for display (every KPI is
    non-negative, shares are at most 100%): a t-interval from few replications can reach
    past it.
    """
    if not (_finite(low) and _finite(high)):
        return ""
    if clip:
        low = max(float(low), 0.0)
        high = max(float(high), 0.0)
        if unit_of(key) in _SHARE_UNITS:
            low, high = min(low, 1.0), min(high, 1.0)
    return f"[{fmt_value(low, key)}, {fmt_value(high, key)}]"


def fmt_bounds(lo, hi, key: str) -> str:
    """A target's bounds: ``≥ 80.0%``, ``≤ 20.0 s``, ``75.0%–85.0%``."""
    lo = lo if _finite(lo) else None
    hi = hi if _finite(hi) else None
    if lo is not None and hi is not None:
        return f"{fmt_value(lo, key)}–{fmt_value(hi, key)}"
    if lo is not None:
        return f"≥ {fmt_value(lo, key)}"
    if hi is not None:
        return f"≤ {fmt_value(hi, key)}"
    return ""


# --------------------------------------------------------------------------- headline

@dataclass
class HeadlineCell:
    """One channel x KPI of the headline table.

    Attributes
    ----------
    channel, kpi : str
    mean, low, high : float
        Mean over replications and its 95% t-interval (NaN when undefined).
    target : str
        The target's bounds as text, ``""`` without a target.
    status : str
        ``met``, ``missed``, ``uncertain`` or ``""`` without a target.
    p_met : float
        Share of replications meeting the target (NaN without one).
    """

    channel: str
    kpi: str
    mean: float
    low: float
    high: float
    target: str = ""
    status: str = ""
    p_met: float = math.nan


def headline_kpis(run: RunFolder) -> list[str]:
    """Columns of the headline table: :data:`HEADLINE_KPIS` plus any KPI with a target,
    keeping only those defined for at least one channel."""
    targeted = [t["kpi"] for t in run.summary.get("targets", [])]
    keys = list(HEADLINE_KPIS) + [k for k in KPI_KEYS if k in targeted
                                  and k not in HEADLINE_KPIS]
    return [k for k in keys if any(run.kpi(c, k) is not None for c in run.channels)]


def headline_rows(run: RunFolder) -> dict[str, dict[str, HeadlineCell]]:
    """``{channel: {kpi: HeadlineCell}}`` for the headline table (absent cells omitted)."""
    targets = {(t["channel"], t["kpi"]): t for t in run.summary.get("targets", [])}
    out: dict[str, dict[str, HeadlineCell]] = {}
    for channel in run.channels:
        row = {}
        for key in headline_kpis(run):
            stats = run.kpi(channel, key)
            if stats is None:
                continue
            cell = HeadlineCell(channel, key, stats["mean"], stats["ci95_low"],
                                stats["ci95_high"])
            t = targets.get((channel, key))
            if t is not None:
                cell.target = fmt_bounds(t.get("min"), t.get("max"), key)
                cell.status = str(t.get("status") or "")
                cell.p_met = math.nan if t.get("p_met") is None else float(t["p_met"])
            row[key] = cell
        out[channel] = row
    return out


def target_counts(run: RunFolder) -> dict[str, int]:
    """Number of targets per status (``met``, ``missed``, ``uncertain``)."""
    counts = {"met": 0, "missed": 0, "uncertain": 0}
    for t in run.summary.get("targets", []):
        counts[str(t.get("status"))] = counts.get(str(t.get("status")), 0) + 1
    return counts


# --------------------------------------------------------------------------- alerts

@dataclass
class Alert:
    """A KPI whose mean moved by more than :data:`ALERT_THRESHOLD` from the baseline.

    Attributes
    ----------
    channel, kpi : str
    baseline, current : float
        Means over replications.
    change : float
        ``(current - baseline) / |baseline|``; +inf/-inf when the baseline is 0.
    verdict : str
        ``better``, ``worse`` or ``""`` when the KPI has no preferred direction.
    diff, diff_low, diff_high : float
        Paired difference current - baseline and its 95% interval over replications with
        common random numbers; NaN when not computed (see ``diff_note``).
    diff_note : str
        Why the paired difference is missing, or ``""``.
    """

    channel: str
    kpi: str
    baseline: float
    current: float
    change: float
    verdict: str = ""
    diff: float = math.nan
    diff_low: float = math.nan
    diff_high: float = math.nan
    diff_note: str = ""


@dataclass
class Comparison:
    """The alerts of a run against a baseline, and whether differences could be paired."""

    alerts: list[Alert]
    paired: bool
    note: str
    baseline_path: Path
    n_compared: int


def compare_runs(run: RunFolder, baseline: RunFolder,
                 threshold: float = ALERT_THRESHOLD) -> Comparison:
    """Flag every channel x KPI whose mean moved more than ``threshold`` from the baseline.

    When both runs share the seed and the number of replications, replication *i* of one
    used the same random numbers as replication *i* of the other, so the per-replication
    differences are paired and :func:`sim.stats.paired_difference` gives their 95%
    interval. That needs per-replication values (see :meth:`RunFolder.per_replication`).

    Parameters
    ----------
    run, baseline : RunFolder
    threshold : float
        Relative change that raises an alert (0.10 = 10%).

    Returns
    -------
    Comparison
        Alerts sorted by channel order then by the size of the change.
    """
    from sim.stats import paired_difference

    paired = (run.seed is not None and run.seed == baseline.seed
              and run.replications == baseline.replications)
    if paired:
        note = (f"Both runs use seed {run.seed} and {run.replications} replications, so "
                "replication i of each saw the same random numbers: differences are paired.")
    else:
        note = (f"The runs differ in seed ({baseline.seed} vs {run.seed}) or replications "
                f"({baseline.replications} vs {run.replications}): no paired differences.")
    alerts: list[Alert] = []
    n_compared = 0
    for channel in run.channels:
        for key in KPI_KEYS:
            now, base = run.kpi(channel, key), baseline.kpi(channel, key)
            if now is None or base is None:
                continue
            cur, ref = float(now["mean"]), float(base["mean"])
            if not (math.isfinite(cur) and math.isfinite(ref)):
                continue
            n_compared += 1
            if ref == 0.0:
                if cur == 0.0:
                    continue
                change = math.copysign(math.inf, cur)
            else:
                change = (cur - ref) / abs(ref)
            if abs(change) <= threshold:
                continue
            better = KPI_INFO.get(key, ("", "", None))[2]
            verdict = ""
            if better == "higher":
                verdict = "better" if cur > ref else "worse"
            elif better == "lower":
                verdict = "better" if cur < ref else "worse"
            alert = Alert(channel, key, ref, cur, change, verdict)
            if not paired:
                from sim.compare import welch_difference

                d, _, lo, hi = welch_difference(ref, base.get("se", math.nan),
                                                _n(base), cur, now.get("se", math.nan),
                                                _n(now))
                alert.diff, alert.diff_low, alert.diff_high = d, lo, hi
                alert.diff_note = "unpaired, Welch interval (different seed or replications)"
            else:
                a, b = run.per_replication(key), baseline.per_replication(key)
                if a is None or b is None or channel not in a or channel not in b:
                    alert.diff_note = "no per-replication values in the run folder"
                else:
                    d = paired_difference(a[channel].sort_index().to_numpy(float),
                                          b[channel].sort_index().to_numpy(float))
                    alert.diff, alert.diff_low, alert.diff_high = d.mean, d.low, d.high
                    if not math.isfinite(d.low):
                        alert.diff_note = "one replication: no interval"
            alerts.append(alert)
    order = {c: i for i, c in enumerate(run.channels)}
    alerts.sort(key=lambda a: (order.get(a.channel, 99), -min(abs(a.change), 1e300)))
    return Comparison(alerts, paired, note, baseline.path, n_compared)


def _n(stats: dict) -> int:
    n = stats.get("n")
    return int(n) if _finite(n) else 0


# --------------------------------------------------------------------------- staffing

def staffing_by_interval(scenario: Scenario, seed: int, replication: int = 0
                         ) -> pd.DataFrame:
    """Agents on duty and scheduled per reporting interval and team, for one replication.

    The roster of replication ``replication`` is re-sampled from its seed
    (:func:`sim.experiment.replication_seed`), exactly as the run sampled it.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        The run's seed.
    replication : int

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per measured interval x team: ``interval``, ``interval_start`` (s),
        ``team``, ``on_duty`` (mean number of agents available: on shift and not in
        shrinkage) and ``scheduled`` (mean number of agents on shift).
    """
    from sim.compile import compile_scenario
    from sim.experiment import replication_seed
    from sim.roster import sample_roster

    model = compile_scenario(scenario)
    roster = sample_roster(scenario, model, replication_seed(seed, replication))
    interval_s = float(model.interval_s)
    k0 = int(math.floor(model.warmup_s / interval_s + 1e-9))
    bounds = np.arange(k0, model.n_intervals + 1, dtype=np.float64) * interval_s
    bounds[-1] = min(bounds[-1], model.horizon_s)
    frames = []
    for t, team in enumerate(model.team_names):
        seg = model.agent_team[roster.seg_agent] == t
        sh = model.agent_team[roster.shift_agent] == t
        on = _time_in_bins(roster.seg_start_s[seg], roster.seg_end_s[seg], bounds)
        sched = _time_in_bins(roster.shift_start_s[sh], roster.shift_end_s[sh], bounds)
        length = np.diff(bounds)
        frames.append(pd.DataFrame({
            "interval": np.arange(k0, k0 + length.size),
            "interval_start": bounds[:-1],
            "team": team,
            "on_duty": on / length,
            "scheduled": sched / length,
        }))
    return pd.concat(frames, ignore_index=True)


def required_by_time_of_day(scenario: Scenario, intervals=None) -> pd.Series | None:
    """The analytic Erlang requirement of agents on duty, by interval of the day.

    From :func:`sim.staffing.interval_requirements` (expected demand; Erlang A where the
    channel has patience, else Erlang C; each live channel its own pool, deferred work
    left out), summed over the live channels and averaged over the days of ``intervals``.

    Parameters
    ----------
    scenario : Scenario
    intervals : sequence of int, optional
        Interval indices to average over (default: every interval of the horizon).

    Returns
    -------
    pandas.Series or None
        Agents needed on duty (after shrinkage), indexed by the interval start in hours of
        the day; None when no live channel has a target to staff for.
    """
    from sim.staffing import interval_requirements

    req = interval_requirements(scenario)
    if req.empty or not req["agents"].notna().any():
        return None
    if intervals is not None:
        req = req[req["interval"].isin(list(intervals))]
    total = req.groupby("interval")["agents"].sum(min_count=1)
    interval_s = float(req.attrs.get("interval_s") or 3600.0)
    hour = (total.index.to_numpy(float) * interval_s % 86400.0) / 3600.0
    out = total.groupby(hour).mean()
    out.index.name = "hour"
    return out if len(out) else None


def _time_in_bins(start_s: np.ndarray, end_s: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Total length of ``[start_s, end_s)`` spans inside each ``[bounds[k], bounds[k+1])``."""

    def covered_before(t):
        # sum over spans of |[s, e) n (-inf, t)| = sum (min(e, t) - s)+ for s < t
        s = np.sort(start_s)
        e = np.sort(end_s)
        cs, ce = np.concatenate([[0], np.cumsum(s)]), np.concatenate([[0], np.cumsum(e)])
        ns = np.searchsorted(s, t, side="left")
        ne = np.searchsorted(e, t, side="left")
        return (ns * t - cs[ns]) - (ne * t - ce[ne])

    f = covered_before(bounds.astype(np.float64))
    return np.diff(f)


# --------------------------------------------------------------------------- journeys, economics
#
# These read KPIs that journeys (fcr, repeat_rate, escalation_rate, mttr_h, per-tier
# sla_compliance) and economics (revenue, SLA credits, cost, margin per pricing tier) add to
# a run folder. Each returns None when the run does not have them, so the report can say
# "not in this run" instead of failing.

#: Journey KPIs read by :func:`journey_table`.
JOURNEY_KPIS = ("fcr", "repeat_rate", "escalation_rate")

#: Queue names of escalation tasks: ``tier{t}_{severity}`` (:func:`sim.model.task_skill`).
_TASK_QUEUE = r"(?:^|/)tier(\d+)_(\w+)$"

#: Accepted column names of each economics measure (first found wins).
_ECONOMICS_COLUMNS = {"revenue": ("revenue",), "sla_credits": ("sla_credits", "credits"),
                      "cost": ("cost", "total_cost"), "margin": ("margin",)}


def _band(values) -> dict:
    from sim.stats import t_interval

    d = t_interval(values)
    return {"mean": d.mean, "low": d.low, "high": d.high, "n": d.n}


def _stats_of(value) -> dict | None:
    """``{"mean", "low", "high"}`` from a summary stats dict or a bare number."""
    if isinstance(value, dict) and "mean" in value:
        mean = value.get("mean")
        if not _finite(mean):
            return None
        low, high = value.get("ci95_low"), value.get("ci95_high")
        return {"mean": float(mean), "low": float(low) if _finite(low) else math.nan,
                "high": float(high) if _finite(high) else math.nan}
    if _finite(value):
        return {"mean": float(value), "low": math.nan, "high": math.nan}
    return None


def journey_table(run: RunFolder) -> pd.DataFrame | None:
    """FCR, repeat and escalation rates per channel from ``summary.json``.

    Returns
    -------
    pandas.DataFrame or None
        ``channel, kpi, mean, low, high``; None when the run has none of
        :data:`JOURNEY_KPIS`.
    """
    rows = []
    for channel in run.channels:
        for kpi in JOURNEY_KPIS:
            stats = run.kpi(channel, kpi)
            if stats is not None and _finite(stats["mean"]):
                rows.append({"channel": channel, "kpi": kpi, "mean": stats["mean"],
                             "low": stats["ci95_low"], "high": stats["ci95_high"]})
    return pd.DataFrame(rows) if rows else None


def escalation_table(run: RunFolder) -> pd.DataFrame | None:
    """Escalation tasks and response-window compliance per tier and severity.

    Read from the escalation-task queues of ``intervals.parquet`` (named
    ``tier{t}_{severity}``, possibly as ``channel/tier{t}_{severity}``): per replication the
    tasks offered in the measured window and, pooled over intervals weighted by answered
    tasks, ``tier{t}_ack_compliance`` (started within the acknowledge window) and
    ``tier{t}_resolve_compliance`` (completed within the resolve window; weighted by
    answered tasks too, an approximation when tasks are still in service at an interval's
    end), or ``sla_compliance`` when the run has no tier columns; then mean and 95%
    t-interval over replications.

    Returns
    -------
    pandas.DataFrame or None
        ``tier, severity, tasks`` and, where the run has them, ``ack``, ``resolve`` or
        ``compliance`` with ``*_low``, ``*_high``; None when the run has no escalation-task
        queues.
    """
    iv = run.intervals
    if "queue" not in iv or "offered" not in iv:
        return None
    parts = iv["queue"].astype(str).str.extract(_TASK_QUEUE)
    rows = iv[parts[0].notna().to_numpy()]
    if rows.empty:
        return None
    rows = rows.assign(tier=parts.loc[rows.index, 0].astype(int).to_numpy(),
                       severity=parts.loc[rows.index, 1].to_numpy())
    keys = ["replication", "tier", "severity"]
    per_rep = rows.groupby(keys, observed=True)["offered"].sum().rename("tasks").to_frame()
    measures = {}
    for tier in sorted(set(rows["tier"])):
        for name in ("ack", "resolve"):
            if f"tier{tier}_{name}_compliance" in rows:
                measures.setdefault(name, {})[tier] = f"tier{tier}_{name}_compliance"
    if not measures and "sla_compliance" in rows:
        measures["compliance"] = {t: "sla_compliance" for t in set(rows["tier"])}
    for name, columns in measures.items():
        value = pd.Series(np.nan, index=rows.index)
        for tier, col in columns.items():
            sel = rows["tier"] == tier
            value[sel] = rows.loc[sel, col]
        ok = value.notna() & (rows["answered"] > 0) if "answered" in rows else value.notna()
        if not ok.any():
            continue
        sub = rows[ok]
        weight = sub["answered"] if "answered" in sub else pd.Series(1.0, index=sub.index)
        w = sub[keys].assign(num=value[ok] * weight, den=weight)
        sums = w.groupby(keys, observed=True)[["num", "den"]].sum()
        per_rep[name] = sums["num"] / sums["den"]
    out = []
    for (tier, sev), g in per_rep.reset_index().groupby(["tier", "severity"], sort=True):
        row = {"tier": int(tier), "severity": sev, "tasks": float(g["tasks"].mean())}
        for name in measures:
            if name in g:
                b = _band(g[name].to_numpy(float))
                row.update({name: b["mean"], f"{name}_low": b["low"],
                            f"{name}_high": b["high"]})
        out.append(row)
    return pd.DataFrame(out)


def _walk(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*path, str(k)), v
            yield from _walk(v, (*path, str(k)))


def mttr_table(run: RunFolder) -> pd.DataFrame | None:
    """Mean time to resolve (hours) by severity, wherever ``summary.json`` holds it.

    Accepted shapes: a KPI ``mttr_h_<severity>`` (or ``mttr_h`` for all severities) of any
    channel (``all`` preferred), or a ``mttr_h`` entry mapping severity -> stats.

    Returns
    -------
    pandas.DataFrame or None
        ``severity, mean, low, high``; None when the run has no MTTR.
    """
    import re

    found: dict[str, dict] = {}
    kpis = run.summary.get("kpis", {})
    for channel in ["all"] + [c for c in kpis if c != "all"]:
        for key, value in (kpis.get(channel) or {}).items():
            m = re.fullmatch(r"mttr_h(?:_(\w+))?", str(key))
            stats = _stats_of(value) if m else None
            if stats is not None:
                found.setdefault(m.group(1) or "all", stats)
    for path, value in _walk({k: v for k, v in run.summary.items() if k != "kpis"}):
        if path[-1] == "mttr_h" and isinstance(value, dict) and "mean" not in value:
            for sev, v in value.items():
                stats = _stats_of(v)
                if stats is not None:
                    found.setdefault(str(sev), stats)
    if not found:
        return None
    return pd.DataFrame([{"severity": s, **v} for s, v in found.items()])


def economics_table(run: RunFolder) -> pd.DataFrame | None:
    """Revenue, SLA credits, cost and margin per pricing tier over the horizon.

    From ``economics.parquet`` (per replication x month x tier) when the folder has it:
    each replication's sums over the months, then mean and 95% t-interval over
    replications. Otherwise from an ``economics`` entry of ``summary.json`` holding, per
    tier, those measures (``{"tiers": {tier: {measure: stats}}}``, as
    :func:`sim.economics.json_section` writes it).

    Returns
    -------
    pandas.DataFrame or None
        ``tier, measure, mean, low, high``; None when the run has no pricing tiers.
    """
    path = run.path / "economics.parquet"
    if path.is_file():
        try:
            eco = pd.read_parquet(path)
        except Exception:  # a damaged optional file: leave the figure out
            eco = None
        tier_col = next((c for c in ("tier", "pricing_tier", "plan") if eco is not None
                         and c in eco.columns), None)
        if tier_col is not None:
            rows = []
            rep = "replication" if "replication" in eco.columns else None
            eco = eco[~eco[tier_col].astype(str).isin(["all", "total"])]
            for measure, names in _ECONOMICS_COLUMNS.items():
                col = next((c for c in names if c in eco.columns), None)
                if col is None:
                    continue
                by = [tier_col] + ([rep] if rep else [])
                sums = eco.groupby(by, sort=False, observed=True)[col].sum().reset_index()
                for tier, g in sums.groupby(tier_col, sort=False, observed=True):
                    if str(tier) in ("all", "total"):
                        continue
                    rows.append({"tier": str(tier), "measure": measure,
                                 **{k: v for k, v in _band(g[col].to_numpy(float)).items()
                                    if k != "n"}})
            if rows:
                return pd.DataFrame(rows)
    section = run.summary.get("economics")
    tiers = section.get("tiers") if isinstance(section, dict) else None
    rows = []
    for tier, values in (tiers or {}).items():
        if not isinstance(values, dict) or str(tier) in ("all", "total"):
            continue
        for measure, names in _ECONOMICS_COLUMNS.items():
            name = next((n for n in names if n in values), None)
            stats = _stats_of(values.get(name)) if name else None
            if stats is not None:
                rows.append({"tier": str(tier), "measure": measure, **stats})
    if not rows:
        return None
    return pd.DataFrame(rows).drop_duplicates(["tier", "measure"])
