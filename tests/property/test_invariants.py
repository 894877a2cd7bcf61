"""Invariants of the model on generated scenarios (SimPy reference engine and the kernel)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given

from sim.engines import simulate
from sim.kpi import measure
from sim.model import CAPACITY_UNITS, NO_AGENT, Outcome
from tests.strategies import prepare, seeds, small_scenarios

ENGINES = ["simpy", "kernel"]


@pytest.mark.parametrize("engine", ENGINES)
@given(scenario=small_scenarios(), seed=seeds())
def test_invariants(engine, scenario, seed):
    model, first, r = prepare(scenario, seed)
    out = simulate(model, first, r, engine=engine)
    w, o = _with_followups(model, first, out)
    answered = o.outcome == Outcome.ANSWERED
    abandoned = o.outcome == Outcome.ABANDONED
    lost = o.outcome == Outcome.LOST_CLOSED

    # lost exactly when the workload says closed (lost, or called back later by a
    # follow-up); nobody else is lost
    assert np.array_equal(lost, w.closed != 0)
    # waits >= 0, service takes the time the model says, served contacts have an agent
    assert (o.start_s[answered] >= w.arrival_s[answered]).all()
    assert (o.end_s[answered] >= o.start_s[answered]).all()
    assert (o.agent[answered] >= 0).all() and (o.agent[~answered] == NO_AGENT).all()
    assert np.isnan(o.start_s[~answered]).all()
    # abandonment happens at the patience deadline, inside the horizon, never for deferred
    assert (w.abandon_at_s[abandoned] < model.horizon_s).all()
    assert np.isfinite(w.abandon_at_s[abandoned]).all()
    # served contacts were served before they would have abandoned (ties go to service)
    assert (o.start_s[answered] <= w.abandon_at_s[answered]).all()
    # eligibility: the serving agent's team serves the contact's queue, or it is an overflow
    # agent of the queue and the contact started once it had waited the overflow delay
    eligible = model.agent_queue_rank[o.agent[answered], w.queue[answered]] >= 0
    overflow = model.agent_overflow[o.agent[answered], w.queue[answered]] == 1
    assert (eligible | overflow).all()
    q_ov = w.queue[answered][~eligible]
    assert (o.start_s[answered][~eligible]
            >= w.arrival_s[answered][~eligible] + model.overflow_after_s[q_ov]).all()

    # every start falls inside one of the agent's availability segments
    for c in np.flatnonzero(answered):
        a, t = o.agent[c], o.start_s[c]
        on = (r.seg_agent == a) & (r.seg_start_s <= t) & (t < r.seg_end_s)
        assert on.any(), f"contact {c} started at {t} by agent {a} while off duty"

    # capacity: at no instant does an agent hold more than CAPACITY_UNITS
    units = model.channel_units[w.channel[answered]]
    agents, starts, ends = o.agent[answered], o.start_s[answered], o.end_s[answered]
    for a in np.unique(agents):
        sel = agents == a
        t = np.concatenate([starts[sel], ends[sel]])
        d = np.concatenate([units[sel], -units[sel]])
        order = np.lexsort((d, t))  # at equal times, releases (negative) first
        assert np.cumsum(d[order]).max() <= CAPACITY_UNITS

    # conservation, through the KPI layer: offered = answered + abandoned + still waiting
    totals = measure(model, first, r, out).totals.set_index("channel")
    offered_in_window = (w.closed == 0) & (w.arrival_s >= model.warmup_s) & (
        w.arrival_s < model.horizon_s)
    waiting_end = offered_in_window & (o.outcome == Outcome.WAITING)
    for c, name in enumerate(model.channel_names):
        row = totals.loc[name]
        on_ch = w.channel == c
        assert row.offered == row.answered + row.abandoned + (waiting_end & on_ch).sum()
    assert totals.loc["all"].offered == offered_in_window.sum()


def _with_followups(model, w, o):
    """First contacts and follow-ups as one set of per-contact arrays (follow-ups last)."""
    f = o.followups
    if f is None:
        return w, o
    n = f.n
    ww = SimpleNamespace(
        arrival_s=np.concatenate([w.arrival_s, f.arrival_s]),
        queue=np.concatenate([w.queue, f.queue]),
        channel=np.concatenate([w.channel, model.queue_channel[f.queue]]),
        abandon_at_s=np.concatenate([w.abandon_at_s, f.abandon_at_s]),
        closed=np.concatenate([w.closed, np.zeros(n, np.int8)]))
    oo = SimpleNamespace(**{k: np.concatenate([getattr(o, k), f.columns[k]])
                            for k in ("outcome", "agent", "start_s", "end_s")})
    return ww, oo


@pytest.mark.parametrize("engine", ENGINES)
@given(scenario=small_scenarios(max_channels=2, max_teams=2), seed=seeds())
def test_same_seed_same_outcomes(engine, scenario, seed):
    m1, w1, r1 = prepare(scenario, seed)
    m2, w2, r2 = prepare(scenario, seed)
    for key in ("arrival_s", "queue", "work_s", "abandon_at_s", "u_route", "closed"):
        assert np.array_equal(getattr(w1, key), getattr(w2, key))
    assert np.array_equal(r1.seg_start_s, r2.seg_start_s)
    o1, o2 = simulate(m1, w1, r1, engine=engine), simulate(m2, w2, r2, engine=engine)
    for key in ("outcome", "agent", "start_s", "end_s", "release_s"):
        assert np.array_equal(getattr(o1, key), getattr(o2, key), equal_nan=True)
