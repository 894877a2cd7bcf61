"""``compile_scenario``: a validated Scenario to the :class:`~sim.model.Model` arrays.

Also owns the demand *rate grid*: the expected number of arrivals per channel in each cell of
a grid on which every rate is constant (reporting intervals, hourly profiles and opening
hours all fall on its boundaries), so that sampling arrivals cell by cell is an exact
non-homogeneous Poisson process.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import math
from dataclasses import dataclass
from functools import reduce

import numpy as np

from sim.errors import Problem, ScenarioError
from sim.model import (
    ARRIVAL_POLICY_NAMES,
    CAPACITY_UNITS,
    PULL_POLICY_NAMES,
    Model,
)
from sim.scenario import MONTHS, WEEKDAYS, Scenario, parse_opening_hours, scenario_base_dir

NOT_ELIGIBLE = 2**30


def queue_key(channel: str, skill: str) -> str:
    """Name of the compiled queue serving ``skill`` on ``channel``."""
    return f"{channel}/{skill}"


def compile_scenario(s: Scenario) -> Model:
    """Compile a scenario to contiguous arrays (no randomness).

    Compiled queues are the (channel, skill queue) pairs that receive contacts, in channel
    order then skill order. Agents are numbered team by team, shift line by shift line.
    """
    channel_names = tuple(s.channels)
    ch_index = {c: i for i, c in enumerate(channel_names)}
    skills = s.queue_names
    pairs: list[tuple[str, str]] = []
    for ch in channel_names:
        for skill in skills:
            used = any(ct.queue == skill and ct.share.get(ch, 0) > 0
                       for ct in s.contact_types.values())
            redirected = any(
                c.voicemail_to == ch and any(ct.queue == skill and ct.share.get(src, 0) > 0
                                             for ct in s.contact_types.values())
                for src, c in s.channels.items() if c.when_closed == "voicemail")
            if used or redirected:
                pairs.append((ch, skill))
    queue_names = tuple(queue_key(ch, sk) for ch, sk in pairs)
    team_names = tuple(s.teams)
    n_q, n_t = len(pairs), len(team_names)

    time_factor = np.full((n_t, n_q), np.nan)
    proficiency = np.zeros((n_t, n_q))
    skill_priority = np.full((n_t, n_q), NOT_ELIGIBLE, dtype=np.int32)
    for t, team in enumerate(s.teams.values()):
        for q, (ch, sk) in enumerate(pairs):
            if sk in team.skills and ch in team.channels:
                skill = team.skills[sk]
                time_factor[t, q] = 1.0 / (team.speed * skill.proficiency)
                proficiency[t, q] = skill.proficiency
                skill_priority[t, q] = skill.priority
    unserved = [queue_names[q] for q in range(n_q) if np.isnan(time_factor[:, q]).all()]
    if unserved:
        raise ScenarioError([Problem(str(getattr(s, "_base_dir", "")) or s.name, None, "teams",
                                     f"no team serves queue '{u}'",
                                     "give a team that skill and channel") for u in unserved])

    agent_team = np.concatenate([np.full(team.n_agents, t, dtype=np.int32)
                                 for t, team in enumerate(s.teams.values())])
    rank = np.where(skill_priority[agent_team] < NOT_ELIGIBLE, skill_priority[agent_team], -1)

    # overflow: per compiled queue, the wait after which its contacts overflow, and the
    # agents of the extra teams (with the queue's channel, not already eligible) taking them
    overflow_after_s = np.full(n_q, np.inf)
    agent_overflow = np.zeros((len(agent_team), n_q), dtype=np.int8)
    team_index = {name: t for t, name in enumerate(team_names)}
    for rule in s.routing.overflow:
        for q, (ch, sk) in enumerate(pairs):
            if sk != rule.queue:
                continue
            overflow_after_s[q] = float(rule.after)
            for tname in rule.teams:
                t = team_index[tname]
                team = s.teams[tname]
                if ch not in team.channels or not np.isnan(time_factor[t, q]):
                    continue
                time_factor[t, q] = 1.0 / (team.speed * rule.proficiency)
                proficiency[t, q] = rule.proficiency
                agent_overflow[agent_team == t, q] = 1

    chans = list(s.channels.values())
    sla_s = np.array([c.sla.threshold if c.sla else np.nan for c in chans])
    sla_target = np.array([c.sla.target if c.sla and c.sla.target is not None else np.nan
                           for c in chans])
    return Model(
        horizon_s=s.horizon.horizon_s,
        warmup_s=float(s.horizon.warmup),
        interval_s=float(s.horizon.interval),
        start=s.horizon.start.isoformat(),
        channel_names=channel_names,
        queue_names=queue_names,
        team_names=team_names,
        channel_live=np.array([c.kind == "live" for c in chans], dtype=np.int8),
        channel_units=np.array([CAPACITY_UNITS // c.concurrency for c in chans], dtype=np.int32),
        channel_slowdown=np.array([c.slowdown for c in chans], dtype=np.float64),
        channel_sla_s=sla_s,
        channel_sla_target=sla_target,
        queue_channel=np.array([ch_index[ch] for ch, _ in pairs], dtype=np.int32),
        queue_priority=np.array([s.queue_priority(sk) for _, sk in pairs], dtype=np.int32),
        team_tier=np.array([t.tier for t in s.teams.values()], dtype=np.int32),
        team_cost_per_h=np.array([t.cost_per_hour for t in s.teams.values()], dtype=np.float64),
        time_factor=time_factor,
        proficiency=proficiency,
        skill_priority=skill_priority,
        agent_team=agent_team,
        agent_queue_rank=np.ascontiguousarray(rank, dtype=np.int32),
        arrival_policy=int(ARRIVAL_POLICY_NAMES[s.routing.on_arrival]),
        pull_policy=int(PULL_POLICY_NAMES[s.routing.on_free]),
        queue_weight=np.array([s.queues[sk].weight if s.queues and sk in s.queues else 1.0
                               for _, sk in pairs], dtype=np.float64),
        reserve_for_live=int(s.routing.reserve_for_live),
        overflow_after_s=overflow_after_s,
        agent_overflow=agent_overflow,
        meta={"ctype_names": tuple(s.contact_types), "queue_pairs": tuple(pairs),
              "scenario_name": s.name},
    )


# --------------------------------------------------------------------------- demand grid


@dataclass(frozen=True)
class RateGrid:
    """Expected arrivals per grid cell and channel, before the random day factor.

    Attributes
    ----------
    step_s : float
        Cell length; rates are constant within a cell.
    expected : float64[n_cells, C]
        Expected arrivals in each cell.
    open_ : bool[n_cells, C]
        Whether the channel is open during the cell.
    day : int64[n_cells]
        Day index (from the horizon start) of each cell.
    """

    step_s: float
    expected: np.ndarray
    open_: np.ndarray
    day: np.ndarray


def _clock_points(s: Scenario) -> list[int]:
    pts = [int(s.horizon.interval), 3600]
    for ch in s.channels.values():
        for spans in parse_opening_hours(ch.hours):
            for o, c in spans:
                pts += [int(o), int(c)]
    return [p for p in pts if p > 0]


def rate_grid(s: Scenario, model: Model) -> RateGrid:
    """The demand of ``s`` as expected arrivals per constant-rate cell and channel."""
    step = float(reduce(math.gcd, _clock_points(s), 86400))
    per_day = int(round(86400.0 / step))
    n_days = int(round(model.horizon_s / 86400.0))
    n_cells = n_days * per_day
    n_ch = len(model.channel_names)
    cell_tod = (np.arange(per_day) * step)  # time of day of each cell start
    dates = [s.horizon.start + dt.timedelta(days=d) for d in range(n_days)]
    open_ = np.zeros((n_cells, n_ch), dtype=bool)
    for c, ch in enumerate(s.channels.values()):
        week = parse_opening_hours(ch.hours)
        day_open = np.zeros((7, per_day), dtype=bool)
        for wd in range(7):
            for o, cl in week[wd]:
                day_open[wd] |= (cell_tod >= o) & (cell_tod < cl)
        open_[:, c] = np.concatenate([day_open[d.weekday()] for d in dates]) if dates else []

    expected = np.zeros((n_cells, n_ch))
    d = s.demand
    if d.forecast_csv is not None:
        expected = _forecast(s, model, step, n_cells)
    else:
        volumes = d.daily or d.monthly or {}
        for c, ch in enumerate(model.channel_names):
            vol = volumes.get(ch, 0.0)
            if vol == 0:
                continue
            weights = None
            if d.intraday:
                weights = d.intraday.get(ch, d.intraday.get("default"))
            for k, date in enumerate(dates):
                base = vol if d.daily is not None else \
                    vol / calendar.monthrange(date.year, date.month)[1]
                factor = ((d.weekday or {}).get(WEEKDAYS[date.weekday()], 1.0)
                          * (d.month_factor or {}).get(MONTHS[date.month - 1], 1.0)
                          * (d.special_days or {}).get(date, 1.0))
                prof = _profile(weights, cell_tod, step, open_[k * per_day:(k + 1) * per_day, c])
                expected[k * per_day:(k + 1) * per_day, c] = base * factor * prof
    day = np.repeat(np.arange(n_days), per_day)
    return RateGrid(step_s=step, expected=expected, open_=open_, day=day)


def _profile(weights, cell_tod, step, open_today) -> np.ndarray:
    """Share of a day's volume in each cell: given weights, else flat over open hours."""
    if weights is None:
        mask = open_today if open_today.any() else np.ones_like(open_today)
        return mask / mask.sum()
    w = np.asarray(weights, dtype=float)
    width = 86400.0 / len(w)
    per_cell = w[(cell_tod // width).astype(int)] * (step / width)
    return per_cell / per_cell.sum()


def _forecast(s: Scenario, model: Model, step: float, n_cells: int) -> np.ndarray:
    """Expected arrivals from a CSV with columns ``start, channel, volume``."""
    path = scenario_base_dir(s) / s.demand.forecast_csv
    file = str(path)
    expected = np.zeros((n_cells, len(model.channel_names)))
    ch_index = {c: i for i, c in enumerate(model.channel_names)}
    start = dt.datetime.combine(s.horizon.start, dt.time())
    per_interval = int(round(model.interval_s / step))
    problems = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"start", "channel", "volume"} - set(reader.fieldnames or [])
            if missing:
                raise ScenarioError([Problem(file, 1, "", f"missing columns {sorted(missing)}",
                                             "columns: start, channel, volume")])
            for i, row in enumerate(reader, start=2):
                try:
                    t = (dt.datetime.fromisoformat(row["start"]) - start).total_seconds()
                    vol = float(row["volume"])
                except ValueError as exc:
                    problems.append(Problem(file, i, "", f"bad row: {exc}"))
                    continue
                if row["channel"] not in ch_index:
                    problems.append(Problem(file, i, "channel",
                                            f"unknown channel '{row['channel']}'"))
                    continue
                if vol < 0:
                    problems.append(Problem(file, i, "volume", "negative volume"))
                    continue
                k = int(round(t / model.interval_s))
                if not (0 <= t < model.horizon_s) or abs(t / model.interval_s - k) > 1e-9:
                    continue  # outside the horizon or off the interval grid: ignored
                cells = slice(k * per_interval, (k + 1) * per_interval)
                expected[cells, ch_index[row["channel"]]] += vol / per_interval
    except OSError as exc:
        raise ScenarioError([Problem(file, None, "demand.forecast_csv",
                                     f"cannot read: {exc.strerror}")]) from None
    if problems:
        raise ScenarioError(problems)
    return expected
