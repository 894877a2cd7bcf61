"""Analytic staffing: Erlang requirements per interval, FTE, and the reports of two verbs.

This module owns the *analytic* side of staffing:

* :func:`profile_requirements`: the fewest agents meeting a set of targets in each interval
  of an arrival profile (Erlang C or Erlang A per interval, steady state in each);
* :func:`interval_requirements`: the same for a scenario, per reporting interval and live
  channel (or compiled queue), from the scenario's expected demand, mean handle times,
  channel SLAs, targets and patience; :func:`requirement_fte` turns it into FTE after the
  scenario's intended shrinkage;
* :func:`staffed_on_duty`: agents on shift and available per interval in the roster of
  replication 0, to compare a scenario's staffing with its analytic requirement;
* the text reports of ``ccsim erlang`` (:func:`erlang_report`, :func:`profile_report`) and
  ``ccsim staff`` (:func:`staff_report`) and the parsing of their arguments.

It also owns the *simulation-corrected* requirement of ``ccsim staff --simulate``
(:func:`simulated_requirements`: the analytic start corrected with common random numbers
until every interval of a typical day meets its targets at a stated confidence), the
shrinkage measured from sampled rosters (:func:`measured_shrinkage`), the shift schedules
that cover a requirement (:func:`schedule_teams`, with :mod:`sim.schedule`) and their
report (:func:`simulated_report`).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.erlang import (
    SERVICE_LEVEL_KPIS,
    StaffingTargets,
    blended_workload,
    fte_from_agent_hours,
    fte_from_agents,
    queue_measures,
    required_agents,
)
from sim.errors import CcsimError
from sim.scenario import Scenario, distribution_mean_s, parse_duration_s

#: Measures reported with every requirement (fields of :class:`sim.erlang.ErlangCResult`).
MEASURES = ("p_wait", "asa_s", "service_level", "abandon_rate", "occupancy", "mean_queue_len")
#: The simulation-correction caveat every ``ccsim staff`` report carries.
ANALYTIC_ONLY = ("analytic only (steady-state Erlang per interval); `ccsim staff --simulate` "
                 "corrects it by simulation, and `ccsim run` checks a plan")


# --------------------------------------------------------------------------- argument parsing


def parse_fraction(text: str, name: str) -> float:
    """A share from ``"0.3"``, ``"30%"`` or ``"30"`` (a number above 1 is a percentage).

    Raises
    ------
    ValueError
        One line naming ``name`` when ``text`` is not a number in [0, 1] (or [0, 100]%).
    """
    raw = str(text).strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        raise ValueError(f"{name}: expected a share such as 0.3 or 30%, got {text!r}") from None
    if percent or value > 1.0:
        value /= 100.0
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError(f"{name}: expected a share between 0 and 1 (or 0-100%), got {text!r}")
    return value


def parse_service_target(text: str) -> tuple[float, float]:
    """``(service_level, threshold_s)`` from ``"80/20s"``, ``"80%/20s"`` or ``"0.8/20"``.

    Raises
    ------
    ValueError
        One line with a hint when ``text`` is malformed.
    """
    parts = str(text).split("/")
    if len(parts) != 2:
        raise ValueError(f"--target: expected SHARE/THRESHOLD such as 80/20s, got {text!r}")
    share = parse_fraction(parts[0], "--target")
    if share >= 1.0:
        raise ValueError(f"--target: the service level must be below 100%, got {parts[0]!r}")
    threshold_s = parse_positive_duration(parts[1], "--target", allow_zero=True)
    return share, threshold_s


def parse_positive_duration(text: str, name: str, allow_zero: bool = False) -> float:
    """Seconds from ``"20s"``, ``"5min"``, ``"300"`` (:func:`sim.scenario.parse_duration_s`).

    Raises
    ------
    ValueError
        One line naming ``name`` for a bad or non-positive duration.
    """
    try:
        value = parse_duration_s(str(text).strip())
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name}: expected a duration above 0, got {text!r}")
    return value


def parse_rate(text: str, name: str) -> float:
    """A non-negative finite number (contacts per hour or per day)."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(f"{name}: expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a number >= 0, got {text!r}")
    return value


def parse_profile(text: str) -> tuple[float, ...]:
    """Weights of equal slices of a day from ``"18,14,12,..."`` (e.g. 24 hourly weights)."""
    try:
        weights = tuple(float(w) for w in str(text).replace(" ", "").split(",") if w != "")
    except ValueError:
        raise ValueError(f"--profile: expected comma-separated numbers, got {text!r}") from None
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("--profile: expected non-negative weights with a positive sum, "
                         "e.g. 24 hourly weights '18,14,12,...'")
    if 86400 % len(weights):
        raise ValueError(f"--profile: {len(weights)} slices do not divide a day into whole "
                         "seconds; give 24 hourly or 48 half-hourly weights")
    return weights


# --------------------------------------------------------------------------- requirements


def _requirement(rate_per_s: float, aht_s: float, targets: StaffingTargets,
                 patience_mean_s: float | None, servers_per_agent: int) -> tuple[int, object]:
    """(agents, measures at agents x servers_per_agent servers) for one positive rate."""
    servers = required_agents(rate_per_s, aht_s, targets, patience_mean_s)
    agents = -(-servers // servers_per_agent)
    threshold_s = 0.0 if targets.threshold_s is None else targets.threshold_s
    return agents, queue_measures(agents * servers_per_agent, rate_per_s, aht_s, threshold_s,
                                  patience_mean_s)


def profile_requirements(
    arrivals,
    interval_s: float,
    aht_s: float,
    targets: StaffingTargets,
    patience_mean_s: float | None = None,
    servers_per_agent: int = 1,
) -> pd.DataFrame:
    """Fewest agents meeting ``targets`` in each interval of an arrival profile.

    Each interval is treated as a steady-state Erlang C (or Erlang A, with a patience) queue
    at the interval's arrival rate; intervals with the same arrivals are computed once.

    Parameters
    ----------
    arrivals : array_like of float, shape (n,)
        Expected arrivals in each interval (>= 0).
    interval_s : float
        Interval length [s] (> 0).
    aht_s : float
        Mean handling time per contact [s] (> 0).
    targets : StaffingTargets
        At least one target.
    patience_mean_s : float, optional
        Mean (exponential) patience [s]: Erlang A; ``None``: Erlang C.
    servers_per_agent : int
        Contacts one agent handles at once (chat concurrency); the queue has
        ``agents x servers_per_agent`` servers.

    Returns
    -------
    pandas.DataFrame
        One row per interval: ``arrivals``, ``rate_per_h``, ``load_erlangs`` (rate x AHT),
        ``agents`` (0 with no arrivals) and the measures at that staffing (:data:`MEASURES`,
        NaN with no arrivals).
    """
    arrivals = np.asarray(arrivals, dtype=float).ravel()
    if not np.all(np.isfinite(arrivals)) or np.any(arrivals < 0):
        raise ValueError("arrivals must be finite and >= 0")
    if not interval_s > 0:
        raise ValueError(f"interval_s must be > 0, got {interval_s}")
    if isinstance(servers_per_agent, bool) or int(servers_per_agent) != servers_per_agent \
            or servers_per_agent < 1:
        raise ValueError(f"servers_per_agent must be a whole number >= 1, got "
                         f"{servers_per_agent!r}")
    servers_per_agent = int(servers_per_agent)
    distinct, inverse = np.unique(arrivals, return_inverse=True)
    agents = np.zeros(distinct.size, dtype=np.int64)
    measures = np.full((distinct.size, len(MEASURES)), np.nan)
    for i, n in enumerate(distinct):
        if n <= 0:
            continue
        agents[i], m = _requirement(n / interval_s, aht_s, targets, patience_mean_s,
                                    servers_per_agent)
        measures[i] = [getattr(m, k) for k in MEASURES]
    out = pd.DataFrame({
        "arrivals": arrivals,
        "rate_per_h": arrivals * 3600.0 / interval_s,
        "load_erlangs": arrivals * aht_s / interval_s,
        "agents": agents[inverse],
    })
    for j, k in enumerate(MEASURES):
        out[k] = measures[inverse, j]
    return out


def channel_targets(scenario: Scenario, channel: str) -> tuple[StaffingTargets, list[str]]:
    """The staffing targets of a live channel: its SLA and its ``targets`` bounds.

    The service-level target is the channel's ``sla`` (threshold and target) or a ``min``
    on ``service_level``, ``service_level_answered`` or ``service_level_excl_short_abandons``
    under ``targets.<channel>`` (measured at the SLA threshold; the stricter wins); ``max``
    bounds on ``asa_s``, ``abandon_rate`` and ``occupancy`` are ceilings. Lower bounds on
    occupancy and targets under ``all`` are not staffing targets of one channel.

    Returns
    -------
    targets : StaffingTargets
    notes : list of str
        What was ignored, and why.
    """
    spec = scenario.channels[channel]
    bounds = scenario.targets.get(channel, {})
    notes: list[str] = []
    threshold_s = spec.sla.threshold if spec.sla else None
    sl, sl_kpi = (spec.sla.target if spec.sla else None), "service_level"
    for kpi in SERVICE_LEVEL_KPIS:
        b = bounds.get(kpi)
        if b is None or b.min is None:
            continue
        if threshold_s is None:
            notes.append(f"{channel}: {kpi} target ignored (the channel has no sla threshold)")
        elif sl is None or b.min > sl:
            sl, sl_kpi = b.min, kpi
    if sl is not None and sl >= 1.0:
        notes.append(f"{channel}: a service level of 100% cannot be staffed for; ignored")
        sl = None
    asa = bounds["asa_s"].max if "asa_s" in bounds else None
    abandon = bounds["abandon_rate"].max if "abandon_rate" in bounds else None
    occupancy = bounds["occupancy"].max if "occupancy" in bounds else None
    if asa is not None and asa <= 0:
        notes.append(f"{channel}: asa_s max {asa:g} cannot be met; ignored")
        asa = None
    if abandon is not None and abandon <= 0:
        notes.append(f"{channel}: abandon_rate max 0 cannot be met with patience; ignored")
        abandon = None
    if occupancy is not None and not 0 < occupancy <= 1:
        occupancy = None
    targets = StaffingTargets(service_level=sl, threshold_s=threshold_s, max_asa_s=asa,
                              max_abandon_rate=abandon, max_occupancy=occupancy,
                              service_level_kpi=sl_kpi)
    return targets, notes


def _mean_work_s(ct) -> float:
    handle = distribution_mean_s(ct.handle_time)
    wrap = distribution_mean_s(ct.wrap_up) if ct.wrap_up is not None else 0.0
    return handle + wrap


def _channel_mix(scenario: Scenario, channel: str) -> dict[str, tuple[float, float]]:
    """Per skill queue: (share of the channel's contacts, mean handle + wrap-up [s])."""
    types = list(scenario.contact_types.items())
    total = sum(ct.share.get(channel, 0.0) for _, ct in types)
    mix: dict[str, tuple[float, float]] = {}
    if total <= 0:
        return mix
    for skill in scenario.queue_names:
        parts = [(ct.share.get(channel, 0.0), name, ct) for name, ct in types
                 if ct.queue == skill and ct.share.get(channel, 0.0) > 0]
        if not parts:
            continue
        share = sum(p for p, _, _ in parts)
        work = 0.0
        for p, name, ct in parts:
            w = _mean_work_s(ct)
            if math.isnan(w):
                raise CcsimError(f"contact_types.{name}: the mean handle time of an empirical "
                                 "distribution read from a CSV is not known to the analytic "
                                 "layer; give the values inline")
            work += p * w
        mix[skill] = (share / total, work / share)
    return mix


def interval_requirements(scenario: Scenario, *, by: str = "channel", queueing: str = "auto",
                          shrinkage: float | None = None) -> pd.DataFrame:
    """Analytic agent requirement per reporting interval and live channel (or queue).

    Demand is the scenario's *expected* arrivals per interval (:func:`sim.compile.rate_grid`,
    open hours only; no overdispersion); the handle time is the share-weighted mean of
    ``handle_time + wrap_up`` of the channel's contact types (at speed 1); targets come from
    :func:`channel_targets`; a channel with patience is an Erlang A queue (exponential
    patience with the same mean), otherwise Erlang C. A chat channel with concurrency ``k``
    and slowdown ``s`` is approximated as ``k`` servers per agent with handle time
    ``aht x (1 + s (k - 1) / 2)``. Each channel (or queue, with ``by="queue"``) is its own
    pool of agents: multi-skill pooling, priorities and deferred work are ignored.

    Parameters
    ----------
    scenario : Scenario
    by : {"channel", "queue"}
        One pool per live channel (all its skill queues together), or per compiled queue.
    queueing : {"auto", "erlang_c", "erlang_a"}
        ``auto``: Erlang A where the channel has patience, else Erlang C.
    shrinkage : float, optional
        Share of paid time not available; default the scenario's intended shrinkage
        (:func:`sim.roster.intended_shrinkage`).

    Returns
    -------
    pandas.DataFrame
        One row per interval x pool: ``interval``, ``start`` (timestamp), ``channel``,
        ``queue`` (``"all"`` by channel), ``offered`` (expected arrivals), ``aht_s``,
        ``load_erlangs``, ``queueing``, ``agents`` (available agents needed),
        ``scheduled_agents`` (``agents / (1 - shrinkage)``, on shift) and the measures at
        ``agents`` (:data:`MEASURES`; NaN with no arrivals). ``attrs`` holds
        ``shrinkage``, ``interval_s`` and ``notes`` (targets ignored, channels skipped).
    """
    from sim.compile import compile_scenario, rate_grid
    from sim.roster import intended_shrinkage

    if by not in ("channel", "queue"):
        raise ValueError(f"by must be 'channel' or 'queue', got {by!r}")
    if queueing not in ("auto", "erlang_c", "erlang_a"):
        raise ValueError(f"queueing must be auto, erlang_c or erlang_a, got {queueing!r}")
    model = compile_scenario(scenario)
    grid = rate_grid(scenario, model)
    shrink = intended_shrinkage(scenario) if shrinkage is None else float(shrinkage)
    if not 0.0 <= shrink < 1.0:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrink:g}")
    interval_s = model.interval_s
    per_interval = int(round(interval_s / grid.step_s))
    n_int = grid.expected.shape[0] // per_interval
    start = pd.Timestamp(scenario.horizon.start)
    starts = start + pd.to_timedelta(np.arange(n_int) * interval_s, unit="s")
    notes: list[str] = []
    frames = []
    for c, name in enumerate(model.channel_names):
        spec = scenario.channels.get(name)  # None: a channel the compiler adds (tasks)
        if spec is None or spec.kind != "live":
            continue
        offered = (grid.expected[:, c] * grid.open_[:, c]).reshape(n_int, per_interval).sum(1)
        targets, more = channel_targets(scenario, name)
        notes += more
        patience = distribution_mean_s(spec.patience) if spec.patience is not None else None
        if queueing == "erlang_c":
            patience = None
        elif queueing == "erlang_a" and patience is None:
            notes.append(f"{name}: no patience, so Erlang C")
        if patience is None and targets.max_abandon_rate is not None:
            notes.append(f"{name}: abandon_rate target ignored (Erlang C has no abandonment)")
            targets = StaffingTargets(
                service_level=targets.service_level, threshold_s=targets.threshold_s,
                max_asa_s=targets.max_asa_s, max_occupancy=targets.max_occupancy,
                service_level_kpi=targets.service_level_kpi)
        if targets.empty:
            notes.append(f"{name}: no sla or staffing target; skipped")
            continue
        mix = _channel_mix(scenario, name)
        if not mix:
            continue
        k = spec.concurrency
        factor = 1.0 + spec.slowdown * (k - 1) / 2.0
        if by == "channel":
            share = sum(s for s, _ in mix.values())
            groups = [("all", share, sum(s * w for s, w in mix.values()) / share)]
        else:
            groups = [(skill, s, w) for skill, (s, w) in mix.items()]
        for queue, share, work_s in groups:
            req = profile_requirements(offered * share, interval_s, work_s * factor, targets,
                                       patience, servers_per_agent=k)
            frames.append(pd.DataFrame({
                "interval": np.arange(n_int), "start": starts, "channel": name,
                "queue": queue, "offered": req["arrivals"], "aht_s": work_s,
                "load_erlangs": req["arrivals"] * work_s / interval_s,
                "queueing": "erlang_a" if patience is not None else "erlang_c",
                "agents": req["agents"], "scheduled_agents": req["agents"] / (1.0 - shrink),
                **{m: req[m] for m in MEASURES}}))
    columns = ["interval", "start", "channel", "queue", "offered", "aht_s", "load_erlangs",
               "queueing", "agents", "scheduled_agents", *MEASURES]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    out.attrs.update(shrinkage=shrink, interval_s=interval_s, notes=notes)
    return out


def requirement_fte(requirements: pd.DataFrame, paid_hours_per_fte_week: float = 40.0
                    ) -> pd.DataFrame:
    """Weekly agent-hours and FTE of an :func:`interval_requirements` frame.

    ``agent_hours_per_week`` is the sum of ``agents x interval hours`` over the horizon,
    divided by the horizon in weeks; ``fte`` divides it by
    ``paid_hours_per_fte_week x (1 - shrinkage)`` with the frame's shrinkage. The row
    ``all`` adds the pools (each pool staffed separately).

    Returns
    -------
    pandas.DataFrame
        Columns ``channel``, ``queue``, ``agent_hours_per_week``, ``peak_agents``,
        ``shrinkage``, ``fte``.
    """
    shrink = float(requirements.attrs.get("shrinkage", 0.0))
    interval_h = float(requirements.attrs.get("interval_s", 3600.0)) / 3600.0
    if requirements.empty:
        return pd.DataFrame(columns=["channel", "queue", "agent_hours_per_week", "peak_agents",
                                     "shrinkage", "fte"])
    n_int = int(requirements["interval"].max()) + 1
    weeks = n_int * interval_h / 168.0
    g = requirements.groupby(["channel", "queue"], sort=False)["agents"]
    rows = pd.DataFrame({"agent_hours_per_week": g.sum() * interval_h / weeks,
                         "peak_agents": g.max()}).reset_index()
    total = requirements.groupby("interval")["agents"].sum()
    rows.loc[len(rows)] = ["all", "all", rows["agent_hours_per_week"].sum(), total.max()]
    rows["shrinkage"] = shrink
    rows["fte"] = fte_from_agent_hours(rows["agent_hours_per_week"].to_numpy(),
                                       paid_hours_per_fte_week, shrink)
    return rows


def _overlap_per_interval(start_s, end_s, interval_s: float, n: int) -> np.ndarray:
    """Total length of the spans ``[start_s, end_s)`` inside each of ``n`` intervals [s]."""
    start_s, end_s = np.sort(np.asarray(start_s, float)), np.sort(np.asarray(end_s, float))
    edges = np.arange(n + 1) * interval_s
    cs, ce = np.r_[0.0, np.cumsum(start_s)], np.r_[0.0, np.cumsum(end_s)]
    i = np.searchsorted(start_s, edges, side="left")
    j = np.searchsorted(end_s, edges, side="left")
    # G(x) = sum_spans clip(x - start, 0, end - start) = sum_{start<x}(x-start) - sum_{end<x}(x-end)
    g = (i * edges - cs[i]) - (j * edges - ce[j])
    return np.diff(g)


def staffed_on_duty(scenario: Scenario, seed: int | None = None) -> pd.DataFrame:
    """Agents on shift and available per reporting interval and team (roster of replication 0).

    Parameters
    ----------
    scenario : Scenario
    seed : int, optional
        Run seed (default the scenario's); replication 0 uses
        :func:`sim.experiment.replication_seed` ``(seed, 0)``, as ``ccsim run`` does.

    Returns
    -------
    pandas.DataFrame
        One row per interval x team: ``interval``, ``team``, ``on_shift`` and ``available``
        (time-average numbers of agents: on a shift; on a shift and not in shrinkage).
    """
    from sim.compile import compile_scenario
    from sim.experiment import replication_seed
    from sim.roster import sample_roster

    model = compile_scenario(scenario)
    roster = sample_roster(scenario, model, replication_seed(
        scenario.seed if seed is None else int(seed), 0))
    n, interval_s = model.n_intervals, model.interval_s
    frames = []
    seg_team = model.agent_team[roster.seg_agent]
    shift_team = model.agent_team[roster.shift_agent]
    for t, team in enumerate(model.team_names):
        on_shift = _overlap_per_interval(roster.shift_start_s[shift_team == t],
                                         roster.shift_end_s[shift_team == t], interval_s, n)
        available = _overlap_per_interval(roster.seg_start_s[seg_team == t],
                                          roster.seg_end_s[seg_team == t], interval_s, n)
        frames.append(pd.DataFrame({"interval": np.arange(n), "team": team,
                                    "on_shift": on_shift / interval_s,
                                    "available": available / interval_s}))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- text reports


def _pct(v: float) -> str:
    return "-" if v != v else f"{100 * v:.1f}%"


def _secs(v: float) -> str:
    if v != v:
        return "-"
    return "unbounded" if math.isinf(v) else f"{v:.1f}s"


def _num(v: float) -> str:
    if v != v:
        return "-"
    return "unbounded" if math.isinf(v) else f"{v:.2f}"


def _dur(seconds: float) -> str:
    if math.isinf(seconds):
        return "unbounded"
    for unit, size in (("h", 3600.0), ("min", 60.0)):
        if seconds >= size and (seconds / size) == round(seconds / size, 2):
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def describe_targets(targets: StaffingTargets) -> str:
    """The targets in words, e.g. ``"service level >= 80% within 20s, ASA <= 20s"``."""
    parts = []
    if targets.service_level is not None:
        kind = {"service_level": "service level",
                "service_level_answered": "service level (of answered)",
                "service_level_excl_short_abandons": "service level (excl. short abandons)"}
        parts.append(f"{kind[targets.service_level_kpi]} >= {100 * targets.service_level:g}% "
                     f"within {_dur(targets.threshold_s)}")
    if targets.max_asa_s is not None:
        parts.append(f"ASA <= {_dur(targets.max_asa_s)}")
    if targets.max_abandon_rate is not None:
        parts.append(f"abandonment <= {100 * targets.max_abandon_rate:g}%")
    if targets.max_occupancy is not None:
        parts.append(f"occupancy <= {100 * targets.max_occupancy:g}%")
    return ", ".join(parts)


_MISSED_WORDS = {"service_level": "service level", "asa_s": "ASA",
                 "abandon_rate": "abandonment", "occupancy": "occupancy"}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    return ["  ".join(str(x).rjust(w) for x, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]


def _queue_name(patience_mean_s: float | None) -> str:
    if patience_mean_s is None:
        return "Erlang C (M/M/c, nobody abandons)"
    return f"Erlang A (M/M/c+M, mean patience {_dur(patience_mean_s)})"


def erlang_report(calls_per_hour: float, aht_s: float, targets: StaffingTargets, *,
                  patience_mean_s: float | None = None, shrinkage: float = 0.0,
                  hours_per_week: float = 168.0, paid_hours_per_fte_week: float = 40.0,
                  chats_per_hour: float = 0.0, emails_per_hour: float = 0.0,
                  chat_equiv: float = 0.6, email_equiv: float = 0.4) -> str:
    """The ``ccsim erlang`` calculator for one arrival rate, as text.

    Offered load, the minimal agents meeting every target, the measures there and at one
    agent fewer (with the targets it misses), and the FTE that keep that many agents on the
    floor for ``hours_per_week`` after ``shrinkage``. Chats and emails are converted to call
    equivalents by :func:`sim.erlang.blended_workload` and share the AHT of a call.

    The service-level column is measured at the targets' threshold, or at 20 s without one.

    Raises
    ------
    ValueError
        For inputs the formulas cannot take (no load, no target, ...), with one line.
    """
    rate_per_h = blended_workload(calls_per_hour, chats_per_hour, emails_per_hour,
                                  chat_equiv, email_equiv)
    if rate_per_h <= 0:
        raise ValueError("--calls-per-hour: the offered load is zero; give a positive rate")
    lam = rate_per_h / 3600.0
    a = lam * aht_s
    agents = required_agents(lam, aht_s, targets, patience_mean_s)
    threshold_s = targets.threshold_s if targets.threshold_s is not None else 20.0
    lines = [f"model           {_queue_name(patience_mean_s)}, steady state"]
    if chats_per_hour or emails_per_hour:
        lines.append(f"blended volume  {calls_per_hour:g} calls + {chat_equiv:g} x "
                     f"{chats_per_hour:g} chats + {email_equiv:g} x {emails_per_hour:g} "
                     f"emails = {rate_per_h:g} call equivalents/h")
    lines += [f"offered load    {rate_per_h:g}/h x AHT {_dur(aht_s)} = {a:.2f} Erlangs",
              f"targets         {describe_targets(targets)}",
              f"minimal agents  {agents}", ""]
    header = ["agents", "P(wait)", "ASA", f"SL {_dur(threshold_s)}", "abandon", "occupancy",
              "queue", ""]
    rows = []
    for c in (agents, agents - 1):
        if c < 1:
            rows.append([str(c), "-", "-", "-", "-", "-", "-", "nobody answers"])
            continue
        m = queue_measures(c, lam, aht_s, threshold_s, patience_mean_s)
        missed = targets.missed(m)
        note = "meets every target" if not missed else \
            "misses " + ", ".join(_MISSED_WORDS[k] for k in missed)
        if patience_mean_s is None and a >= c:
            note = f"unstable (load {a:.2f} >= {c} agents); " + note
        rows.append([str(c), _pct(m.p_wait), _secs(m.asa_s), _pct(m.service_level),
                     _pct(m.abandon_rate), _pct(m.occupancy), _num(m.mean_queue_len), note])
    lines += _table(header, rows)
    fte = fte_from_agents(agents, hours_per_week, paid_hours_per_fte_week, shrinkage)
    lines += ["", f"FTE             {agents} agents x {hours_per_week:g} h/week / "
                  f"({paid_hours_per_fte_week:g} h x (1 - {100 * shrinkage:g}% shrinkage)) "
                  f"= {fte:.1f} FTE"]
    return "\n".join(lines)


def profile_report(calls_per_day: float, weights, aht_s: float, targets: StaffingTargets, *,
                   patience_mean_s: float | None = None, shrinkage: float = 0.0,
                   paid_hours_per_fte_week: float = 40.0) -> str:
    """The ``ccsim erlang --calls-per-day N --profile ...`` calculator, as text.

    ``calls_per_day`` is spread over equal slices of the day in proportion to ``weights``;
    every slice is staffed by :func:`profile_requirements`; the day's agent-hours, times 7,
    give the weekly FTE after ``shrinkage`` (24/7 coverage, every day like this one).
    """
    weights = np.asarray(weights, dtype=float)
    slice_s = 86400.0 / weights.size
    arrivals = calls_per_day * weights / weights.sum()
    req = profile_requirements(arrivals, slice_s, aht_s, targets, patience_mean_s)
    threshold_s = targets.threshold_s if targets.threshold_s is not None else 20.0
    lines = [f"model           {_queue_name(patience_mean_s)}, steady state in each slice",
             f"demand          {calls_per_day:g} calls/day over {weights.size} slices of "
             f"{_dur(slice_s)}, AHT {_dur(aht_s)}",
             f"targets         {describe_targets(targets)}", ""]
    header = ["from", "calls", "per h", "Erlangs", "agents", "ASA", f"SL {_dur(threshold_s)}",
              "abandon", "occupancy"]
    rows = []
    for i, r in enumerate(req.itertuples()):
        t = int(i * slice_s)
        rows.append([f"{t // 3600:02d}:{t % 3600 // 60:02d}", f"{r.arrivals:.1f}",
                     f"{r.rate_per_h:.1f}", f"{r.load_erlangs:.2f}", str(r.agents),
                     _secs(r.asa_s), _pct(r.service_level), _pct(r.abandon_rate),
                     _pct(r.occupancy)])
    lines += _table(header, rows)
    agent_h = float((req["agents"] * slice_s / 3600.0).sum())
    work_h = float((req["load_erlangs"] * slice_s / 3600.0).sum())
    fte = fte_from_agent_hours(7.0 * agent_h, paid_hours_per_fte_week, shrinkage)
    lines += ["",
              f"agent-hours     {agent_h:g} h/day on the floor (peak {int(req['agents'].max())}"
              f" agents); workload {work_h:.1f} h/day, so {100 * work_h / agent_h:.1f}% "
              "occupancy on the day",
              f"FTE             {agent_h:g} h/day x 7 / ({paid_hours_per_fte_week:g} h x "
              f"(1 - {100 * shrinkage:g}% shrinkage)) = {fte:.1f} FTE (24/7)"]
    return "\n".join(lines)


def staff_report(scenario: Scenario, *, date: dt.date | None = None, by: str = "channel",
                 queueing: str = "auto", seed: int | None = None,
                 paid_hours_per_fte_week: float = 40.0) -> tuple[str, pd.DataFrame]:
    """The ``ccsim staff`` report: analytic requirement vs the scenario's agents on duty.

    Parameters
    ----------
    scenario : Scenario
    date : datetime.date, optional
        The day whose intervals are listed (default: the first day after the warm-up).
    by, queueing :
        As in :func:`interval_requirements`.
    seed : int, optional
        Seed of the roster (replication 0); default the scenario's.
    paid_hours_per_fte_week : float
        Paid hours per FTE and week [h].

    Returns
    -------
    text : str
    requirements : pandas.DataFrame
        The full :func:`interval_requirements` frame with the staffed columns
        ``available`` and ``on_shift`` (agents of teams serving a live channel).
    """
    from sim.compile import compile_scenario

    model = compile_scenario(scenario)
    req = interval_requirements(scenario, by=by, queueing=queueing)
    n_int, interval_s = model.n_intervals, model.interval_s
    per_day = int(round(86400.0 / interval_s))
    n_days = n_int // per_day
    if date is None:
        day = min(int(math.ceil(model.warmup_s / 86400.0 - 1e-9)), n_days - 1)
    else:
        day = (date - scenario.horizon.start).days
        if not 0 <= day < n_days:
            raise ValueError(f"--date: {date} is outside the horizon "
                             f"{scenario.horizon.start} to {scenario.horizon.end}")
    live = [c for c in model.channel_names
            if c in scenario.channels and scenario.channels[c].kind == "live"]
    live_teams = [t for t, team in scenario.teams.items() if set(team.channels) & set(live)]
    duty = staffed_on_duty(scenario, seed)
    duty = duty[duty.team.isin(live_teams)].groupby("interval")[["available", "on_shift"]].sum()
    need = req.groupby("interval")["agents"].sum().reindex(range(n_int), fill_value=0)
    by_channel = req.pivot_table(index="interval", columns="channel",
                                 values=["offered", "agents"], aggfunc="sum")

    shrink = float(req.attrs["shrinkage"])
    shown = scenario.horizon.start + dt.timedelta(days=day)
    goals = "; ".join(f"{c}: {describe_targets(channel_targets(scenario, c)[0]) or 'none'}"
                      for c in live)
    lines = [f"{scenario.name}: analytic staffing requirement per {_dur(interval_s)} interval",
             f"targets: {goals}",
             f"shrinkage {100 * shrink:.1f}% (the scenario's intended shrinkage); staffed "
             f"agents from the roster of replication 0, teams serving live channels "
             f"({', '.join(live_teams)})",
             "", f"{shown} ({shown:%a}; agents are time averages over each interval)"]
    header = ["time"]
    for c in live:
        header += [f"{c} offered", f"{c} need"]
    header += ["need", "available", "on shift", "gap"]
    rows = []
    for k in range(day * per_day, (day + 1) * per_day):
        t = int((k - day * per_day) * interval_s)
        row = [f"{t // 3600:02d}:{t % 3600 // 60:02d}"]
        for c in live:
            if ("agents", c) in by_channel.columns and k in by_channel.index:
                row += [f"{by_channel.loc[k, ('offered', c)]:.1f}",
                        f"{by_channel.loc[k, ('agents', c)]:.0f}"]
            else:
                row += ["-", "-"]
        avail = float(duty["available"].get(k, 0.0))
        row += [f"{need[k]:.0f}", f"{avail:.1f}",
                f"{float(duty['on_shift'].get(k, 0.0)):.1f}", f"{avail - need[k]:+.1f}"]
        rows.append(row)
    lines += _table(header, rows)

    fte = requirement_fte(req, paid_hours_per_fte_week)
    warm = int(math.ceil(model.warmup_s / interval_s - 1e-9))
    measured = np.arange(n_int) >= warm
    avail_all = duty["available"].reindex(range(n_int), fill_value=0.0).to_numpy()
    short = int(np.sum((avail_all < need.to_numpy() - 1e-9) & measured))
    lines += ["", "required over the horizon (each pool staffed on its own):"]
    if fte.empty:
        lines.append("  nothing: no live channel with a service-level or staffing target")
    for r in fte.itertuples():
        name = r.channel if r.queue == "all" else f"{r.channel}/{r.queue}"
        lines.append(f"  {name:<24} {r.agent_hours_per_week:8.1f} agent-h/week on the floor, "
                     f"peak {r.peak_agents:.0f} agents, {r.fte:6.1f} FTE at "
                     f"{paid_hours_per_fte_week:g} h")
    on_shift_h = float(duty["on_shift"].sum()) * interval_s / 3600.0
    weeks = n_int * interval_s / (7 * 86400.0)
    staffed_fte = on_shift_h / weeks / paid_hours_per_fte_week
    lines += [f"staffed: {on_shift_h / weeks:.1f} agent-h/week on shift = {staffed_fte:.1f} FTE "
              f"at {paid_hours_per_fte_week:g} h (teams serving live channels, incl. their "
              "deferred work)",
              f"intervals with fewer agents available than the analytic need: {short} of "
              f"{int(measured.sum())} after warm-up"]
    for note in req.attrs.get("notes", []):
        lines.append(f"note: {note}")
    lines += ["note: Erlang is wrong where there is chat concurrency, multi-skill pooling, "
              "priorities or deferred work; deferred channels are not in the requirement",
              f"note: {ANALYTIC_ONLY}"]
    req = req.merge(duty.reset_index(), on="interval", how="left")
    return "\n".join(lines), req


# --------------------------------------------------------------------------- verbs


#: ``ccsim erlang`` options. All are read as text and parsed by :func:`erlang_from_options`,
#: so that a bad value is reported on one line (exit code 2).
ERLANG_OPTIONS = (
    ("--calls-per-hour", "offered calls per hour"),
    ("--calls-per-day", "a day's calls, spread by --profile (instead of --calls-per-hour)"),
    ("--profile", "weights of equal slices of the day, e.g. 24 hourly weights '18,14,...'"),
    ("--aht", "mean handle time (talk + wrap-up), e.g. 5min or 330s"),
    ("--target", "service level and threshold, e.g. 80/20s"),
    ("--sl-kpi", "service-level definition: service_level (default), service_level_answered "
                 "or service_level_excl_short_abandons"),
    ("--asa", "ASA ceiling, e.g. 20s"),
    ("--abandon", "abandonment ceiling, e.g. 5%% (needs --patience)"),
    ("--occupancy-max", "occupancy ceiling, e.g. 85%%"),
    ("--patience", "mean caller patience, e.g. 3min: Erlang A (default Erlang C)"),
    ("--shrinkage", "share of paid time not on the floor, e.g. 0.3 or 30%% (default 0)"),
    ("--hours-per-week", "hours per week the agents are needed (default 168 = 24/7)"),
    ("--fte-hours", "paid hours of one FTE per week (default 40)"),
    ("--chats-per-hour", "chats per hour, as --chat-equiv calls each (default 0.6)"),
    ("--emails-per-hour", "emails per hour, as --email-equiv calls each (default 0.4)"),
    ("--chat-equiv", "call equivalents of one chat (default 0.6)"),
    ("--email-equiv", "call equivalents of one email (default 0.4)"),
)

#: ``ccsim staff`` options (text, parsed by :func:`staff_from_options`).
STAFF_OPTIONS = (
    ("--date", "the day to list, YYYY-MM-DD (default: the first day after the warm-up)"),
    ("--by", "one pool per live 'channel' (default) or per 'queue'"),
    ("--queueing", "auto (default: Erlang A where the channel has patience), erlang_c or "
                   "erlang_a"),
    ("--seed", "seed of the roster shown (replication 0; default the scenario's)"),
    ("--fte-hours", "paid hours of one FTE per week (default 40)"),
    ("--csv", "also write every interval's requirement and staffing to this CSV file"),
    ("--days", "with --simulate: days measured after a warm-up day, pooled per interval of "
               "the day (default 1)"),
    ("--replications", "with --simulate: replications per step, same seeds every step "
                       "(default 20)"),
    ("--confidence", "with --simulate: one-sided confidence of the per-interval KPI bound "
                     "(default 0.95)"),
    ("--max-iterations", "with --simulate: simulations at most (default 40)"),
    ("--workers", "with --simulate: local processes per simulation (default 1)"),
    ("--shift-lengths", "with --schedule: allowed shift lengths, e.g. 8.5h,6h,4h (default "
                        "each team's own)"),
    ("--start-step", "with --schedule: grid of shift start times, e.g. 30min (default the "
                     "interval)"),
    ("--write-staffed", "with --schedule: write the scenario with the scheduled shifts to "
                        "this YAML file (for ccsim run)"),
)

#: ``ccsim staff`` switches (``store_true``).
STAFF_SWITCHES = (
    ("--simulate", "correct the analytic requirement by simulation (common random numbers) "
                   "until every interval meets its targets"),
    ("--schedule", "shift schedules covering the requirement (integer program), FTE from "
                   "their paid hours"),
)


def _opt(options: dict, flag: str):
    value = options.get(flag.lstrip("-").replace("-", "_"))
    return None if value is None else str(value)


def erlang_from_options(options: dict) -> str:
    """Parse the ``ccsim erlang`` options (as from ``vars(args)``) and return its report.

    Raises
    ------
    ValueError
        One line naming the option at fault.
    """
    o = {flag: _opt(options, flag) for flag, _ in ERLANG_OPTIONS}
    if o["--aht"] is None:
        raise ValueError("--aht: give the mean handle time, e.g. --aht 5min")
    aht_s = parse_positive_duration(o["--aht"], "--aht")
    sl = threshold_s = None
    if o["--target"] is not None:
        sl, threshold_s = parse_service_target(o["--target"])
    sl_kpi = o["--sl-kpi"] or "service_level"
    if sl_kpi not in SERVICE_LEVEL_KPIS:
        raise ValueError(f"--sl-kpi: expected one of {', '.join(SERVICE_LEVEL_KPIS)}, "
                         f"got {sl_kpi!r}")
    asa = parse_positive_duration(o["--asa"], "--asa") if o["--asa"] is not None else None
    abandon = parse_fraction(o["--abandon"], "--abandon") if o["--abandon"] else None
    occupancy = parse_fraction(o["--occupancy-max"], "--occupancy-max") \
        if o["--occupancy-max"] else None
    if abandon == 0.0 or occupancy == 0.0:
        raise ValueError(f"--{'abandon' if abandon == 0.0 else 'occupancy-max'}: a ceiling of "
                         "0 cannot be met; give a positive share")
    patience = parse_positive_duration(o["--patience"], "--patience") \
        if o["--patience"] is not None else None
    if abandon is not None and patience is None:
        raise ValueError("--abandon: an abandonment target needs --patience (Erlang A); in "
                         "Erlang C nobody abandons")
    targets = StaffingTargets(service_level=sl, threshold_s=threshold_s, max_asa_s=asa,
                              max_abandon_rate=abandon, max_occupancy=occupancy,
                              service_level_kpi=sl_kpi)
    if targets.empty:
        raise ValueError("give at least one target: --target 80/20s, --asa 20s, --abandon 5% "
                         "or --occupancy-max 85%")
    shrinkage = parse_fraction(o["--shrinkage"], "--shrinkage") if o["--shrinkage"] else 0.0
    if shrinkage >= 1.0:
        raise ValueError("--shrinkage: must be below 100%")
    fte_hours = parse_rate(o["--fte-hours"] or "40", "--fte-hours")
    if fte_hours <= 0:
        raise ValueError("--fte-hours: must be above 0")
    hours = parse_rate(o["--hours-per-week"] or "168", "--hours-per-week")
    if not 0 < hours <= 168:
        raise ValueError(f"--hours-per-week: expected more than 0 and at most 168, got "
                         f"{o['--hours-per-week']!r}")
    per_hour, per_day = o["--calls-per-hour"], o["--calls-per-day"]
    if (per_hour is None) == (per_day is None):
        raise ValueError("give one of --calls-per-hour or --calls-per-day (with --profile)")
    if per_day is not None:
        if o["--profile"] is None:
            raise ValueError("--calls-per-day: needs --profile, the weights of the day's "
                             "slices (e.g. 24 hourly weights)")
        for flag in ("--chats-per-hour", "--emails-per-hour", "--hours-per-week"):
            if o[flag] is not None:
                raise ValueError(f"{flag}: only with --calls-per-hour (a --profile day covers "
                                 "24 hours, every day)")
        calls = parse_rate(per_day, "--calls-per-day")
        if calls <= 0:
            raise ValueError("--calls-per-day: the offered load is zero; give a positive "
                             "number")
        return profile_report(calls, parse_profile(o["--profile"]), aht_s, targets,
                              patience_mean_s=patience, shrinkage=shrinkage,
                              paid_hours_per_fte_week=fte_hours)
    if o["--profile"] is not None:
        raise ValueError("--profile: only with --calls-per-day")
    return erlang_report(
        parse_rate(per_hour, "--calls-per-hour"), aht_s, targets, patience_mean_s=patience,
        shrinkage=shrinkage, hours_per_week=hours, paid_hours_per_fte_week=fte_hours,
        chats_per_hour=parse_rate(o["--chats-per-hour"] or "0", "--chats-per-hour"),
        emails_per_hour=parse_rate(o["--emails-per-hour"] or "0", "--emails-per-hour"),
        chat_equiv=parse_rate(o["--chat-equiv"] or "0.6", "--chat-equiv"),
        email_equiv=parse_rate(o["--email-equiv"] or "0.4", "--email-equiv"))


def staff_from_options(scenario: Scenario, options: dict) -> str:
    """Parse the ``ccsim staff`` options and return its report (writing ``--csv`` if given).

    Raises
    ------
    ValueError
        One line naming the option at fault.
    """
    o = {flag: _opt(options, flag) for flag, _ in STAFF_OPTIONS}
    date = None
    if o["--date"] is not None:
        try:
            date = dt.date.fromisoformat(o["--date"].strip())
        except ValueError:
            raise ValueError(f"--date: expected YYYY-MM-DD, got {o['--date']!r}") from None
    by = o["--by"] or "channel"
    if by not in ("channel", "queue"):
        raise ValueError(f"--by: expected channel or queue, got {by!r}")
    queueing = o["--queueing"] or "auto"
    if queueing not in ("auto", "erlang_c", "erlang_a"):
        raise ValueError(f"--queueing: expected auto, erlang_c or erlang_a, got {queueing!r}")
    seed = None
    if o["--seed"] is not None:
        try:
            seed = int(o["--seed"])
        except ValueError:
            raise ValueError(f"--seed: expected a whole number, got {o['--seed']!r}") from None
    fte_hours = parse_rate(o["--fte-hours"] or "40", "--fte-hours")
    if fte_hours <= 0:
        raise ValueError("--fte-hours: must be above 0")
    simulate = bool(options.get("simulate"))
    schedule = bool(options.get("schedule")) or o["--write-staffed"] is not None
    if simulate or schedule:
        if by != "channel" or queueing != "auto":
            raise ValueError("--by and --queueing: only for the analytic report (without "
                             "--simulate or --schedule)")
        return _staff_search(scenario, o, date=date, seed=seed, fte_hours=fte_hours,
                             simulate=simulate, schedule=schedule,
                             progress=bool(options.get("progress")))
    search_only = [f for f in ("--days", "--replications", "--confidence", "--max-iterations",
                               "--workers", "--shift-lengths", "--start-step") if o[f]]
    if search_only:
        raise ValueError(f"{search_only[0]}: only with --simulate or --schedule")
    text, frame = staff_report(scenario, date=date, by=by, queueing=queueing, seed=seed,
                               paid_hours_per_fte_week=fte_hours)
    if o["--csv"]:
        frame.to_csv(o["--csv"], index=False)
        text += f"\nrequirements: {o['--csv']}"
    return text


# --------------------------------------------------------------------------- simulation search

#: Defaults of the simulation-corrected search (``ccsim staff --simulate``).
SEARCH_REPLICATIONS = 20
SEARCH_CONFIDENCE = 0.95
SEARCH_MAX_ITERATIONS = 40
SEARCH_DAYS = 1

#: Per-interval KPIs the search checks, their direction and the count that weights them
#: when the measured days of one replication are pooled.
_HIGHER = ("service_level", "service_level_answered", "service_level_excl_short_abandons")
_WEIGHT = {"service_level": "offered", "service_level_answered": "answered",
           "service_level_excl_short_abandons": "offered", "asa_s": "answered",
           "abandon_rate": "offered", "sla_compliance": "answered"}


@dataclass(frozen=True)
class _Check:
    """One target the search checks: ``channel``'s ``kpi`` (``min`` or ``max``) vs ``target``."""

    channel: str
    kpi: str
    higher: bool
    target: float
    per_interval: bool = True

    @property
    def label(self) -> str:
        sign = ">=" if self.higher else "<="
        return f"{self.channel} {self.kpi} {sign} {self.target:g}"


@dataclass
class SimulatedStaffing:
    """Result of :func:`simulated_requirements`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per interval of the typical day: ``interval`` (index in the day), ``time``
        (``HH:MM``), ``offered_<channel>`` (mean expected arrivals per measured day),
        ``erlang_<channel>`` and ``erlang`` (the analytic requirement, the largest over the
        measured days), ``initial_<team>`` (the analytic requirement split over the teams),
        ``sim_<team>`` and ``simulated`` (the simulation-corrected agents on the floor), and
        for every check ``<channel>:<kpi>`` (mean over replications) and
        ``<channel>:<kpi>:bound`` (its one-sided bound at ``confidence``), and ``met``.
    checks : list of _Check
    teams : list of str
        The teams whose staffing was searched (they serve a live channel with a target).
    counts : dict
        ``team -> int64[P]`` agents on the floor per interval of the day.
    converged : bool
        Every interval meets every target at the confidence and no agent can be removed.
    feasible : bool
        Every interval of the final staffing meets every target.
    iterations : int
        Simulations run (each of ``replications`` replications with the same seeds).
    history : list of (int, int, int)
        Per simulation: agent-intervals staffed, intervals x checks missed, 1 for a trial
        removal (0 otherwise).
    notes : list of str
    settings : dict
        date, days, replications, seed, confidence, z, max_iterations.
    search_scenario : Scenario
        The search window with the final staffing (no shrinkage): what was simulated last.
    """

    table: pd.DataFrame
    checks: list
    teams: list
    counts: dict
    converged: bool
    feasible: bool
    iterations: int
    history: list
    notes: list
    settings: dict
    search_scenario: Scenario


def _clock(seconds: float) -> str:
    t = int(round(seconds)) % 86400
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}"


def _validated(data: dict, like: Scenario) -> Scenario:
    """``data`` (JSON types) as a Scenario that resolves files like ``like`` does."""
    from pydantic import ValidationError

    try:
        s = Scenario.model_validate(data)
    except ValidationError as exc:  # a bug in the variant, not in the user's file
        raise CcsimError(f"internal error: the staffing variant is invalid: {exc}") from None
    s._base_dir = like._base_dir
    s._file = like._file
    return s


def position_shifts(counts, interval_s: float) -> list[dict]:
    """Shift entries (every day) that put ``counts[k]`` agents on duty in interval ``k``.

    Positions are stacked: the ``j``-th agent works the runs of intervals where
    ``counts > j`` (runs wrap around midnight: the same day every day). Identical runs are
    one entry with several agents.

    Parameters
    ----------
    counts : array_like of int, shape (P,)
        Agents per interval of a day (``P x interval_s == 1 day``).
    interval_s : float

    Returns
    -------
    list of dict
        ``{"start": "HH:MM", "length": seconds, "days": "daily", "agents": n}``.
    """
    n = np.asarray(counts, dtype=np.int64).ravel()
    p = n.size
    runs: dict[tuple[float, float], int] = {}
    for j in range(int(n.max(initial=0))):
        on = n > j
        if on.all():
            runs[(0.0, p * interval_s)] = runs.get((0.0, p * interval_s), 0) + 1
            continue
        k0 = int(np.flatnonzero(~on)[0])
        rolled = np.roll(on, -k0)
        d = np.diff(np.r_[0, rolled.astype(np.int8), 0])
        for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
            key = (((a + k0) % p) * interval_s, (b - a) * interval_s)
            runs[key] = runs.get(key, 0) + 1
    return [{"start": _clock(st), "length": float(length), "days": "daily", "agents": c}
            for (st, length), c in sorted(runs.items())]


def _search_window(scenario: Scenario, date: dt.date | None, days: int
                   ) -> tuple[dict, dt.date]:
    """The scenario on ``[date - 1 day, date + days)``, warm-up the first day, no shrinkage."""
    from sim.compile import compile_scenario

    model = compile_scenario(scenario)
    n_days = int(round(model.horizon_s / 86400.0))
    if date is None:
        day = min(int(math.ceil(model.warmup_s / 86400.0 - 1e-9)), n_days - 1)
        date = scenario.horizon.start + dt.timedelta(days=day)
    elif not scenario.horizon.start <= date < scenario.horizon.end:
        raise ValueError(f"--date: {date} is outside the horizon {scenario.horizon.start} to "
                         f"{scenario.horizon.end}")
    data = scenario.model_dump(mode="json")
    data["horizon"] = {"start": (date - dt.timedelta(days=1)).isoformat(), "days": days + 1,
                       "warmup": 86400.0, "interval": float(scenario.horizon.interval)}
    data["shrinkage"] = {}
    return data, date


def _with_counts(data: dict, counts: dict, interval_s: float, like: Scenario) -> Scenario:
    """The search window with each searched team on duty exactly ``counts[team]``."""
    data = copy.deepcopy(data)
    before = (dt.date.fromisoformat(data["horizon"]["start"]) - dt.timedelta(days=1)).isoformat()
    for team, n in counts.items():
        shifts = position_shifts(n, interval_s)
        if not shifts:
            # NOTE: a team must keep a shift; one dated before the window is never worked.
            shifts = [{"start": "00:00", "length": 3600.0, "days": "daily", "agents": 1,
                       "from_date": before, "until_date": before}]
        data["teams"][team]["headcount"] = None
        data["teams"][team]["shifts"] = shifts
    return _validated(data, like)


def _search_checks(scenario: Scenario, live: list[str], notes: list[str]) -> list[_Check]:
    """The targets the search checks: per interval on live channels, per day on deferred."""
    checks = []
    for ch in live:
        t, _ = channel_targets(scenario, ch)
        if t.service_level is not None:
            checks.append(_Check(ch, t.service_level_kpi, True, t.service_level))
        if t.max_asa_s is not None:
            checks.append(_Check(ch, "asa_s", False, t.max_asa_s))
        if t.max_abandon_rate is not None:
            if scenario.channels[ch].patience is None:
                notes.append(f"{ch}: abandon_rate target ignored (the channel has no patience)")
            else:
                checks.append(_Check(ch, "abandon_rate", False, t.max_abandon_rate))
        if t.max_occupancy is not None:
            notes.append(f"{ch}: the occupancy ceiling is not checked by the simulation (a "
                         "channel's occupancy is shared with the agents' other channels)")
    for ch, spec in scenario.channels.items():
        if spec.kind != "deferred":
            continue
        bound = scenario.targets.get(ch, {}).get("sla_compliance")
        target = bound.min if bound is not None and bound.min is not None else (
            spec.sla.target if spec.sla is not None else None)
        if target is not None and spec.sla is not None:
            checks.append(_Check(ch, "sla_compliance", True, float(target), per_interval=False))
    return checks


def _pooled(rows: pd.DataFrame, kpi: str, key: np.ndarray, size: int) -> np.ndarray:
    """Per ``key`` (replication x interval of the day): the KPI pooled over the days."""
    value = rows[kpi].to_numpy(dtype=float)
    weight = rows[_WEIGHT.get(kpi, "offered")].to_numpy(dtype=float)
    ok = np.isfinite(value) & (weight > 0)
    num = np.bincount(key[ok], value[ok] * weight[ok], minlength=size)
    den = np.bincount(key[ok], weight[ok], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _mean_bound(samples: np.ndarray, higher: bool, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean over replications (axis 0, NaN skipped) and its one-sided bound."""
    n = np.sum(np.isfinite(samples), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(samples, axis=0)
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev = np.where(np.isfinite(samples), samples - mean, 0.0)
        var = np.where(n > 1, (dev ** 2).sum(axis=0) / np.maximum(n - 1, 1), 0.0)
        se = np.sqrt(var / np.maximum(n, 1))
    return mean, (mean - z * se if higher else mean + z * se)


class _Evaluation:
    """KPIs of one simulated staffing against the checks."""

    def __init__(self, reps, checks: list[_Check], p: int, z: float, queue_team: dict):
        iv = pd.concat([r.intervals for r in reps], ignore_index=True)
        totals = pd.concat([r.totals for r in reps], ignore_index=True)
        n_rep = len(reps)
        self.mean, self.bound, self.ok = {}, {}, {}
        self.worst_team: dict = {}
        self.backlog: dict = {}
        channel = iv["channel"].astype(str).to_numpy()
        queue = iv["queue"].astype(str).to_numpy()
        k = iv["interval"].to_numpy() % p
        rep = iv["replication"].to_numpy()
        rep = np.searchsorted(np.unique(rep), rep)
        for c in checks:
            key_rows = (channel == c.channel) & (queue == "all")
            if c.per_interval:
                rows = iv[key_rows]
                key = rep[key_rows] * p + k[key_rows]
                samples = _pooled(rows, c.kpi, key, n_rep * p).reshape(n_rep, p)
                mean, bound = _mean_bound(samples, c.higher, z)
                # the team to add to: the primary team of the worst queue of the channel
                best = np.full(p, np.nan)
                team = np.full(p, None, dtype=object)
                for qname, tname in queue_team.items():
                    if not qname.startswith(c.channel + "/") or tname is None:
                        continue
                    sel = (channel == c.channel) & (queue == qname)
                    qs = _pooled(iv[sel], c.kpi, rep[sel] * p + k[sel], n_rep * p)
                    qmean, _ = _mean_bound(qs.reshape(n_rep, p), c.higher, z)
                    score = -qmean if c.higher else qmean
                    better = np.isfinite(score) & ~(score <= best)
                    best = np.where(better, score, best)
                    team[better] = tname
                self.worst_team[c] = team
            else:
                rows = totals[totals["channel"] == c.channel]
                value = rows[c.kpi].to_numpy(dtype=float)[:, None]
                mean, bound = _mean_bound(value, c.higher, z)
                # where to add for a deferred channel: the interval with the largest backlog
                self.backlog[c] = np.bincount(k[key_rows],
                                              iv.loc[key_rows, "backlog"].to_numpy(float),
                                              minlength=p)
            ok = ~(bound < c.target if c.higher else bound > c.target)  # NaN: nothing to miss
            self.mean[c], self.bound[c], self.ok[c] = mean, bound, ok
        self.p = p

    def missed(self) -> int:
        """Intervals x per-interval checks missed, plus the daily checks missed."""
        return int(sum(np.sum(~v) for v in self.ok.values()))

    def interval_ok(self) -> np.ndarray:
        ok = np.ones(self.p, dtype=bool)
        for c, v in self.ok.items():
            if c.per_interval:
                ok &= v
        return ok


def _team_shares(scenario: Scenario, model, teams: list[str]
                 ) -> tuple[dict, dict]:
    """Primary searched team of each compiled queue, and each channel's load share per team.

    The primary teams of a queue are the searched teams serving it with the best (lowest)
    skill priority; a queue's work is split equally between them.
    """
    queue_team: dict[str, str | None] = {}
    split: dict[str, dict[str, float]] = {}
    for qname, (ch, skill) in zip(model.queue_names, model.meta["queue_pairs"], strict=True):
        able = [t for t in teams if skill in scenario.teams[t].skills
                and ch in scenario.teams[t].channels]
        if not able:
            queue_team[qname] = None
            continue
        best = min(scenario.teams[t].skills[skill].priority for t in able)
        primary = [t for t in able if scenario.teams[t].skills[skill].priority == best]
        queue_team[qname] = primary[0]
        mix = _channel_mix(scenario, ch)
        if skill not in mix:
            continue
        share, work = mix[skill]
        for t in primary:
            split.setdefault(ch, {}).setdefault(t, 0.0)
            split[ch][t] += share * work / len(primary)
    shares = {ch: {t: w / sum(d.values()) for t, w in d.items()} for ch, d in split.items()
              if sum(d.values()) > 0}
    return queue_team, shares


def measured_shrinkage(scenario: Scenario, replications: int = 1, seed: int | None = None
                       ) -> dict[str, float]:
    """Shrinkage measured from sampled rosters of ``scenario``, by kind.

    The ``shrinkage`` KPI's definition (:mod:`sim.kpi`): shrinkage-event time over
    scheduled shift time inside the measured window ``[warmup, horizon)``, pooled over the
    rosters of replications ``0 .. replications-1`` (the seeds of ``ccsim run``).

    Returns
    -------
    dict
        ``total`` and one share per kind of :data:`sim.model.SHRINK_KINDS` (they add up to
        ``total``), ``breaks`` (break + lunch), ``other`` (meetings, training and absence as
        a share of shift time *outside* breaks: what the shift schedule inflates the
        requirement by) and ``shift_hours`` (per replication).
    """
    from sim.compile import compile_scenario
    from sim.experiment import replication_seed
    from sim.model import SHRINK_KINDS
    from sim.roster import sample_roster

    model = compile_scenario(scenario)
    seed = scenario.seed if seed is None else int(seed)
    lo, hi = model.warmup_s, model.horizon_s
    shift_s = 0.0
    by_kind = np.zeros(len(SHRINK_KINDS))
    for i in range(replications):
        r = sample_roster(scenario, model, replication_seed(seed, i))
        shift_s += float(np.clip(np.minimum(r.shift_end_s, hi) - np.maximum(r.shift_start_s, lo),
                                 0, None).sum())
        span = np.clip(np.minimum(r.shrink_end_s, hi) - np.maximum(r.shrink_start_s, lo), 0,
                       None)
        by_kind += np.bincount(r.shrink_kind.astype(np.intp), span, minlength=len(SHRINK_KINDS))
    out = {k: (float(v / shift_s) if shift_s > 0 else 0.0)
           for k, v in zip(SHRINK_KINDS, by_kind, strict=True)}
    out["total"] = float(sum(out[k] for k in SHRINK_KINDS))
    out["breaks"] = out["break"] + out["lunch"]
    rest = out["total"] - out["breaks"]
    out["other"] = rest / (1.0 - out["breaks"]) if out["breaks"] < 1.0 else 0.0
    out["shift_hours"] = shift_s / 3600.0 / max(replications, 1)
    return out


def simulated_requirements(scenario: Scenario, *, date: dt.date | None = None,
                           days: int = SEARCH_DAYS, replications: int = SEARCH_REPLICATIONS,
                           seed: int | None = None, confidence: float = SEARCH_CONFIDENCE,
                           max_iterations: int = SEARCH_MAX_ITERATIONS, workers: int = 1,
                           progress: bool = False) -> SimulatedStaffing:
    """Per-interval agents on the floor, per team, that meet the targets in simulation.

    The search runs on a *typical day*: the scenario on ``[date - 1 day, date + days)`` with
    the first day as warm-up, every searched team on duty exactly ``counts[team][k]`` agents
    in interval ``k`` of every day (:func:`position_shifts`), no shrinkage (the requirement is
    agents on the floor, like Erlang's), the other teams on their own shifts. It starts from
    the analytic requirement (:func:`interval_requirements` per live channel, split over the
    teams by the work of the queues each team serves first, plus the expected deferred work
    of the teams' deferred channels), then simulates ``replications`` replications with the
    same seeds every time (common random numbers, compiled kernel) and:

    1. where an interval misses a target (the one-sided ``confidence`` bound of the
       per-interval KPI over replications, the measured days of a replication pooled), adds
       one agent to the primary team of the channel's worst queue, or to another team of
       the channel that has had fewer agents added there (a deferred channel's daily SLA
       compliance: to the interval with the largest backlog); those agents are then kept;
    2. when every interval meets every target, tries one agent fewer in every other
       interval (odd and even intervals in turn, so a removal's neighbours are unchanged;
       one team per interval, in turn) and keeps the removals whose interval still meets
       its targets; a removal that fails is not tried again;

    until a staffing meets every target and no removal is left to try, or after
    ``max_iterations`` simulations. The result is the last staffing that met every target
    (else the last one simulated). Deterministic for a seed.

    Parameters
    ----------
    scenario : Scenario
    date : datetime.date, optional
        The (first) day searched; default the first day after the scenario's warm-up.
    days : int
        Days measured after the warm-up day (their KPIs are pooled per interval of the day).
    replications : int
        Replications per simulation (>= 2: the bound needs a standard error).
    seed : int, optional
        Default the scenario's.
    confidence : float
        One-sided confidence of the bound, in [0.5, 1).
    max_iterations : int
        Simulations at most; 0 simulates nothing and returns the analytic start (the Erlang
        requirement split over the teams) as ``counts``.
    workers : int
        Local processes per simulation.
    progress : bool
        A bar on standard error (when it is a terminal).

    Raises
    ------
    ValueError
        One line naming the option at fault.
    """
    from scipy.stats import norm

    from sim.compile import compile_scenario, rate_grid
    from sim.executors import progress_bar
    from sim.experiment import run_replications

    if isinstance(days, bool) or int(days) != days or not 1 <= days <= 28:
        raise ValueError(f"--days: expected a whole number of days from 1 to 28, got {days!r}")
    if isinstance(replications, bool) or int(replications) != replications or replications < 2:
        raise ValueError(f"--replications: expected a whole number >= 2 (the bound needs a "
                         f"standard error), got {replications!r}")
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"--confidence: expected a share in [0.5, 1), got {confidence!r}")
    if isinstance(max_iterations, bool) or int(max_iterations) != max_iterations \
            or max_iterations < 0:
        raise ValueError(f"--max-iterations: expected a whole number >= 1, got "
                         f"{max_iterations!r}")
    seed = scenario.seed if seed is None else int(seed)
    z = float(norm.ppf(confidence))
    interval_s = float(scenario.horizon.interval)
    p = int(round(86400.0 / interval_s))

    data, date = _search_window(scenario, date, int(days))
    window = _validated(data, scenario)
    model = compile_scenario(window)
    req = interval_requirements(window, by="channel", shrinkage=0.0)
    notes = list(req.attrs.get("notes", []))
    live = list(dict.fromkeys(req["channel"])) if not req.empty else []
    teams = [t for t, team in scenario.teams.items() if set(team.channels) & set(live)]
    checks = _search_checks(scenario, live, notes)
    if not teams or not any(c.per_interval for c in checks):
        raise CcsimError(f"{scenario.name}: no live channel with a service-level, ASA or "
                         "abandonment target is served by a team; nothing to staff for")
    queue_team, shares = _team_shares(window, model, teams)
    others = [t for t in scenario.teams if t not in teams]
    if others:
        notes.append(f"teams kept on their own shifts (no live channel with a target): "
                     f"{', '.join(others)}")

    # analytic start: Erlang per live channel, split over teams, + expected deferred work
    measured_days = slice(p, p * (days + 1))
    erlang = {}
    for ch in live:
        a = req[req.channel == ch].sort_values("interval")["agents"].to_numpy(float)
        erlang[ch] = a[measured_days].reshape(days, p).max(axis=0)
    offered = {}
    grid = rate_grid(window, model)
    per_interval = int(round(interval_s / grid.step_s))
    load = {t: np.zeros(p) for t in teams}
    for c, ch in enumerate(model.channel_names):
        spec = window.channels.get(ch)  # None: a channel the compiler adds (tasks)
        if spec is None:
            continue
        arrivals = (grid.expected[:, c] * grid.open_[:, c]).reshape(-1, per_interval).sum(1)
        offered[ch] = arrivals[measured_days].reshape(days, p).mean(axis=0)
        for t, share in shares.get(ch, {}).items():
            if spec.kind == "live" and ch in erlang:
                load[t] += share * erlang[ch]
            elif spec.kind == "deferred":
                mix = _channel_mix(window, ch)
                work_s = sum(s * w for s, w in mix.values())
                daily = arrivals[measured_days].reshape(days, p).max(axis=0)
                load[t] += share * daily * work_s / interval_s / spec.concurrency
    initial = {t: np.ceil(load[t] - 1e-9).astype(np.int64) for t in teams}

    counts = {t: v.copy() for t, v in initial.items()}
    locked = {t: np.zeros(p, dtype=bool) for t in teams}
    added = {t: np.zeros(p, dtype=np.int64) for t in teams}
    history: list[tuple[int, int, int]] = []
    best = None
    trial_no = 0
    bar = progress_bar(max_iterations * replications, progress, "staffing search")

    def simulate(c: dict) -> _Evaluation:
        scn = _with_counts(data, c, interval_s, scenario)
        reps = run_replications(scn, replications, seed, "kernel", workers=workers,
                                model=compile_scenario(scn))
        bar.update(replications)
        return _Evaluation(reps, checks, p, z, queue_team)

    iterations = 0
    converged = False
    try:
        ev = None
        while iterations < max_iterations:
            ev = simulate(counts)
            iterations += 1
            staffed = int(sum(v.sum() for v in counts.values()))
            history.append((staffed, ev.missed(), 0))
            if ev.missed():
                add: set[tuple[str, int]] = set()  # one agent per team and interval per step
                for c in checks:
                    miss = ~np.broadcast_to(ev.ok[c], (p,))
                    if not miss.any():
                        continue
                    if c.per_interval:
                        for k in np.flatnonzero(miss):
                            # the first-choice team of the worst queue, unless another team
                            # of the channel has had fewer agents added here (adding to one
                            # team may not help: its agents may go to other work)
                            pref = ev.worst_team[c][k] or _first_team(window, c.channel, teams)
                            able = [t for t in teams if c.channel in window.teams[t].channels]
                            t = min(able, key=lambda t: (added[t][k], t != pref))
                            add.add((t, int(k)))
                    else:
                        t = _first_team(window, c.channel, teams)
                        if t is None:
                            notes.append(f"{c.channel}: {c.kpi} misses its target but no "
                                         "searched team serves the channel")
                            continue
                        add.add((t, int(np.argmax(ev.backlog[c]))))
                for t, k in sorted(add):
                    counts[t][k] += 1
                    added[t][k] += 1
                    locked[t][k] = True
                continue
            best = ({t: v.copy() for t, v in counts.items()}, ev)
            # trial: one agent fewer in every other interval (their neighbours unchanged, so
            # a miss is the removal's own), one team per interval in turn
            tried = []
            for phase in (trial_no % 2, 1 - trial_no % 2):
                for k in range(phase, p, 2):
                    free = [t for t in teams if counts[t][k] > 0 and not locked[t][k]]
                    if free:
                        tried.append((free[(trial_no // 2) % len(free)], k))
                if tried:
                    break
            trial = {t: v.copy() for t, v in counts.items()}
            for t, k in tried:
                trial[t][k] -= 1
            trial_no += 1
            if not tried:
                converged = True
                break
            if iterations >= max_iterations:
                break
            tev = simulate(trial)
            iterations += 1
            history.append((int(sum(v.sum() for v in trial.values())), tev.missed(), 1))
            # NOTE: a deferred channel's daily target is not attributable to one removal; if
            # the removals kept break it, the next step adds where its backlog peaks.
            ok = tev.interval_ok()
            for t, k in tried:
                if ok[k]:
                    counts[t][k] -= 1
                else:
                    locked[t][k] = True
    finally:
        if hasattr(bar, "total"):  # a tqdm bar: the search may stop before its cap
            bar.total = bar.n
            bar.refresh()
        bar.close()

    feasible = best is not None
    final, ev = (best[0], best[1]) if feasible else (counts, ev)
    simulated = ev is not None
    table = pd.DataFrame({"interval": np.arange(p),
                          "time": [_clock(k * interval_s) for k in range(p)]})
    for ch in model.channel_names:
        if ch in live or (ch in window.channels and window.channels[ch].kind == "deferred"):
            table[f"offered_{ch}"] = offered[ch]
    for ch in live:
        table[f"erlang_{ch}"] = erlang[ch].astype(np.int64)
    table["erlang"] = sum(erlang[ch] for ch in live).astype(np.int64)
    for t in teams:
        table[f"initial_{t}"] = initial[t]
    if not simulated:
        notes.append("not simulated: the counts are the analytic requirement split over the "
                     "teams")
        settings = {"date": date, "days": int(days), "replications": 0, "seed": seed,
                    "confidence": float(confidence), "z": z, "max_iterations": 0}
        return SimulatedStaffing(table, checks, teams, final, False, False, 0, history, notes,
                                 settings, _with_counts(data, final, interval_s, scenario))
    for t in teams:
        table[f"sim_{t}"] = final[t]
    table["simulated"] = sum(final[t] for t in teams)
    met = np.ones(p, dtype=bool)
    for c in checks:
        if c.per_interval:
            table[f"{c.channel}:{c.kpi}"] = ev.mean[c]
            table[f"{c.channel}:{c.kpi}:bound"] = ev.bound[c]
            met &= ev.ok[c]
        else:
            met &= bool(np.all(ev.ok[c]))
            notes.append(f"{c.channel}: sla_compliance over the day {ev.mean[c][0]:.3f} "
                         f"(bound {ev.bound[c][0]:.3f}, target {c.target:g})")
    table["met"] = met
    if not feasible and simulated:
        notes.append(f"no staffing met every target within {max_iterations} simulations; "
                     "the last one is shown (raise --max-iterations)")
    elif not converged:
        notes.append(f"stopped after {max_iterations} simulations with removals left to try: "
                     "the staffing meets every target but may not be minimal")
    settings = {"date": date, "days": int(days), "replications": int(replications),
                "seed": seed, "confidence": float(confidence), "z": z,
                "max_iterations": int(max_iterations)}
    return SimulatedStaffing(table, checks, teams, final, converged, feasible, iterations,
                             history, notes, settings,
                             _with_counts(data, final, interval_s, scenario))


def _first_team(scenario: Scenario, channel: str, teams: list[str]) -> str | None:
    for t in teams:
        if channel in scenario.teams[t].channels:
            return t
    return None


def schedule_teams(scenario: Scenario, result: SimulatedStaffing, shrink: dict, *,
                   lengths_s=None, start_step_s: float | None = None) -> dict:
    """Shift schedules (:func:`sim.schedule.solve_schedule`) covering ``result.counts``.

    Parameters
    ----------
    scenario : Scenario
    result : SimulatedStaffing
        Its ``counts`` (agents on the floor per interval of the day) per team.
    shrink : dict
        :func:`measured_shrinkage`: ``other`` inflates the requirement.
    lengths_s : iterable of float, optional
        Allowed shift lengths; default each team's own shift lengths (8 h for a headcount
        team).
    start_step_s : float, optional
        Grid of start times; default the reporting interval.

    Returns
    -------
    dict
        ``team -> Schedule``. Breaks and lunch are the scenario's ``shrinkage`` ones.
    """
    from sim.schedule import shift_templates, solve_schedule

    interval_s = float(scenario.horizon.interval)
    step = interval_s if start_step_s is None else float(start_step_s)
    sh = scenario.shrinkage
    breaks = [(b.after, b.length) for b in (*sh.breaks, *([sh.lunch] if sh.lunch else []))]
    out = {}
    for team in result.teams:
        spec = scenario.teams[team]
        lengths = lengths_s if lengths_s is not None else (
            sorted({s.length for s in spec.shifts}) if spec.shifts else [8 * 3600.0])
        templates = shift_templates(lengths, step, breaks)
        out[team] = solve_schedule(result.counts[team], templates, interval_s,
                                   other_shrinkage=float(shrink["other"]),
                                   cost_per_hour=spec.cost_per_hour or 1.0)
    return out


def _bound_text(c: _Check, mean: float, bound: float) -> str:
    if mean != mean:
        return "-"
    if c.kpi == "asa_s":
        return f"{bound:.0f}s"
    return f"{100 * bound:.0f}%"


def simulated_report(scenario: Scenario, result: SimulatedStaffing, shrink: dict, *,
                     paid_hours_per_fte_week: float = 40.0, schedules: dict | None = None,
                     staffed_path: str | None = None, staffed_shrink: dict | None = None
                     ) -> str:
    """The ``ccsim staff --simulate`` / ``--schedule`` report, as text."""
    st = result.settings
    t = result.table
    interval_s = float(scenario.horizon.interval)
    interval_h = interval_s / 3600.0
    simulated = "simulated" in t.columns
    live = [c[len("erlang_"):] for c in t.columns if c.startswith("erlang_")]
    first = st["date"]
    last = first + dt.timedelta(days=st["days"] - 1)
    span = f"{first} ({first:%a})" if st["days"] == 1 else f"{first} to {last}"
    lines = [f"{scenario.name}: staffing requirement per {_dur(interval_s)} interval of a "
             f"typical day, {span}",
             "targets: " + ("; ".join(c.label for c in result.checks) or "none")]
    if simulated:
        lines.append(
            f"simulated: {st['replications']} replications per step with the same seeds "
            f"(seed {st['seed']}, compiled kernel), the day before as warm-up, agents on duty "
            f"exactly as listed, no shrinkage; a target is met when the one-sided "
            f"{100 * st['confidence']:g}% bound (mean -/+ {st['z']:.3f} se) meets it")
        state = ("converged" if result.converged else
                 "meets every target, not proven minimal" if result.feasible else
                 "DOES NOT meet every target")
        lines.append(f"search: {result.iterations} simulations, {state}")
    else:
        lines.append("not simulated: the analytic requirement split over the teams "
                     "(add --simulate for the simulation-corrected one)")
    lines.append("")
    header = ["time"] + [f"{c} offered" for c in live] + ["Erlang"]
    if simulated:
        header += [f"sim {team}" for team in result.teams] + ["simulated"]
        header += [f"{c.channel} {c.kpi}" for c in result.checks if c.per_interval] + ["met"]
    else:
        header += [f"need {team}" for team in result.teams]
    rows = []
    for r in t.itertuples(index=False):
        d = r._asdict()
        row = [d["time"]] + [f"{t.at[r.interval, f'offered_{c}']:.1f}" for c in live]
        row.append(str(int(t.at[r.interval, "erlang"])))
        if simulated:
            row += [str(int(t.at[r.interval, f"sim_{team}"])) for team in result.teams]
            row.append(str(int(t.at[r.interval, "simulated"])))
            for c in result.checks:
                if c.per_interval:
                    row.append(_bound_text(c, t.at[r.interval, f"{c.channel}:{c.kpi}"],
                                           t.at[r.interval, f"{c.channel}:{c.kpi}:bound"]))
            row.append("yes" if t.at[r.interval, "met"] else "NO")
        else:
            row += [str(int(t.at[r.interval, f"initial_{team}"])) for team in result.teams]
        rows.append(row)
    lines += _table(header, rows)
    if simulated:
        lines.append("(KPI columns: the one-sided bound; the mean is in --csv)")

    total = shrink["total"]
    erlang_h = float(t["erlang"].sum()) * interval_h
    need_h = float(sum(result.counts[team].sum() for team in result.teams)) * interval_h
    fte = fte_from_agent_hours(7.0 * need_h, paid_hours_per_fte_week, total)
    per_team = ", ".join(f"{team} {result.counts[team].sum() * interval_h:g}"
                         for team in result.teams)
    lines += ["", f"shrinkage measured from the scenario's rosters: {100 * total:.1f}% of shift "
                  f"time (breaks and lunch {100 * shrink['breaks']:.1f}%, meetings "
                  f"{100 * shrink['meeting']:.1f}%, training {100 * shrink['training']:.1f}%, "
                  f"absence {100 * shrink['absence']:.1f}%)",
              f"Erlang          {erlang_h:g} agent-h/day on the floor = "
              f"{fte_from_agent_hours(7.0 * erlang_h, paid_hours_per_fte_week, total):.1f} "
              f"FTE (every pool on its own)",
              f"{'simulated' if simulated else 'analytic split':<15} {need_h:g} agent-h/day on "
              f"the floor ({per_team})"
              f" = {need_h:g} x 7 / ({paid_hours_per_fte_week:g} h x (1 - {100 * total:.1f}%)) "
              f"= {fte:.1f} FTE"]
    if schedules:
        lines += ["", f"shift schedules (scipy.optimize.milp: fewest paid hours covering the "
                      f"requirement / (1 - {100 * shrink['other']:.1f}% meetings, training and "
                      f"absence) with the scenario's breaks; the same day every day):"]
        paid = 0.0
        for team, sched in schedules.items():
            paid += sched.paid_hours
            shifts = ", ".join(f"{s['agents']} x {s['start']}+{s['length'] / 3600:g}h"
                               for s in sched.shifts())
            lines.append(f"  {team:<16} {sched.paid_hours:g} paid h/day "
                         f"({7 * sched.paid_hours / paid_hours_per_fte_week:.1f} FTE): {shifts}")
        lines.append(f"  {'all':<16} {paid:g} paid h/day = "
                     f"{7 * paid / paid_hours_per_fte_week:.1f} FTE at "
                     f"{paid_hours_per_fte_week:g} h/week")
    if staffed_path:
        lines.append(f"staffed scenario: {staffed_path} (check it: ccsim run {staffed_path})")
        if staffed_shrink is not None:
            lines.append(f"  its shrinkage, measured from its rosters: "
                         f"{100 * staffed_shrink['total']:.1f}%")
    for note in result.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _whole(text: str | None, name: str, default: int, low: int) -> int:
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {text!r}") from None
    if value < low:
        raise ValueError(f"{name}: expected a whole number >= {low}, got {text!r}")
    return value


def _staff_search(scenario: Scenario, o: dict, *, date, seed, fte_hours: float,
                  simulate: bool, schedule: bool, progress: bool) -> str:
    """``ccsim staff --simulate`` and/or ``--schedule`` (options already split by flag)."""
    days = _whole(o["--days"], "--days", SEARCH_DAYS, 1)
    reps = _whole(o["--replications"], "--replications", SEARCH_REPLICATIONS, 2)
    iters = _whole(o["--max-iterations"], "--max-iterations", SEARCH_MAX_ITERATIONS, 1)
    workers = _whole(o["--workers"], "--workers", 1, 1)
    confidence = SEARCH_CONFIDENCE
    if o["--confidence"] is not None:
        confidence = parse_fraction(o["--confidence"], "--confidence")
    if not simulate:
        for flag in ("--days", "--replications", "--confidence", "--max-iterations",
                     "--workers"):
            if o[flag] is not None:
                raise ValueError(f"{flag}: only with --simulate")
    if not schedule:
        for flag in ("--shift-lengths", "--start-step"):
            if o[flag] is not None:
                raise ValueError(f"{flag}: only with --schedule")
    lengths = None
    if o["--shift-lengths"] is not None:
        lengths = [parse_positive_duration(x, "--shift-lengths")
                   for x in o["--shift-lengths"].split(",") if x.strip()]
    step = parse_positive_duration(o["--start-step"], "--start-step") \
        if o["--start-step"] is not None else None
    result = simulated_requirements(scenario, date=date, days=days, replications=reps,
                                    seed=seed, confidence=confidence,
                                    max_iterations=iters if simulate else 0, workers=workers,
                                    progress=progress)
    shrink = measured_shrinkage(scenario, replications=reps if simulate else 4, seed=seed)
    schedules = staffed_shrink = path = None
    if schedule:
        from sim.schedule import staffed_scenario, write_staffed_scenario

        schedules = schedule_teams(scenario, result, shrink, lengths_s=lengths,
                                   start_step_s=step)
        shifts = {team: sched.shifts() for team, sched in schedules.items()}
        path = o["--write-staffed"]
        if path:
            write_staffed_scenario(path, scenario, shifts, header=(
                f"Requirement of {result.settings['date']}"
                f" ({'simulated' if simulate else 'analytic'}), source {scenario._file}"))
        staffed_shrink = measured_shrinkage(staffed_scenario(scenario, shifts)[1],
                                            replications=4, seed=seed)
    text = simulated_report(scenario, result, shrink, paid_hours_per_fte_week=fte_hours,
                            schedules=schedules, staffed_path=path,
                            staffed_shrink=staffed_shrink)
    if o["--csv"]:
        try:
            result.table.to_csv(o["--csv"], index=False)
        except OSError as exc:
            raise CcsimError(f"cannot write {o['--csv']}: {exc.strerror}") from None
        text += f"\nrequirements: {o['--csv']}"
    return text
