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
    SEVERITY_NAMES,
    JourneyModel,
    Model,
)
from sim.scenario import (
    MONTHS,
    WEEKDAYS,
    Channel,
    Scenario,
    escalation_tiers,
    parse_opening_hours,
    scenario_base_dir,
)

#: The deferred channel on which escalated work (tasks for tiers 2 and 3) is simulated.
ESCALATION_CHANNEL = "escalation"
TASK_CHANNEL_SPEC = Channel(kind="deferred")

NOT_ELIGIBLE = 2**30


def queue_key(channel: str, skill: str) -> str:
    """Name of the compiled queue serving ``skill`` on ``channel``."""
    return f"{channel}/{skill}"


def task_skill(tier: int, severity: str) -> str:
    """Skill (queue) name of the tasks of one tier and severity on the escalation channel."""
    return f"tier{tier}_{severity}"


def uses_journeys(s: Scenario) -> bool:
    """Whether any contact can have a follow-up (repeat, retrial, transfer, task, callback)."""
    return (any(ct.fcr < 1.0 or ct.repeat is not None or ct.escalation is not None
                or ct.refund is not None or ct.transfer is not None
                for ct in s.contact_types.values())
            or any(c.retrial is not None or c.when_closed == "callback"
                   for c in s.channels.values()))


def task_tiers(s: Scenario) -> tuple[int, ...]:
    """The tiers (2, 3) that receive escalated work."""
    return tuple(sorted(escalation_tiers(s.contact_types, s.escalation)))


def _choices(choice, default: str) -> list[str]:
    if choice is None:
        return [default]
    return list(choice) if isinstance(choice, dict) else [choice]


def channels_reached(s: Scenario) -> dict[str, set[str]]:
    """Per contact type, every channel its contacts can arrive on: its shares, voicemail and
    the channels of its repeats and retrials (to a fixed point)."""
    out = {}
    for name, ct in s.contact_types.items():
        reach = {ch for ch, share in ct.share.items() if share > 0}
        while True:
            more = set(reach)
            for ch in reach:
                spec = s.channels[ch]
                if spec.voicemail_to and (spec.when_closed == "voicemail" or (
                        spec.outages is not None and spec.outages.during == "voicemail")):
                    more.add(spec.voicemail_to)
                if ct.repeat is not None:
                    more.update(_choices(ct.repeat.channel, ch))
                if spec.retrial is not None and spec.retrial.probability > 0:
                    more.update(_choices(spec.retrial.channel, ch))
            if more == reach:
                break
            reach = more
        out[name] = reach
    return out


def open_periods(s: Scenario, channel_names, horizon_s: float):
    """Open periods ``[lo, hi)`` of every channel over the horizon (CSR arrays).

    Deferred channels, and live channels open 24/7, have one period ``[-inf, +inf)``.
    """
    n_days = int(round(horizon_s / 86400.0))
    ptr, lo, hi = [0], [], []
    for name in channel_names:
        spec = s.channels.get(name)
        if spec is None or spec.kind == "deferred" or spec.hours == "24/7":
            lo.append(-np.inf)
            hi.append(np.inf)
        else:
            week = parse_opening_hours(spec.hours)
            for d in range(n_days):
                date = s.horizon.start + dt.timedelta(days=d)
                for o, c in week[date.weekday()]:
                    a, b = d * 86400.0 + o, d * 86400.0 + c
                    if hi and len(lo) > ptr[-1] and hi[-1] >= a:  # touching: merge
                        hi[-1] = max(hi[-1], b)
                    else:
                        lo.append(a)
                        hi.append(b)
        ptr.append(len(lo))
    return (np.array(ptr, dtype=np.int64), np.array(lo, dtype=np.float64),
            np.array(hi, dtype=np.float64))


def _compile_journeys(s: Scenario, channel_names, queue_names, tiers) -> JourneyModel:
    """The journey rules of ``s`` as arrays (see ``JourneyModel``)."""
    types = list(s.contact_types.values())
    n_k, n_c, n_q = len(types), len(channel_names), len(queue_names)
    qindex = {name: q for q, name in enumerate(queue_names)}
    thr_escalate = np.zeros(n_k)
    thr_transfer = np.zeros(n_k)
    thr_unresolved = np.zeros(n_k)
    escalate_tier = np.full((n_k, len(SEVERITY_NAMES)), 2, dtype=np.int32)
    max_repeats = np.zeros(n_k, dtype=np.int32)
    transfer_queue = np.full((n_k, n_c), -1, dtype=np.int32)
    class_repeat = np.full((n_k, n_c), -1, dtype=np.int32)
    class_retrial = np.full((n_k, n_c), -1, dtype=np.int32)
    class_transfer = np.full((n_k, n_c), -1, dtype=np.int32)
    class_task = np.full(4, -1, dtype=np.int32)
    names: list[str] = []
    reach = channels_reached(s)

    def new_class(label: str) -> int:
        names.append(label)
        return len(names) - 1

    for k, (tname, ct) in enumerate(s.contact_types.items()):
        esc = ct.escalation.rate if ct.escalation is not None else 0.0
        tra = ct.transfer.probability if ct.transfer is not None else 0.0
        # NOTE: cumulative sums computed once here, so both engines only compare.
        thr_escalate[k] = esc
        thr_transfer[k] = esc + tra
        thr_unresolved[k] = esc + tra + (1.0 - ct.fcr)
        if ct.escalation is not None:
            escalate_tier[k] = [ct.escalation.tier_for(v) for v in SEVERITY_NAMES]
        if ct.repeat is not None:
            max_repeats[k] = ct.repeat.max_repeats
        for c, ch in enumerate(channel_names):
            if ch not in reach[tname]:
                continue
            if ct.repeat is not None and ct.repeat.max_repeats > 0:
                class_repeat[k, c] = new_class(f"repeat:{tname}:{ch}")
            spec = s.channels[ch]
            if spec.retrial is not None and spec.retrial.probability > 0:
                class_retrial[k, c] = new_class(f"retrial:{tname}:{ch}")
            if ct.transfer is not None and queue_key(ch, ct.transfer.to) in qindex:
                transfer_queue[k, c] = qindex[queue_key(ch, ct.transfer.to)]
                class_transfer[k, c] = new_class(f"transfer:{tname}:{ch}")
    p_retry = np.zeros(n_c)
    max_retrials = np.zeros(n_c, dtype=np.int32)
    for c, ch in enumerate(channel_names):
        spec = s.channels.get(ch)
        if spec is not None and spec.retrial is not None:
            p_retry[c] = spec.retrial.probability
            max_retrials[c] = spec.retrial.max_retrials
    tier_up = np.zeros(4)
    task_queue = np.full((4, len(SEVERITY_NAMES)), -1, dtype=np.int32)
    for t in tiers:
        class_task[t] = new_class(f"task:tier{t}")
        for v, sev in enumerate(SEVERITY_NAMES):
            task_queue[t, v] = qindex[queue_key(ESCALATION_CHANNEL, task_skill(t, sev))]
        if t == 2 and 3 in tiers and s.escalation is not None and 2 in s.escalation.tiers:
            tier_up[2] = s.escalation.tiers[2].escalate
    queue_tier = np.ones(n_q, dtype=np.int32)
    for t in tiers:
        queue_tier[task_queue[t]] = t
    horizon_s = s.horizon.horizon_s
    ptr, lo, hi = open_periods(s, channel_names, horizon_s)
    return JourneyModel(
        thr_escalate=thr_escalate, thr_transfer=thr_transfer, thr_unresolved=thr_unresolved,
        escalate_tier=escalate_tier, max_repeats=max_repeats, transfer_queue=transfer_queue,
        p_retry=p_retry, max_retrials=max_retrials, tier_up=tier_up, task_queue=task_queue,
        queue_tier=queue_tier, open_ptr=ptr, open_lo_s=lo, open_hi_s=hi,
        class_repeat=class_repeat, class_retrial=class_retrial, class_transfer=class_transfer,
        class_task=class_task, n_classes=len(names), class_names=tuple(names))


def compile_scenario(s: Scenario) -> Model:
    """Compile a scenario to contiguous arrays (no randomness).

    Compiled queues are the (channel, skill queue) pairs that receive contacts, in channel
    order then skill order. Agents are numbered team by team, shift line by shift line.
    """
    tiers = task_tiers(s)
    channel_names = tuple(s.channels) + ((ESCALATION_CHANNEL,) if tiers else ())
    ch_index = {c: i for i, c in enumerate(channel_names)}
    skills = s.queue_names
    reach = channels_reached(s)
    wanted = set()
    for name, ct in s.contact_types.items():
        for ch in reach[name]:
            wanted.add((ch, ct.queue))
            if ct.transfer is not None:
                wanted.add((ch, ct.transfer.to))
    pairs: list[tuple[str, str]] = [(ch, sk) for ch in s.channels for sk in skills
                                     if (ch, sk) in wanted]
    pairs += [(ESCALATION_CHANNEL, task_skill(t, sev)) for t in tiers for sev in SEVERITY_NAMES]
    queue_names = tuple(queue_key(ch, sk) for ch, sk in pairs)
    team_names = tuple(s.teams)
    n_q, n_t = len(pairs), len(team_names)

    time_factor = np.full((n_t, n_q), np.nan)
    proficiency = np.zeros((n_t, n_q))
    skill_priority = np.full((n_t, n_q), NOT_ELIGIBLE, dtype=np.int32)
    tier_team = {t: s.escalation.tiers[t].team for t in tiers}
    for t, (tname, team) in enumerate(s.teams.items()):
        for q, (ch, sk) in enumerate(pairs):
            if ch == ESCALATION_CHANNEL:
                if any(tier_team[tier] == tname and sk.startswith(f"tier{tier}_")
                       for tier in tiers):
                    time_factor[t, q] = 1.0 / team.speed
                    proficiency[t, q] = 1.0
                    skill_priority[t, q] = 0
            elif sk in team.skills and ch in team.channels:
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

    chans = list(s.channels.values()) + [TASK_CHANNEL_SPEC] * bool(tiers)
    sla_s = np.array([c.sla.threshold if c.sla else np.nan for c in chans])
    sla_target = np.array([c.sla.target if c.sla and c.sla.target is not None else np.nan
                           for c in chans])
    queue_priority = np.array([s.queue_priority(sk) if ch != ESCALATION_CHANNEL
                               else SEVERITY_NAMES.index(sk.split("_", 1)[1])
                               for ch, sk in pairs], dtype=np.int32)
    journeys = (_compile_journeys(s, channel_names, queue_names, tiers)
                if uses_journeys(s) else None)
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
        queue_priority=queue_priority,
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
        journeys=journeys,
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
    weekday = np.array([date.weekday() for date in dates], dtype=np.intp)
    # NOTE: a channel's opening (and so its flat profile) depends on the weekday only: it is
    # worked out per weekday and gathered onto the days, not per day (1825 days x channels
    # a CareConnect year; ~10 ms of each replication's sampler set-up)
    open_ = np.ones((n_days, per_day, n_ch), dtype=bool)  # the escalation channel: always open
    for c, ch in enumerate(s.channels.values()):
        week = parse_opening_hours(ch.hours)
        day_open = np.zeros((7, per_day), dtype=bool)
        for wd in range(7):
            for o, cl in week[wd]:
                day_open[wd] |= (cell_tod >= o) & (cell_tod < cl)
        open_[:, :, c] = day_open[weekday]

    expected = np.zeros((n_cells, n_ch))
    d = s.demand
    if d.forecast_csv is not None:
        expected = _forecast(s, model, step, n_cells)
    else:
        volumes = d.daily or d.monthly or {}
        # per day, the product of its weekday, month and special-day factors, and its
        # month's length (the same Python float arithmetic as per day and channel)
        factors = [(d.weekday or {}).get(WEEKDAYS[date.weekday()], 1.0)
                   * (d.month_factor or {}).get(MONTHS[date.month - 1], 1.0)
                   * (d.special_days or {}).get(date, 1.0) for date in dates]
        if d.daily is None:
            month_days = [calendar.monthrange(date.year, date.month)[1] for date in dates]
        expected = expected.reshape(n_days, per_day, n_ch)
        for c, ch in enumerate(model.channel_names):
            vol = volumes.get(ch, 0.0)
            if vol == 0:
                continue
            weights = None
            if d.intraday:
                weights = d.intraday.get(ch, d.intraday.get("default"))
            scale = np.array([(vol if d.daily is not None else vol / month_days[k]) * factor
                              for k, factor in enumerate(factors)], dtype=np.float64)
            # each day's profile: given weights, the same every day; flat over the open
            # hours, the same on every day of a weekday
            if weights is not None:
                prof = _profile(weights, cell_tod, step, None)[None, :]
            else:
                week_prof = np.zeros((7, per_day))
                for wd in range(7):
                    days_wd = np.flatnonzero(weekday == wd)
                    if days_wd.size:
                        week_prof[wd] = _profile(None, cell_tod, step, open_[days_wd[0], :, c])
                prof = week_prof[weekday]
            expected[:, :, c] = scale[:, None] * prof
        expected = expected.reshape(n_cells, n_ch)
    open_ = open_.reshape(n_cells, n_ch)
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
