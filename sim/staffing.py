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

Nothing here simulates. The simulation-corrected search of ``ccsim staff`` (issue 6) is not
implemented yet, and the ``staff`` report says so.
"""

from __future__ import annotations

import datetime as dt
import math

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
ANALYTIC_ONLY = ("analytic only (steady-state Erlang per interval); simulation correction is "
                 "not implemented yet: check a plan with `ccsim run`")


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
        spec = scenario.channels[name]
        if spec.kind != "live":
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
    live = [c for c in model.channel_names if scenario.channels[c].kind == "live"]
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
    text, frame = staff_report(scenario, date=date, by=by, queueing=queueing, seed=seed,
                               paid_hours_per_fte_week=fte_hours)
    if o["--csv"]:
        frame.to_csv(o["--csv"], index=False)
        text += f"\nrequirements: {o['--csv']}"
    return text
