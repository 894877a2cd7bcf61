"""``sample_roster``: shifts, shrinkage events and the availability they leave.

Shrinkage is modelled as events on each agent's timeline, never as a percentage cut of
headcount: timed breaks and lunch (jittered), weekly meetings and training at random times
inside the agent's shifts, and unplanned absence (a whole shift lost). The availability
segments of :class:`~sim.model.Roster` are the shifts minus those events. Teams given by
``headcount`` are on duty continuously and take no shrinkage (textbook staffing).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.model import SHRINK_KINDS, Model, Roster
from sim.scenario import Scenario
from sim.workload import stream

BREAK, LUNCH, MEETING, TRAINING, ABSENCE = range(len(SHRINK_KINDS))


def _shifts(s: Scenario, model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scheduled shifts (agent, start_s, end_s) clipped to the horizon, sorted by agent."""
    agents, starts, ends = [], [], []
    horizon_s = model.horizon_s
    n_days = int(round(horizon_s / 86400.0))
    dates = [s.horizon.start + dt.timedelta(days=d) for d in range(n_days)]
    # NOTE: the days of a shift line by a weekday table, not a pass over the dates per line
    weekday = np.array([date.weekday() for date in dates], dtype=np.intp)
    first_agent = 0
    for team in s.teams.values():
        if team.shifts is None:
            ids = np.arange(first_agent, first_agent + team.headcount)
            agents.append(ids)
            starts.append(np.zeros(ids.size))
            ends.append(np.full(ids.size, horizon_s))
            first_agent += team.headcount
            continue
        for sh in team.shifts:
            ids = np.arange(first_agent, first_agent + sh.agents)
            first_agent += sh.agents
            on = np.zeros(7, dtype=bool)
            on[list(sh.days)] = True
            worked = on[weekday]
            if sh.from_date is not None:
                worked &= np.array([date >= sh.from_date for date in dates], dtype=bool)
            if sh.until_date is not None:
                worked &= np.array([date <= sh.until_date for date in dates], dtype=bool)
            day_idx = np.flatnonzero(worked)
            st = day_idx * 86400.0 + sh.start
            en = np.minimum(st + sh.length, horizon_s)
            keep = st < horizon_s
            st, en = st[keep], en[keep]
            agents.append(np.repeat(ids, st.size))
            starts.append(np.tile(st, ids.size))
            ends.append(np.tile(en, ids.size))
    a = np.concatenate(agents).astype(np.int32) if agents else np.zeros(0, np.int32)
    st = np.concatenate(starts) if starts else np.zeros(0)
    en = np.concatenate(ends) if ends else np.zeros(0)
    # NOTE: the lines give their agents in order, each agent's shifts by start: then the
    # (stable) lexsort is the identity, and is skipped
    if (a[1:] < a[:-1]).any() or ((a[1:] == a[:-1]) & (st[1:] < st[:-1])).any():
        order = np.lexsort((st, a))
        a, st, en = a[order], st[order], en[order]
    return a, st, en


def _shift_based(s: Scenario, model: Model) -> np.ndarray:
    """Boolean per agent: True if the agent works shifts (and so takes shrinkage)."""
    flags = [np.full(team.n_agents, team.shifts is not None) for team in s.teams.values()]
    return np.concatenate(flags) if flags else np.zeros(0, dtype=bool)


def sample_roster(s: Scenario, model: Model, seed) -> Roster:
    """Sample one replication's shifts, shrinkage events and availability segments."""
    rng = stream(seed, "roster")
    sh_agent, sh_start, sh_end = _shifts(s, model)
    shrink = s.shrinkage
    with_shrinkage = _shift_based(s, model)[sh_agent]
    length = sh_end - sh_start

    ev_agent, ev_start, ev_end, ev_kind, ev_shift = [], [], [], [], []

    def add(mask, start, end, kind):
        keep = np.flatnonzero(mask & (end > start))
        ev_agent.append(sh_agent[keep])
        ev_start.append(start[keep])
        ev_end.append(end[keep])
        ev_kind.append(np.full(keep.size, kind, dtype=np.int8))
        ev_shift.append(keep)

    absent = with_shrinkage & (rng.random(sh_agent.size) < shrink.absence)
    add(absent, sh_start, sh_end, ABSENCE)
    present = with_shrinkage & ~absent
    timed = [(b, BREAK) for b in shrink.breaks] + ([(shrink.lunch, LUNCH)] if shrink.lunch else [])
    for spec, kind in timed:
        jitter = (rng.random(sh_agent.size) - 0.5) * spec.jitter
        start = np.clip(sh_start + spec.after + jitter, sh_start, sh_end - spec.length)
        add(present & (spec.after + spec.length <= length), start, start + spec.length, kind)
    for spec, kind in ((shrink.meetings, MEETING), (shrink.training, TRAINING)):
        if spec is None or spec.per_week == 0:
            continue
        # sessions per shift: per_week spread over the agent's mean shifts per week
        shifts_per_week = _shifts_per_week(sh_agent, model)
        p = spec.per_week / shifts_per_week[sh_agent]
        n_sessions = np.floor(p).astype(int) + (rng.random(sh_agent.size) < p % 1.0)
        for k in range(int(n_sessions.max(initial=0))):
            start = sh_start + rng.random(sh_agent.size) * np.maximum(length - spec.length, 0)
            add(present & (n_sessions > k) & (length >= spec.length), start,
                start + spec.length, kind)

    agent = np.concatenate(ev_agent) if ev_agent else np.zeros(0, np.int32)
    start = np.concatenate(ev_start) if ev_start else np.zeros(0)
    end = np.concatenate(ev_end) if ev_end else np.zeros(0)
    kind = np.concatenate(ev_kind) if ev_kind else np.zeros(0, np.int8)
    shift = np.concatenate(ev_shift) if ev_shift else np.zeros(0, np.intp)
    agent, start, end, kind, shift = _disjoint(agent, start, end, kind, shift)
    seg_agent, seg_start, seg_end = _availability(sh_agent, sh_start, sh_end, agent, start, end,
                                                  shift)
    # by start, then agent: np.lexsort((seg_agent, seg_start)) (NOTE: as two stable sorts,
    # the agent's a radix sort, ~2x faster; the segments come by agent, when that sort is
    # the identity and is skipped)
    if (seg_agent[1:] < seg_agent[:-1]).any():
        order = np.argsort(_small(seg_agent), kind="stable")
        order = order[np.argsort(seg_start[order], kind="stable")]
    else:
        order = np.argsort(seg_start, kind="stable")
    return Roster(
        seg_agent=seg_agent[order].astype(np.int32),
        seg_start_s=seg_start[order],
        seg_end_s=seg_end[order],
        shift_agent=sh_agent.astype(np.int32),
        shift_start_s=sh_start,
        shift_end_s=sh_end,
        shrink_agent=agent.astype(np.int32),
        shrink_start_s=start,
        shrink_end_s=end,
        shrink_kind=kind,
    )


def intended_shrinkage(s: Scenario) -> float:
    """Share of scheduled shift time the scenario's shrinkage is meant to take.

    Absence takes whole shifts; breaks and lunch take their length on every shift long
    enough to hold them; meetings and training take ``per_week x length`` per agent-week.
    Weighted by scheduled hours over every shift-based agent; 0 with no shift-based team.
    """
    sh = s.shrinkage
    timed = [*sh.breaks, *([sh.lunch] if sh.lunch else [])]
    weekly_s = sum(w.per_week * w.length for w in (sh.meetings, sh.training) if w)
    paid = lost = 0.0
    for team in s.teams.values():
        for line in team.shifts or ():
            shifts_per_week = len(line.days)
            per_week = line.agents * shifts_per_week * line.length
            on_shift = sum(b.length for b in timed if b.after + b.length <= line.length)
            present = line.agents * (shifts_per_week * on_shift + weekly_s)
            paid += per_week
            lost += sh.absence * per_week + (1.0 - sh.absence) * present
    return lost / paid if paid else 0.0


def _shifts_per_week(sh_agent: np.ndarray, model: Model) -> np.ndarray:
    weeks = max(model.horizon_s / (7 * 86400.0), 1.0 / 7)
    counts = np.bincount(sh_agent, minlength=model.n_agents)
    return np.maximum(counts / weeks, 1e-9)


def _small(agent: np.ndarray) -> np.ndarray:
    """Agent ids as int16 when they fit (numpy's stable argsort of int16 is a radix sort)."""
    if agent.size and 0 <= agent.min() and agent.max() < 1 << 15:
        return agent.astype(np.int16)
    return agent


def _disjoint(agent, start, end, kind, shift):
    """Trim shrinkage events of one agent so they do not overlap (earlier start wins).

    Returns the events sorted by agent, start and end, trimmed, and each one's ``shift``
    (carried along).
    """
    if agent.size == 0:
        return agent, start, end, kind, shift
    order = _by_agent_and_start(agent, start, end)
    if order is None:
        order = np.lexsort((end, start, agent))
    agent, start, end, kind, shift = (agent[order], start[order], end[order], kind[order],
                                      shift[order])
    # running max of previous ends within each agent
    offset = agent.astype(np.float64) * 1e9  # NOTE: horizons are < 1e9 s, so agents don't mix
    prev_end = np.maximum.accumulate(end + offset) - offset
    prev_end = np.concatenate([[-np.inf], prev_end[:-1]])
    prev_end[np.r_[True, agent[1:] != agent[:-1]]] = -np.inf
    start = np.maximum(start, prev_end)
    keep = end > start
    return agent[keep], start[keep], end[keep], kind[keep], shift[keep]


def _by_agent_and_start(agent, start, end):
    """``np.lexsort((end, start, agent))`` when no two events of an agent start together,
    else None.

    NOTE: a stable sort of ``agent * 2**k + start`` (``2**k`` above every time), ~2x faster
    than the lexsort of three keys: the events come as a few runs already in that order
    (each kind's by shift), which numpy's stable sort (timsort) merges. The key rounds, so
    the order is checked: when it sorts by agent, then strictly by start, it is the only
    such order, so the lexsort's (the end only breaks ties in (agent, start)).
    """
    span = 2.0 ** int(max(float(end.max()), 1.0)).bit_length()
    order = np.argsort(agent * span + start, kind="stable")
    a, st = agent[order], start[order]
    if (a[1:] < a[:-1]).any() or ((a[1:] == a[:-1]) & (st[1:] <= st[:-1])).any():
        return None
    return order


def _availability(sh_agent, sh_start, sh_end, ev_agent, ev_start, ev_end, ev_shift=None):
    """Shifts minus (disjoint, in-shift) shrinkage events, touching pieces merged.

    ``ev_shift``: each event's shift (row of the shifts), when known.
    NOTE: with it, and when each agent's shifts are disjoint and every event lies in its
    shift, ending in order (as sample_roster makes them; checked), the pieces between a
    shift's events are cut directly (:func:`_availability_by_shift`, ~5x faster); else by a
    sweep over every start and end (:func:`_availability_sweep`). Both give the same
    segments.
    """
    if ev_shift is not None:
        out = _availability_by_shift(sh_agent, sh_start, sh_end, ev_start, ev_end, ev_shift)
        if out is not None:
            return out
    return _availability_sweep(sh_agent, sh_start, sh_end, ev_agent, ev_start, ev_end)


def _availability_by_shift(sh_agent, sh_start, sh_end, ev_start, ev_end, ev_shift):
    """:func:`_availability` from each event's shift, or None when the shifts (sorted by
    agent and start) overlap within an agent, or the events (sorted by shift and start)
    leave their shift or do not end in order within it."""
    n_sh, n_ev = sh_start.size, ev_start.size
    same = sh_agent[1:] == sh_agent[:-1]
    if ((sh_agent[1:] < sh_agent[:-1]).any() or (same & (sh_start[1:] < sh_end[:-1])).any()
            or (sh_end < sh_start).any()):
        return None
    if n_ev and ((ev_shift[1:] < ev_shift[:-1]).any() or (ev_end <= ev_start).any()
                 or (ev_start < sh_start[ev_shift]).any() or (ev_end > sh_end[ev_shift]).any()
                 or ((ev_shift[1:] == ev_shift[:-1]) & (ev_end[1:] < ev_end[:-1])).any()):
        return None
    # shift i's pieces, in order: [start, 1st event's start), [1st event's end, 2nd's
    # start), ..., [last event's end, end): rows i + (events of the shifts before it) on.
    # Events may overlap a little (_disjoint's running maximum is rounded): a piece between
    # two overlapping events is empty, and dropped; as their ends come in order (checked),
    # the end of the previous event is the end of all those before it in the shift.
    counts = np.bincount(ev_shift, minlength=n_sh)
    first = np.arange(n_sh) + (np.cumsum(counts) - counts)
    lo, hi = np.empty(n_sh + n_ev), np.empty(n_sh + n_ev)
    lo[first] = sh_start
    hi[first + counts] = sh_end
    row = ev_shift + np.arange(n_ev)  # the piece before the event
    hi[row] = ev_start
    lo[row + 1] = ev_end
    agent = np.repeat(sh_agent, counts + 1)
    keep = hi > lo
    lo, hi, agent = lo[keep], hi[keep], agent[keep]
    # a run of touching pieces of an agent (across touching shifts) is one segment
    new = np.ones(lo.size, dtype=bool)
    new[1:] = (agent[1:] != agent[:-1]) | (lo[1:] != hi[:-1])
    last = np.ones(lo.size, dtype=bool)
    last[:-1] = new[1:]
    run_start, run_last = np.flatnonzero(new), np.flatnonzero(last)
    return agent[run_start].astype(np.int32), lo[run_start], hi[run_last]


def _availability_sweep(sh_agent, sh_start, sh_end, ev_agent, ev_start, ev_end):
    """:func:`_availability` by a sweep over every agent's shift and event bounds."""
    # sweep per agent: +shift at start, -shift at end, and shrink counters
    t = np.concatenate([sh_start, sh_end, ev_start, ev_end])
    a = np.concatenate([sh_agent, sh_agent, ev_agent, ev_agent])
    d_shift = np.concatenate([np.ones(sh_start.size), -np.ones(sh_end.size),
                              np.zeros(ev_start.size * 2)])
    d_shrink = np.concatenate([np.zeros(sh_start.size * 2), np.ones(ev_start.size),
                               -np.ones(ev_end.size)])
    # NOTE: by agent, then time, in any order within a same (agent, time): the points of
    # one are summed into one below (sums of +-1 and 0, exact in any order), so a quicksort
    # by time then a stable (radix) sort by agent does, ~2x faster than np.lexsort
    order = np.argsort(t)
    order = order[np.argsort(_small(a[order]), kind="stable")]
    t, a, d_shift, d_shrink = t[order], a[order], d_shift[order], d_shrink[order]
    # collapse same (agent, time) points
    new = np.r_[True, (a[1:] != a[:-1]) | (t[1:] != t[:-1])]
    idx = np.cumsum(new) - 1
    t, a = t[new], a[new]
    d_shift = np.bincount(idx, d_shift)
    d_shrink = np.bincount(idx, d_shrink)
    # cumulative levels; every agent's levels return to 0 after its last point
    on = (np.cumsum(d_shift) > 0.5) & (np.cumsum(d_shrink) < 0.5)
    # available on [t_i, t_{i+1}) when on after point i and point i+1 is the same agent's
    same_next = np.r_[a[1:] == a[:-1], False]
    avail = on & same_next
    # a run of available pieces i..j is one segment [t_i, t_{j+1}) (touching pieces merge)
    run_start = np.flatnonzero(avail & ~np.r_[False, avail[:-1]])
    run_last = np.flatnonzero(avail & ~np.r_[avail[1:], False])
    return a[run_start].astype(np.int32), t[run_start], t[run_last + 1]
